-- Timers: nodes of runtime 'timer' wait their metadata "seconds" after becoming ready, outside
-- the claim queue, and the sweep completes them as successes; what follows them then runs.
BEGIN;
\ir helpers.psql
SELECT plan(20);

SELECT adagio.register_agent('builder', '{debug}') AS agent \gset
-- build -> cool-down (1 hour) -> smoke-test, and build -> smoke-test as well (for its output).
SELECT adagio.start_run('{"nodes":[{"name":"build","runtime":"debug"},{"name":"cool-down","runtime":"timer","metadata":{"seconds":"3600"}},{"name":"smoke-test","runtime":"debug"}],"edges":[{"source":"build","destination":"cool-down"},{"source":"cool-down","destination":"smoke-test"},{"source":"build","destination":"smoke-test"}]}') AS run \gset

-- Claims walk the claim queue's index: its condition and theirs are the same text.
SELECT is(pg_temp.claim_names(:agent), 'build', 'a worker claims the build');
SELECT is(pg_stat_get_xact_numscans('adagio.nodes_ready'::regclass) > 0, true, 'through nodes_ready (the claim states its condition)');
SELECT is(adagio.complete(pg_temp.token_of(:run, 'build'), 'success', 'v9') ->> 'outcome', 'succeeded', 'the build succeeds');
SELECT is(pg_temp.node_states(:run), 'build=completed/success cool-down=ready smoke-test=waiting', 'the timer is ready: it runs');
SELECT is(pg_temp.claim_names(:agent), '', 'no worker claims it');
SELECT is(adagio.stats() ->> 'timers_running', '1', 'stats() counts it');
SELECT throws_ok($$SELECT adagio.register_agent('sleeper', '{timer}')$$, '22023',
  'agent "sleeper": runtimes approval and timer are the engine''s own', 'no agent may offer the timer runtime');
SELECT is(adagio.sweep() ->> 'timer_nodes_succeeded', NULL, 'a sweep within its hour leaves it');
SELECT throws_ok(format('SELECT adagio.approve(%s, %L)', :run, 'cool-down'), '42809',
  'node "cool-down" of run ' || :run || ' is not an approval gate', 'a timer is not decided by people');

-- The hour passes.
UPDATE adagio.nodes SET ready_at = ready_at - interval '1 hour' WHERE run_id = :run AND name = 'cool-down';
SELECT is(adagio.sweep() ->> 'timer_nodes_succeeded', '1', 'the next sweep after it finishes the timer');
SELECT is(pg_temp.node_states(:run), 'build=completed/success cool-down=completed/success smoke-test=ready',
          'a success: what follows it is ready');
SELECT is((SELECT inputs FROM adagio.nodes WHERE run_id = :run AND name = 'smoke-test'), '{"build": "v9", "cool-down": ""}'::jsonb,
          'it passes no output; a direct edge brings the build''s');
SELECT is((SELECT agent_id IS NULL AND finished_at - started_at >= interval '1 hour' FROM adagio.attempts
           WHERE node_id = (SELECT id FROM adagio.nodes WHERE run_id = :run AND name = 'cool-down')), true,
          'its attempt is the wait itself, with no agent');
SELECT is((SELECT string_agg(kind::text, ' ' ORDER BY id) FROM adagio.timeline(:run) WHERE node = 'cool-down'),
          'node_ready attempt_finished', 'its events');
SELECT is(pg_temp.claim_names(:agent), 'smoke-test', 'a worker claims what follows');
SELECT is(adagio.complete(pg_temp.token_of(:run, 'smoke-test'), 'success') ->> 'run_conclusion', 'success', 'and the run succeeds');

-- Cancelling a run stops its timers; a timer needs its seconds.
SELECT adagio.start_run('{"nodes":[{"name":"t","runtime":"timer","metadata":{"seconds":"60"}}]}') AS gone \gset
SELECT is(adagio.cancel_run(:gone) ->> 'nodes_cancelled', '1', 'cancel_run() cancels a running timer');
UPDATE adagio.nodes SET ready_at = ready_at - interval '1 hour' WHERE run_id = :gone;  -- as if it had run long ago
SELECT is(adagio.retry_run(:gone) ->> 'nodes_ready', '1', 'retry_run() runs it again');
SELECT is(adagio.sweep() ->> 'timer_nodes_succeeded', NULL, 'for its whole wait, from the retry on');
SELECT throws_ok($$SELECT adagio.start_run('{"nodes":[{"name":"t","runtime":"timer"}]}')$$, '22023',
  'invalid graph: node "t": a timer needs metadata "seconds" with one value: how long it waits, e.g. "3600"',
  'a timer without its seconds is refused');

SELECT * FROM finish();
ROLLBACK;

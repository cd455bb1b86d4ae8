-- Run timeouts: a graph's timeout_seconds gives each of its runs a deadline (from its start, or
-- its start_at); the sweep cancels a run still running past it, and a retry gives it a new one.
-- (now() is fixed within this transaction: deadlines are moved into the past by hand.)
BEGIN;
\ir helpers.psql
SELECT plan(24);

\set timed '{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"}],"edges":[{"source":"a","destination":"b"}],"timeout_seconds":60}'
SELECT adagio.register_agent('runner', '{debug}') AS agent \gset
SELECT adagio.start_run(:'timed') AS run \gset
SELECT is((SELECT deadline_at - now() FROM adagio.run_deadlines WHERE run_id = :run), interval '60 seconds',
  'a run of a graph with timeout_seconds gets a deadline that far from its start');
SELECT is((SELECT timeout_seconds FROM adagio.run_deadlines WHERE run_id = :run), 60, 'which keeps the timeout');
SELECT is(adagio.inspect_run(:run) -> 'timeout_seconds', '60'::jsonb, 'inspect_run() shows the timeout');
SELECT is((adagio.inspect_run(:run) ->> 'deadline_at')::timestamptz, now() + interval '60 seconds',
  'and the deadline');
SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"exec"}]}') AS untimed \gset
SELECT is((SELECT count(*)::int FROM adagio.run_deadlines WHERE run_id = :untimed), 0,
  'a run without a timeout has no deadline');
SELECT adagio.start_run(:'timed', '{}', NULL, now() + interval '1 hour') AS later \gset
SELECT is((SELECT deadline_at FROM adagio.run_deadlines WHERE run_id = :later),
  now() + interval '1 hour 60 seconds', 'a run started for later counts from its start_at');

SELECT adagio.define_workflow('timed-flow', '{"nodes":[{"name":"x","runtime":"exec"}],"timeout_seconds":60}');
SELECT adagio.start_runs('timed-flow', ARRAY['{}', '{}']::jsonb[]) AS batch \gset
SELECT is((SELECT count(*)::int FROM adagio.run_deadlines
           WHERE run_id = ANY (:'batch'::bigint[]) AND deadline_at = now() + interval '60 seconds'), 2,
  'runs of a stored workflow, started in a batch, get their deadlines too');

-- A patched run keeps its graph's timeout.
SELECT adagio.patch_run(:run, '{"nodes":[{"name":"c","runtime":"debug"}],"edges":[{"source":"a","destination":"c"}]}');
SELECT is(adagio.inspect_run(:run) -> 'timeout_seconds', '60'::jsonb, 'a patch keeps the run''s timeout');

-- Before the deadline the sweep leaves the run alone; after it, the run is cancelled.
SELECT is(pg_temp.claim_names(:agent), 'a', 'a is claimed');
SELECT pg_temp.token_of(:run, 'a') AS a_token \gset
SELECT ok(adagio.sweep() ->> 'runs_timed_out' IS NULL, 'the sweep times out nothing before the deadline');
UPDATE adagio.run_deadlines SET deadline_at = now() - interval '1 second' WHERE run_id = :run;
SELECT is(adagio.sweep() ->> 'runs_timed_out', '1', 'past the deadline, the sweep times the run out');
SELECT is((SELECT status::text FROM adagio.runs WHERE id = :run), 'cancelled', 'the run is cancelled');
SELECT is(pg_temp.node_states(:run), 'a=cancelled b=cancelled c=cancelled', 'with every unfinished node');
SELECT is((SELECT reason FROM adagio.failed_attempts WHERE run_id = :run AND attempt = 1),
  'cancelled: the run exceeded its timeout of 60 s', 'the running attempt ends as an error that says why');
SELECT is((SELECT detail ->> 'timeout_seconds' FROM adagio.events WHERE run_id = :run AND kind = 'run_cancelled'),
  '60', 'run_cancelled names the timeout');
SELECT throws_ok(format('SELECT adagio.complete(%L, ''success'')', :'a_token'), '55000', NULL,
  'the worker''s late report is refused');
SELECT is((SELECT count(*)::int FROM adagio.run_deadlines WHERE run_id = :run), 0, 'the deadline is gone');

-- A retry gives the run its whole timeout again.
SELECT adagio.retry_run(:run);
SELECT is((SELECT deadline_at - now() FROM adagio.run_deadlines WHERE run_id = :run), interval '60 seconds',
  'a retried run gets a new deadline');

-- A run that finished in time: its deadline goes at the sweep after it, and nothing else happens.
SELECT is(pg_temp.claim_names(:agent), 'a', 'a is claimed again');
SELECT adagio.complete(pg_temp.token_of(:run, 'a'), 'success', 'ok');
SELECT is(pg_temp.claim_names(:agent), 'b,c', 'then b and c');
SELECT adagio.complete(pg_temp.token_of(:run, 'b'), 'success', 'ok'), adagio.complete(pg_temp.token_of(:run, 'c'), 'success', 'ok');
UPDATE adagio.run_deadlines SET deadline_at = now() - interval '1 second' WHERE run_id = :run;
-- (The sweep in a statement of its own: a statement does not see what a function in it wrote.)
SELECT coalesce(adagio.sweep() ->> 'runs_timed_out', 'none') AS timed_out \gset
SELECT ok(:'timed_out' = 'none'
          AND (SELECT status::text || ' ' || conclusion::text FROM adagio.runs WHERE id = :run) = 'completed success'
          AND NOT EXISTS (SELECT FROM adagio.run_deadlines WHERE run_id = :run),
  'a run that finished in time stays as it ended, and its deadline goes');

-- The purge takes a finished run's deadline with it.
SELECT adagio.start_run(:'timed') AS run2 \gset
SELECT adagio.cancel_run(:run2);
UPDATE adagio.runs SET created_at = created_at - interval '1 hour', finished_at = finished_at - interval '1 hour'
WHERE id = :run2;
SELECT adagio.purge_runs(interval '1 minute');
SELECT is((SELECT count(*)::int FROM adagio.run_deadlines WHERE run_id = :run2), 0, 'purging a run deletes its deadline');

-- A bad timeout is refused, naming it, and writes nothing.
SELECT count(*) AS runs_before FROM adagio.runs \gset
SELECT throws_ok($$SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"}],"timeout_seconds":0}')$$,
  '22023', 'invalid graph: graph: timeout_seconds must be an integer from 1 to 31536000 (365 days), got 0',
  'timeout_seconds must be from 1 s to 365 days');
SELECT is((SELECT count(*) FROM adagio.runs), :runs_before::bigint, 'and the refused graph left no run behind');

SELECT * FROM finish();
ROLLBACK;

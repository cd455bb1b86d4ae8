-- Approval gates: nodes of runtime 'approval' wait, outside the claim queue, until approve() or
-- reject() decides them (or their timeout passes); a decision follows the rules of an attempt.
BEGIN;
\ir helpers.psql
SELECT plan(45);

SELECT adagio.register_agent('builder', '{debug}') AS agent \gset
-- build -> sign-off -> deploy; the gate carries a message for whoever decides it.
\set gated '{"nodes":[{"name":"build","runtime":"debug"},{"name":"sign-off","runtime":"approval","metadata":{"message":"Ship it?"}},{"name":"deploy","runtime":"debug"}],"edges":[{"source":"build","destination":"sign-off"},{"source":"sign-off","destination":"deploy"}]}'
SELECT adagio.start_run(:'gated') AS run \gset

SELECT throws_ok(format('SELECT adagio.approve(%s, %L)', :run, 'sign-off'),
  '55000', 'approval gate "sign-off" of run ' || :run || ' is not open',
  'a gate whose upstream has not succeeded cannot be decided yet');
SELECT is(pg_temp.claim_names(:agent), 'build', 'a worker claims the build');
SELECT is(adagio.complete(pg_temp.token_of(:run, 'build'), 'success', 'v1.2') ->> 'outcome', 'succeeded', 'the build succeeds');
SELECT is(pg_temp.node_states(:run), 'build=completed/success deploy=waiting sign-off=ready', 'the gate is open (ready)');
SELECT is(pg_temp.claim_names(:agent), '', 'no worker claims it');
SELECT ok((SELECT indexdef LIKE '%WHERE ((state = ''ready''::adagio.node_state) AND (runtime <> ALL (ARRAY[''approval''::text, ''timer''::text])))'
           FROM pg_indexes WHERE schemaname = 'adagio' AND indexname = 'nodes_ready'),
          'the claim queue''s index leaves gates out, so claims never walk past them');
SELECT is((SELECT node || ' ' || (metadata -> 'message' ->> 'values') || ' ' || (inputs ->> 'build') || ' attempt ' || attempt
           || ' ' || coalesce(deadline::text, 'no deadline') FROM adagio.open_gates WHERE run_id = :run),
          'sign-off ["Ship it?"] v1.2 attempt 1 no deadline', 'open_gates shows it, its message and its inputs');
SELECT is((adagio.stats() ->> 'approval_gates_open')::int >= 1, true, 'stats() counts open gates');
SELECT throws_ok($$SELECT adagio.register_agent('impostor', '{debug,approval}')$$, '22023',
  'agent "impostor": runtimes approval and timer are the engine''s own', 'no agent may offer the approval runtime');

-- Wrong targets.
SELECT throws_ok(format('SELECT adagio.approve(%s, %L)', :run, 'deploy'), '42809',
  'node "deploy" of run ' || :run || ' is not an approval gate', 'a worker''s node is not decided by approve()');
SELECT throws_ok(format('SELECT adagio.approve(%s, %L)', :run, 'nope'), '42704',
  'run ' || :run || ' has no node "nope"', 'an unknown node is named');
SELECT throws_ok($$SELECT adagio.reject(-1, 'sign-off')$$, '42704', 'run -1 does not exist', 'an unknown run too');
SELECT throws_ok($$SELECT adagio.approve(NULL, 'sign-off')$$, '22004', 'run_id must not be NULL', 'NULL is refused');

-- Approval: a success whose output flows downstream; the decider is logged.
SELECT is(adagio.approve(:run, 'sign-off', 'approved by the release manager') ->> 'outcome', 'succeeded', 'approve() succeeds the gate');
SELECT is(pg_temp.node_states(:run), 'build=completed/success deploy=ready sign-off=completed/success', 'and deploy is ready');
SELECT is((SELECT inputs ->> 'sign-off' FROM adagio.nodes WHERE run_id = :run AND name = 'deploy'),
          'approved by the release manager', 'with the approval''s output as its input');
SELECT is((SELECT (detail ->> 'decision') || ' by ' || (detail ->> 'by') FROM adagio.timeline(:run) WHERE kind = 'node_decided'),
          'approved by ' || session_user, 'the timeline says who decided');
SELECT is((SELECT string_agg(kind::text, ' ' ORDER BY id) FROM adagio.timeline(:run) WHERE node = 'sign-off'),
          'node_ready node_decided attempt_finished', 'the gate''s events');
SELECT is((SELECT conclusion || ' agent=' || coalesce(agent_id::text, 'none') || ' ' || (started_at = ready_at)
           FROM adagio.attempts WHERE node_id = (SELECT id FROM adagio.nodes WHERE run_id = :run AND name = 'sign-off')),
          'success agent=none true', 'its attempt ran from its opening to the decision, with no agent');
SELECT throws_ok(format('SELECT adagio.approve(%s, %L)', :run, 'sign-off'), '55000',
  'approval gate "sign-off" of run ' || :run || ' is not open', 'a gate is decided once');
SELECT is(pg_temp.claim_names(:agent), 'deploy', 'deploy goes to a worker');
SELECT is(adagio.complete(pg_temp.token_of(:run, 'deploy'), 'success') ->> 'run_conclusion', 'success', 'and the run succeeds');

-- Rejection: a fail attempt; the gate's retry policy opens it again.
SELECT adagio.start_run('{"nodes":[{"name":"gate","runtime":"approval","retry":{"fail":{"max_attempts":2}}},{"name":"after","runtime":"debug"}],"edges":[{"source":"gate","destination":"after"}]}') AS rej \gset
SELECT is(adagio.reject(:rej, 'gate', 'not on a Friday') ->> 'outcome', 'retrying', 'a rejection is a fail attempt; the retry policy applies');
SELECT is(pg_temp.node_states(:rej), 'after=waiting gate=ready', 'the gate is open again');
SELECT is((SELECT attempt FROM adagio.open_gates WHERE run_id = :rej), 2, 'for its second attempt');
SELECT throws_ok(format('SELECT adagio.approve(%s, %L, NULL, 1)', :rej, 'gate'), '55000',
  'approval gate "gate" of run ' || :rej || ' is open for attempt 2, not 1',
  'a decision made on the first opening is refused on the second');
SELECT is(adagio.reject(:rej, 'gate', 'still no', 2) ->> 'run_conclusion', 'failed', 'the second rejection fails the run');
SELECT is(pg_temp.node_states(:rej), 'after=completed/never_reached gate=completed/fail', 'and nothing downstream runs');
SELECT is((SELECT string_agg(conclusion || ':' || output, ', ' ORDER BY attempt) FROM adagio.attempts
           WHERE node_id = (SELECT id FROM adagio.nodes WHERE run_id = :rej AND name = 'gate')),
          'fail:not on a Friday, fail:still no', 'each rejection''s reason is its attempt''s output');
SELECT throws_ok(format('SELECT adagio.approve(%s, %L)', :rej, 'gate'), '55000', NULL, 'a rejected gate is closed');
-- retry_run() of a run a gate failed opens the gate again, with a fresh deadline and count.
SELECT is(adagio.retry_run(:rej) ->> 'nodes_ready', '1', 'retry_run() opens the gate again');
SELECT is((SELECT attempt || ' ' || (opened_at >= now()) FROM adagio.open_gates WHERE run_id = :rej), '3 true',
          'for its third attempt, opened now');
SELECT is(adagio.approve(:rej, 'gate', 'fine', 3) ->> 'outcome', 'succeeded', 'and this time it is approved');

-- A deadline: the sweep concludes a gate left open past its timeout_seconds as an error.
SELECT adagio.start_run('{"nodes":[{"name":"gate","runtime":"approval","timeout_seconds":3600,"retry":{"error":{"max_attempts":2}}}]}') AS late \gset
SELECT is((SELECT deadline = opened_at + interval '1 hour' FROM adagio.open_gates WHERE run_id = :late), true, 'open_gates gives the deadline');
SELECT is(adagio.sweep() ->> 'gates_expired', NULL, 'a gate within its time stays open');
UPDATE adagio.nodes SET ready_at = ready_at - interval '2 hours' WHERE run_id = :late;
SELECT is(adagio.sweep() ->> 'gates_expired', '1', 'past it, the sweep concludes it');
SELECT is((SELECT conclusion || ': ' || reason FROM adagio.attempts
           WHERE node_id = (SELECT id FROM adagio.nodes WHERE run_id = :late AND name = 'gate')),
          'error: not decided within the gate''s timeout of 3600 s', 'as an error that names the timeout');
SELECT is(pg_temp.node_states(:late), 'gate=ready', 'its retry policy for error opens it again');
SELECT is(adagio.approve(:late, 'gate') ->> 'run_conclusion', 'success', 'and the second opening can be approved');

-- Cancelling a run closes its open gates.
SELECT adagio.start_run('{"nodes":[{"name":"gate","runtime":"approval"}]}') AS gone \gset
SELECT is(adagio.cancel_run(:gone) ->> 'nodes_cancelled', '1', 'cancel_run() cancels an open gate');
SELECT throws_ok(format('SELECT adagio.approve(%s, %L)', :gone, 'gate'), '55000',
  'approval gate "gate" of run ' || :gone || ' is not open', 'which can no longer be decided');

-- Graph rules, and who may decide.
SELECT throws_ok($$SELECT adagio.start_run('{"nodes":[{"name":"g","runtime":"approval","lease_seconds":60}]}')$$, '22023',
  'invalid graph: node "g": lease_seconds does not apply to an approval gate (no worker claims it); timeout_seconds sets how long it stays open',
  'a gate has no lease');
SELECT adagio.start_run('{"nodes":[{"name":"gate","runtime":"approval"}]}') AS guarded \gset
CREATE ROLE tap_gate_reader LOGIN IN ROLE adagio_reader;
CREATE ROLE tap_gate_worker LOGIN IN ROLE adagio_worker;
CREATE ROLE tap_gate_operator LOGIN IN ROLE adagio_operator;
SET ROLE tap_gate_reader;
SELECT throws_ok(format('SELECT adagio.approve(%s, %L)', :guarded, 'gate'), '42501', NULL, 'a reader may not decide');
RESET ROLE;
SET ROLE tap_gate_worker;
SELECT throws_ok(format('SELECT adagio.reject(%s, %L)', :guarded, 'gate'), '42501', NULL, 'nor may a worker');
RESET ROLE;
SET ROLE tap_gate_operator;
SELECT lives_ok(format('SELECT adagio.approve(%s, %L)', :guarded, 'gate'), 'an operator may');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

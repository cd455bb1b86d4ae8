-- conclude_node(): an operator concludes a node as its function would have: a ready node, one
-- waiting out a backoff, or a running one (whose worker loses its claim). The retry policy applies
-- as to any report; waiting, completed and approval nodes are refused, naming why.
BEGIN;
\ir helpers.psql
SELECT plan(22);

SELECT adagio.register_agent('w', '{debug}') AS agent \gset
SELECT adagio.start_run('{"nodes":[{"name":"stuck","runtime":"debug"},{"name":"next","runtime":"debug"},
  {"name":"flaky","runtime":"debug","retry":{"error":{"max_attempts":2,"backoff":{"initial_delay_seconds":3600}}}},
  {"name":"gate","runtime":"approval"}],
  "edges":[{"source":"stuck","destination":"next"}]}') AS run \gset

-- A running node: its worker's claim is taken, and the success goes downstream.
SELECT is(pg_temp.claim_names(:agent, 2), 'flaky,stuck', 'the worker claims stuck and flaky');
SELECT pg_temp.token_of(:run, 'stuck') AS stuck_token \gset
SELECT is(adagio.conclude_node(:run, 'stuck', 'success', 'done by hand') ->> 'outcome', 'succeeded',
  'an operator concludes the running node with success');
SELECT is((SELECT output FROM adagio.nodes WHERE run_id = :run AND name = 'stuck'), 'done by hand', 'with the output given');
SELECT is((SELECT state::text FROM adagio.nodes WHERE run_id = :run AND name = 'next'), 'ready', 'which goes downstream');
SELECT is((SELECT inputs ->> 'stuck' FROM adagio.nodes WHERE run_id = :run AND name = 'next'), 'done by hand',
  'as the next node''s input');
SELECT is(adagio.heartbeat(:agent, ARRAY[:'stuck_token']::uuid[]), ARRAY[:'stuck_token']::uuid[],
  'the worker learns at its heartbeat that it lost the claim');
SELECT throws_ok(format('SELECT adagio.complete(%L, ''success'', ''late'')', :'stuck_token'), '55000', NULL,
  'and its late report is refused');
SELECT is((SELECT detail FROM adagio.events WHERE run_id = :run AND kind = 'node_concluded'),
  jsonb_build_object('conclusion', 'success', 'by', session_user, 'was', 'running'), 'node_concluded says who, and what');

-- An error: the retry policy applies (a backoff of an hour); concluding the backing-off node ends the wait.
SELECT is(adagio.conclude_node(:run, 'flaky', 'error', 'kicked') ->> 'outcome', 'retrying', 'an error is retried by its policy');
SELECT is((SELECT state::text FROM adagio.nodes WHERE run_id = :run AND name = 'flaky'), 'scheduled', 'after its backoff');
SELECT is((SELECT reason FROM adagio.failed_attempts WHERE run_id = :run AND attempt = 1 AND conclusion = 'error'),
  'concluded by ' || session_user, 'the attempt says who concluded it');
SELECT is(adagio.conclude_node(:run, 'flaky', 'success', 'fine') ->> 'outcome', 'succeeded',
  'a node waiting out a backoff can be concluded too');
SELECT is((SELECT attempt_count FROM adagio.nodes WHERE run_id = :run AND name = 'flaky'), 2, 'as its next attempt');

-- A ready node, claimed by nobody yet.
SELECT is(adagio.conclude_node(:run, 'next', 'fail', 'not today') ->> 'outcome', 'failed', 'a ready node is concluded too');

-- Refusals.
SELECT throws_ok(format('SELECT adagio.conclude_node(%s, ''next'', ''success'')', :run), '55000',
  format('node "next" of run %s cannot be concluded now', :run), 'a completed node is refused');
SELECT throws_ok(format('SELECT adagio.conclude_node(%s, ''gate'', ''success'')', :run), '42809',
  format('node "gate" of run %s is an approval gate', :run), 'an approval gate is decided with approve() or reject()');
SELECT throws_ok(format('SELECT adagio.conclude_node(%s, ''nope'', ''success'')', :run), '42704',
  format('run %s has no node "nope"', :run), 'an unknown node');
SELECT throws_ok(format('SELECT adagio.conclude_node(%s, ''gate'', ''maybe'')', :run), '22023',
  'conclusion must be success, fail or error, got "maybe"', 'an unknown conclusion');
SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"}],
  "edges":[{"source":"a","destination":"b"}]}') AS run2 \gset
SELECT throws_ok(format('SELECT adagio.conclude_node(%s, ''b'', ''success'')', :run2), '55000', NULL,
  'a node still waiting for its upstream is refused');

-- A timer stops waiting.
SELECT adagio.start_run('{"nodes":[{"name":"pause","runtime":"timer","metadata":{"seconds":"3600"}}]}') AS run3 \gset
SELECT is(adagio.conclude_node(:run3, 'pause', 'success') ->> 'run_status', 'completed',
  'a timer concluded by hand ends its wait (and here its run)');

-- Operators conclude nodes; workers and readers do not.
SET LOCAL ROLE adagio_worker;
SELECT throws_ok(format('SELECT adagio.conclude_node(%s, ''a'', ''success'')', :run2), '42501', NULL, 'not a worker');
RESET ROLE;
SET LOCAL ROLE adagio_operator;
SELECT is(adagio.conclude_node(:run2, 'a', 'success') ->> 'outcome', 'succeeded', 'an operator does');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

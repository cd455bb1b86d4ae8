-- Retry rules of the original Adagio: max_attempts counts the attempts that ended in that
-- conclusion, in total; a retried node goes back to ready; every attempt is kept.
BEGIN;
\ir helpers.psql
SELECT plan(13);

SELECT adagio.register_agent('tap', '{debug}') AS agent \gset
SELECT adagio.start_run('{"nodes":[{"name":"flaky","runtime":"debug","retry":{"error":{"max_attempts":3},"fail":{"max_attempts":2}}}]}') AS run \gset

SELECT pg_temp.claim_names(:agent);
SELECT is(adagio.complete(pg_temp.token_of(:run, 'flaky'), 'error', 'e1') ->> 'outcome', 'retrying', 'first error: retried');
SELECT is(pg_temp.node_states(:run), 'flaky=ready', 'a retried node is ready again');
SELECT is(pg_temp.claim_names(:agent), 'flaky', 'and can be claimed again');
SELECT is((SELECT attempt_count FROM adagio.nodes WHERE run_id = :run), 2, 'second attempt');
SELECT is(adagio.complete(pg_temp.token_of(:run, 'flaky'), 'fail', 'f1') ->> 'outcome', 'retrying', 'first fail: retried (counted apart from errors)');
SELECT pg_temp.claim_names(:agent);
SELECT is(adagio.complete(pg_temp.token_of(:run, 'flaky'), 'error', 'e2') ->> 'outcome', 'retrying', 'second error: retried (3 allowed)');
SELECT pg_temp.claim_names(:agent);
SELECT is(adagio.complete(pg_temp.token_of(:run, 'flaky'), 'success', 'finally') ->> 'run_conclusion', 'success',
  'success after retries concludes the run success');
SELECT results_eq(
  $$SELECT t.attempt, t.conclusion, t.output FROM adagio.attempts t JOIN adagio.nodes n ON n.id = t.node_id
    WHERE n.run_id = $$ || :run || $$ ORDER BY t.attempt$$,
  $$VALUES (1, 'error'::adagio.attempt_conclusion, 'e1'::text), (2, 'fail', 'f1'), (3, 'error', 'e2'), (4, 'success', 'finally')$$,
  'every attempt is kept with its conclusion and output');
SELECT ok((SELECT bool_and(started_at <= finished_at AND agent_id = :agent) FROM adagio.attempts WHERE run_id = :run),
  'attempts record the agent and their start and finish');

-- Exhausted: {"error":{"max_attempts":2}} allows exactly two attempts ending in error.
SELECT adagio.start_run('{"nodes":[{"name":"x","runtime":"debug","retry":{"error":{"max_attempts":2}}},{"name":"y","runtime":"debug"}],"edges":[{"source":"x","destination":"y"}]}') AS run2 \gset
SELECT pg_temp.claim_names(:agent);
SELECT is(adagio.complete(pg_temp.token_of(:run2, 'x'), 'error', 'boom 1') ->> 'outcome', 'retrying', 'first of two errors: retried');
SELECT pg_temp.claim_names(:agent);
SELECT is(adagio.complete(pg_temp.token_of(:run2, 'x'), 'error', 'boom 2') ->> 'outcome', 'failed', 'second error: retries exhausted');
SELECT is(pg_temp.node_states(:run2), 'x=completed/error y=completed/never_reached', 'downstream never reached');

-- No policy for fail: a single fail finishes the node even though errors would be retried.
SELECT adagio.start_run('{"nodes":[{"name":"z","runtime":"debug","retry":{"error":{"max_attempts":5}}}]}') AS run3 \gset
SELECT pg_temp.claim_names(:agent);
SELECT is(adagio.complete(pg_temp.token_of(:run3, 'z'), 'fail', 'no') ->> 'outcome', 'failed', 'fail is not retried by an error policy');

SELECT * FROM finish();
ROLLBACK;

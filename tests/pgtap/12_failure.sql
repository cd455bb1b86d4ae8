-- A node that fails with no retry left finishes as failed, every node downstream of it is never
-- reached, independent branches still run, and the run completes with conclusion failed.
BEGIN;
\ir helpers.psql
SELECT plan(9);

SELECT adagio.register_agent('tap', '{debug}') AS agent \gset
SELECT adagio.start_run(:'example') AS run \gset
SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete(pg_temp.token_of(:run, 'a'), 'success', 'A');
SELECT adagio.complete(pg_temp.token_of(:run, 'b'), 'success', 'B');
SELECT is(pg_temp.claim_names(:agent), 'c,d,f', 'second layer claimed');

SELECT is(adagio.complete(pg_temp.token_of(:run, 'd'), 'fail', 'd broke') ->> 'outcome', 'failed',
  'fail with no retry policy finishes the node');
SELECT is(pg_temp.node_states(:run),
  'a=completed/success b=completed/success c=running d=completed/fail e=completed/never_reached f=running g=completed/never_reached',
  'everything downstream of d is never reached; c and f keep running');
SELECT is((SELECT status FROM adagio.runs WHERE id = :run), 'running', 'the run goes on while c and f run');
SELECT is((SELECT attempt_count FROM adagio.nodes WHERE run_id = :run AND name = 'e'), 0, 'never-reached nodes have no attempts');

SELECT adagio.complete(pg_temp.token_of(:run, 'c'), 'success', 'C');
SELECT is(pg_temp.claim_names(:agent), '', 'c succeeding readies nothing: e is never reached');
SELECT adagio.complete(pg_temp.token_of(:run, 'f'), 'success', 'F') AS last \gset
SELECT is((:'last'::jsonb) ->> 'run_status', 'completed', 'the run completes once every node is completed');
SELECT is((:'last'::jsonb) ->> 'run_conclusion', 'failed', 'and concludes failed');
SELECT is((SELECT output FROM adagio.nodes WHERE run_id = :run AND name = 'd'), 'd broke', 'the failing output is kept');

SELECT * FROM finish();
ROLLBACK;

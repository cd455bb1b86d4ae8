-- Layered readiness on the seed's example graph: roots start ready, the rest waiting, and each
-- node becomes ready only once every upstream node succeeded.
BEGIN;
\ir helpers.psql
SELECT plan(13);

SELECT adagio.register_agent('tap', '{debug}') AS agent \gset
SELECT adagio.start_run(:'example') AS run \gset

SELECT is(pg_temp.node_states(:run),
  'a=ready b=ready c=waiting d=waiting e=waiting f=waiting g=waiting', 'roots start ready, the rest waiting');
SELECT is((SELECT status FROM adagio.runs WHERE id = :run), 'running', 'a new run is running (its roots are ready)');
SELECT ok((SELECT started_at = created_at FROM adagio.runs WHERE id = :run), 'a run starts when it is created');

SELECT is(pg_temp.claim_names(:agent), 'a,b', 'only the roots are claimable');
SELECT is((SELECT status FROM adagio.runs WHERE id = :run), 'running', 'and stays running once claimed');
SELECT is(pg_temp.claim_names(:agent), '', 'a running node is not handed out twice');

SELECT adagio.complete(pg_temp.token_of(:run, 'a'), 'success', 'A');
SELECT is(pg_temp.node_states(:run),
  'a=completed/success b=running c=ready d=waiting e=waiting f=waiting g=waiting',
  'a succeeding readies c (only upstream a) but not d (also needs b)');

SELECT adagio.complete(pg_temp.token_of(:run, 'b'), 'success', 'B');
SELECT is(pg_temp.claim_names(:agent), 'c,d,f', 'b succeeding readies d and f');

SELECT adagio.complete(pg_temp.token_of(:run, 'c'), 'success', 'C');
SELECT is((SELECT state FROM adagio.nodes WHERE run_id = :run AND name = 'e'), 'waiting', 'e waits for d as well');
SELECT adagio.complete(pg_temp.token_of(:run, 'd'), 'success', 'D');
SELECT adagio.complete(pg_temp.token_of(:run, 'f'), 'success', 'F');
SELECT is(pg_temp.claim_names(:agent), 'e', 'e is ready once c and d succeeded; g still waits for e');
SELECT adagio.complete(pg_temp.token_of(:run, 'e'), 'success', 'E');
SELECT is(pg_temp.claim_names(:agent), 'g', 'g is last');
SELECT is(adagio.complete(pg_temp.token_of(:run, 'g'), 'success', 'G') ->> 'run_status', 'completed',
  'the last success completes the run');
SELECT results_eq(
  $$SELECT status, conclusion, nodes_remaining FROM adagio.runs WHERE id = $$ || :run,
  $$VALUES ('completed'::adagio.run_status, 'success'::adagio.run_conclusion, 0)$$,
  'the run concluded success');

SELECT * FROM finish();
ROLLBACK;

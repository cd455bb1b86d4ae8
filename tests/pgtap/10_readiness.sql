-- Layered readiness on the seed's example graph: roots start ready, the rest waiting, and each
-- node becomes ready only once every upstream node succeeded.
BEGIN;
\ir helpers.psql
SELECT plan(15);

SELECT adagio.register_agent('tap', '{debug}') AS agent \gset
SELECT adagio.start_run(:'example') AS run \gset

SELECT is(pg_temp.node_states(:run),
  'a=ready b=ready c=waiting d=waiting e=waiting f=waiting g=waiting', 'roots start ready, the rest waiting');
SELECT is((SELECT status FROM adagio.runs WHERE id = :run), 'running', 'a new run is running (its roots are ready)');
SELECT ok((SELECT started_at = created_at FROM adagio.runs WHERE id = :run), 'a run starts when it is created');

SELECT is(pg_temp.claim_names(:agent), 'a,b', 'only the roots are claimable');
SELECT is((SELECT status FROM adagio.runs WHERE id = :run), 'running', 'and stays running once claimed');
SELECT is(pg_temp.claim_names(:agent), '', 'a running node is not handed out twice');

SELECT is(adagio.complete(pg_temp.token_of(:run, 'a'), 'success', 'A'),
  jsonb_build_object('run_id', :run, 'node', 'a', 'conclusion', 'success', 'outcome', 'succeeded',
                     'run_status', 'running', 'run_conclusion', NULL),
  'complete() returns the node, its outcome and the state of its run');
SELECT is(pg_temp.node_states(:run),
  'a=completed/success b=running c=ready d=waiting e=waiting f=waiting g=waiting',
  'a succeeding readies c (only upstream a) but not d (also needs b)');
SELECT results_eq(
  $$SELECT kind::text, node FROM adagio.events WHERE run_id = $$ || :run || $$ AND kind <> 'node_claimed' ORDER BY id$$,
  $$VALUES ('run_started', NULL::text), ('node_ready', 'a'), ('node_ready', 'b'), ('attempt_finished', 'a'), ('node_ready', 'c')$$,
  'its events: the attempt, then the node it made ready');

SELECT adagio.complete(pg_temp.token_of(:run, 'b'), 'success', 'B');
SELECT is(pg_temp.claim_names(:agent), 'c,d,f', 'b succeeding readies d and f');

SELECT adagio.complete(pg_temp.token_of(:run, 'c'), 'success', 'C');
SELECT is((SELECT state FROM adagio.nodes WHERE run_id = :run AND name = 'e'), 'waiting', 'e waits for d as well');
SELECT adagio.complete(pg_temp.token_of(:run, 'd'), 'success', 'D');
SELECT adagio.complete(pg_temp.token_of(:run, 'f'), 'success', 'F');
SELECT is(pg_temp.claim_names(:agent), 'e', 'e is ready once c and d succeeded; g still waits for e');
SELECT adagio.complete(pg_temp.token_of(:run, 'e'), 'success', 'E');
SELECT is(pg_temp.claim_names(:agent), 'g', 'g is last');
SELECT is(adagio.complete(pg_temp.token_of(:run, 'g'), 'success', 'G') - 'run_id',
  '{"node": "g", "conclusion": "success", "outcome": "succeeded", "run_status": "completed",
    "run_conclusion": "success"}'::jsonb,
  'the last success completes the run, and says so');
SELECT results_eq(
  $$SELECT status, conclusion, nodes_remaining FROM adagio.runs WHERE id = $$ || :run,
  $$VALUES ('completed'::adagio.run_status, 'success'::adagio.run_conclusion, 0)$$,
  'the run concluded success');

SELECT * FROM finish();
ROLLBACK;

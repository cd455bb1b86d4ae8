-- Outputs flow downstream keyed by upstream name; run inputs and node arguments reach the claim.
BEGIN;
\ir helpers.psql
SELECT plan(8);

SELECT adagio.register_agent('tap', '{debug}') AS agent \gset
SELECT adagio.start_run(:'example', '{"who": "world", "n": 3}') AS run \gset

SELECT adagio.claim(:agent, 10) AS first \gset
SELECT is(jsonb_array_length(:'first'), 2, 'two roots claimed');
SELECT is((:'first'::jsonb) -> 0 -> 'run_inputs', '{"who": "world", "n": 3}'::jsonb, 'run inputs travel with the claim');
SELECT is((:'first'::jsonb) -> 0 -> 'inputs', '{}'::jsonb, 'roots have no upstream inputs');
SELECT is(((:'first'::jsonb) -> 0 ->> 'attempt')::int, 1, 'first attempt is number 1');

SELECT adagio.complete(pg_temp.token_of(:run, 'a'), 'success', 'out of a');
SELECT adagio.complete(pg_temp.token_of(:run, 'b'), 'success', 'out of b');
SELECT adagio.claim(:agent, 10) AS second \gset
SELECT is((SELECT c -> 'inputs' FROM jsonb_array_elements(:'second') c WHERE c ->> 'name' = 'd'),
  '{"a": "out of a", "b": "out of b"}'::jsonb, 'd gets both upstream outputs by upstream name');
SELECT is((SELECT c -> 'inputs' FROM jsonb_array_elements(:'second') c WHERE c ->> 'name' = 'c'),
  '{"a": "out of a"}'::jsonb, 'c gets only a');

SELECT adagio.start_run('{"nodes":[{"name":"x","runtime":"debug","metadata":{"sleep":{"values":["1s"]},"chances":["0.5 fail","0.1 error"]}}]}') AS run2 \gset
SELECT adagio.claim(:agent, 10) AS third \gset
SELECT is((SELECT c -> 'metadata' FROM jsonb_array_elements(:'third') c WHERE c ->> 'name' = 'x'),
  '{"sleep": ["1s"], "chances": ["0.5 fail", "0.1 error"]}'::jsonb, 'node arguments arrive as lists of values');
SELECT is((SELECT inputs FROM adagio.nodes WHERE run_id = :run AND name = 'd'),
  '{"a": "out of a", "b": "out of b"}'::jsonb, 'inputs are kept on the node');

SELECT * FROM finish();
ROLLBACK;

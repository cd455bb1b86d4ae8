-- Introspection as plain SQL: list_runs, inspect_run, list_agents, stats and the views.
BEGIN;
\ir helpers.psql
SELECT plan(15);

SELECT adagio.register_agent('tap', '{debug}', '{"hostname": "here"}') AS agent \gset
SELECT adagio.start_run('{"nodes":[{"name":"only","runtime":"debug"}]}') AS r1 \gset
SELECT adagio.start_run('{"nodes":[{"name":"only","runtime":"debug"}]}') AS r2 \gset
SELECT adagio.start_run(:'example', '{"k": 1}') AS r3 \gset
-- Runs created at distinct times so the window and order are meaningful within one transaction.
UPDATE adagio.runs SET created_at = now() - interval '3 hours' WHERE id = :r1;
UPDATE adagio.runs SET created_at = now() - interval '2 hours' WHERE id = :r2;

SELECT results_eq('SELECT id FROM adagio.list_runs()', format('VALUES (%s::bigint), (%s), (%s)', :r3, :r2, :r1),
  'list_runs is newest first');
SELECT results_eq('SELECT id FROM adagio.list_runs(max_runs => 1)', format('VALUES (%s::bigint)', :r3), 'and honours the limit');
SELECT results_eq($$SELECT id FROM adagio.list_runs(since => now() - interval '150 minutes', until => now() - interval '1 hour')$$,
  format('VALUES (%s::bigint)', :r2), 'and the time window');
SELECT is((SELECT count(*) FROM adagio.list_runs(status => 'completed')), 0::bigint, 'and a status filter');

SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete(pg_temp.token_of(:r3, 'a'), 'success', 'A');
SELECT adagio.inspect_run(:r3) AS doc \gset
SELECT is((:'doc'::jsonb) ->> 'status', 'running', 'inspect_run has the status');
SELECT is(jsonb_array_length((:'doc'::jsonb) -> 'nodes'), 7, 'all nodes');
SELECT is(jsonb_array_length((:'doc'::jsonb) -> 'edges'), 8, 'all edges');
SELECT is((SELECT n -> 'attempts' -> 0 ->> 'conclusion' FROM jsonb_array_elements((:'doc'::jsonb) -> 'nodes') n WHERE n ->> 'name' = 'a'),
  'success', 'attempts per node');
SELECT is((SELECT n -> 'inputs' FROM jsonb_array_elements((:'doc'::jsonb) -> 'nodes') n WHERE n ->> 'name' = 'c'),
  '{"a": "A"}'::jsonb, 'inputs per node');
SELECT throws_ok('SELECT adagio.inspect_run(-1)', '42704', 'run -1 does not exist', 'an unknown run is a clear error');

SELECT results_eq('SELECT name, runtimes, status FROM adagio.list_agents()', $$VALUES ('tap'::text, '{debug}'::text[], 'active'::text)$$,
  'list_agents shows runtimes and status');
SELECT is(adagio.stats() -> 'runs', '{"total": 3, "running": 3, "completed": 0, "cancelled": 0, "succeeded": 0, "failed": 0}'::jsonb,
  'stats counts runs by status');
SELECT adagio.complete(pg_temp.token_of(:r1, 'only'), 'fail', 'no');
SELECT is(adagio.stats() -> 'nodes',
  '{"total": 9, "waiting": 4, "ready": 1, "scheduled": 0, "running": 2, "completed": 2, "cancelled": 0}'::jsonb,
  'and nodes by state');
SELECT is(adagio.stats() -> 'node_conclusions', '{"success": 1, "fail": 1, "error": 0, "never_reached": 0}'::jsonb,
  'and completed nodes by conclusion');
SELECT is((SELECT nodes_done FROM adagio.run_overview WHERE id = :r3), 1, 'run_overview counts nodes done');

SELECT * FROM finish();
ROLLBACK;

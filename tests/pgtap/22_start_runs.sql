-- start_runs(): many runs of a stored workflow in one call are exactly as many start_workflow()
-- calls: same rows, same timelines, ids in the order of the inputs; bad input writes nothing.
BEGIN;
\ir helpers.psql
SELECT plan(19);

SELECT adagio.define_workflow('fan', :'example');

SELECT adagio.start_runs('fan', ARRAY['{"n": 1}', NULL, '{"n": 3}']::jsonb[]) AS ids \gset
SELECT is(cardinality(:'ids'::bigint[]), 3, 'one run per element of inputs');
SELECT is((SELECT array_agg(inputs ORDER BY id) FROM adagio.runs WHERE id = ANY (:'ids'::bigint[])),
  ARRAY['{"n": 1}', '{}', '{"n": 3}']::jsonb[], 'ids come back in the order of inputs; a NULL element means no inputs');
SELECT ok((SELECT bool_and(workflow_name = 'fan' AND workflow_version = 1 AND status = 'running' AND node_count = 7
                           AND nodes_remaining = 7)
           FROM adagio.runs WHERE id = ANY (:'ids'::bigint[])), 'each run names its workflow and counts its nodes');

-- The same rows as a run started alone.
SELECT adagio.start_workflow('fan', '{"n": 1}') AS single \gset
SELECT is(pg_temp.node_states((:'ids'::bigint[])[1]), pg_temp.node_states(:single), 'the same node states as start_workflow()');
SELECT is((SELECT array_agg(name || ':' || position || ':' || upstream_pending || ':' || runtime ORDER BY position)
           FROM adagio.nodes WHERE run_id = (:'ids'::bigint[])[3]),
          (SELECT array_agg(name || ':' || position || ':' || upstream_pending || ':' || runtime ORDER BY position)
           FROM adagio.nodes WHERE run_id = :single), 'the same nodes, positions and upstream counts');
SELECT is((SELECT array_agg(source || '>' || destination ORDER BY source, destination) FROM adagio.edges
           WHERE run_id = (:'ids'::bigint[])[2]),
          (SELECT array_agg(source || '>' || destination ORDER BY source, destination) FROM adagio.edges
           WHERE run_id = :single), 'the same edges');
SELECT is((SELECT array_agg(kind || ':' || coalesce(node, '-') ORDER BY id) FROM adagio.timeline((:'ids'::bigint[])[2])),
          (SELECT array_agg(kind || ':' || coalesce(node, '-') ORDER BY id) FROM adagio.timeline(:single)),
  'the same timeline: run_started, then the roots'' node_ready');
SELECT is((SELECT count(*)::int FROM adagio.events WHERE run_id = ANY (:'ids'::bigint[]) AND kind = 'run_started'), 3,
  'one run_started per run');

-- Runs of a batch are independent: claimable like any other, in order.
SELECT adagio.register_agent('batch-starter', '{debug}') AS agent \gset
SELECT is((SELECT count(*)::int FROM json_array_elements(adagio.claim(:agent, 100))), 8,
  'the roots of all four runs are claimable (two each)');

-- Empty and bad input.
SELECT is(adagio.start_runs('fan', '{}'::jsonb[]), '{}'::bigint[], 'no inputs, no runs');
SELECT count(*) AS runs_before FROM adagio.runs \gset
SELECT count(*) AS nodes_before FROM adagio.nodes \gset
SELECT throws_ok($$SELECT adagio.start_runs('fan', ARRAY['{}', '[1]']::jsonb[])$$, '22023',
  'run inputs must be a JSON object', 'an input that is not an object is refused');
-- The inputs are checked from the argument itself: the detail names the first element that is
-- not an object, counting NULL elements (no inputs) and every dimension.
CREATE FUNCTION pg_temp.error_detail(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  detail text;
BEGIN
  EXECUTE statement;
  RETURN NULL;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN detail;
END $$;
SELECT is(pg_temp.error_detail($$SELECT adagio.start_runs('fan', ARRAY['{}', NULL, '"x"', '[1]']::jsonb[])$$),
  'element 3 of the inputs is not one', 'a scalar is not an object; the first such element is named');
SELECT is(pg_temp.error_detail($$SELECT adagio.start_runs('fan', ARRAY[['{}', '{}'], ['{}', '1']]::jsonb[])$$),
  'element 4 of the inputs is not one', 'elements are counted over every dimension');
SELECT throws_ok($$SELECT adagio.start_workflow('fan', '"x"')$$, '22023', 'run inputs must be a JSON object',
  'start_workflow() refuses inputs that are not an object');
SELECT throws_ok($$SELECT adagio.start_runs('nope', ARRAY['{}']::jsonb[])$$, '42704',
  'workflow "nope" does not exist', 'an unknown workflow is refused');
SELECT throws_ok($$SELECT adagio.start_runs('fan', NULL)$$, '22004', NULL, 'NULL inputs are refused');
SELECT throws_ok($$SELECT adagio.start_runs('fan', array_fill('{}'::jsonb, ARRAY[10001]))$$, '54000',
  'at most 10000 runs per call, got 10001', 'a call is bounded');
SELECT is((SELECT count(*) FROM adagio.runs), :runs_before::bigint, 'a refused batch leaves no runs behind');
SELECT is((SELECT count(*) FROM adagio.nodes), :nodes_before::bigint, 'nor nodes');

SELECT * FROM finish();
ROLLBACK;

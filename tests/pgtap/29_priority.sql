-- Run priorities: every start takes a priority (default 0, -1000 to 1000); claims take the ready
-- nodes of higher priority first, and the oldest first within one. A report hands its downstream
-- nodes straight to the reporting worker only while nothing of higher priority waits in the queue.
BEGIN;
\ir helpers.psql
SELECT plan(17);

SELECT adagio.register_agent('tap', '{debug}') AS agent \gset
\set one '{"nodes":[{"name":"only","runtime":"debug"}]}'
SELECT adagio.start_run(:'one', '{}', priority => -5) AS low \gset
SELECT adagio.start_run(:'one') AS normal \gset
SELECT adagio.start_run(:'one', '{}', priority => 10) AS high \gset
SELECT adagio.start_run(:'one') AS normal_later \gset
SELECT is((SELECT array_agg(priority ORDER BY id) FROM adagio.runs), ARRAY[-5, 0, 10, 0]::smallint[],
          'each run keeps its priority (0 by default)');
SELECT is((SELECT array_agg(priority ORDER BY run_id) FROM adagio.nodes), ARRAY[-5, 0, 10, 0]::smallint[],
          'and its nodes carry it');

SELECT is((SELECT (adagio.claim(:agent, 1) -> 0 ->> 'run_id')::bigint), :high::bigint, 'the highest priority is claimed first');
SELECT is((SELECT (adagio.claim(:agent, 1) -> 0 ->> 'run_id')::bigint), :normal::bigint, 'then the oldest of the default priority');
SELECT is((SELECT (adagio.claim(:agent, 1) -> 0 ->> 'run_id')::bigint), :normal_later::bigint, 'then the next');
SELECT is((SELECT (adagio.claim(:agent, 1) -> 0 ->> 'run_id')::bigint), :low::bigint, 'and the low priority last');

SELECT is((adagio.inspect_run(:high) ->> 'priority')::int, 10, 'inspect_run() shows the priority');
SELECT is((SELECT priority FROM adagio.list_runs() WHERE id = :low), -5, 'and list_runs()');

-- The other ways to start.
SELECT adagio.define_workflow('one', :'one');
SELECT adagio.start_workflow('one', '{}', priority => 3) AS wf \gset
SELECT adagio.start_runs('one', ARRAY['{}', '{}']::jsonb[], priority => 7) AS batch \gset
SELECT is((SELECT array_agg(priority ORDER BY id) FROM adagio.runs WHERE id = :wf OR id = ANY (:'batch'::bigint[])),
          ARRAY[3, 7, 7]::smallint[], 'start_workflow() and start_runs() take a priority');
SELECT adagio.start_workflow('one', '{}', priority => NULL) AS null_priority \gset
SELECT is((SELECT priority FROM adagio.runs WHERE id = :null_priority), 0::smallint, 'a NULL priority is the default');

-- Refused, and nothing written.
SELECT count(*) AS runs_before FROM adagio.runs \gset
SELECT throws_ok(format('SELECT adagio.start_run(%L, priority => 1001)', :'one'), '22023',
  'priority must be between -1000 and 1000, got 1001', 'a priority out of range is refused, naming it');
SELECT throws_ok($$SELECT adagio.start_runs('one', ARRAY['{}']::jsonb[], priority => -1001)$$, '22023', NULL,
  'by start_runs() too');
SELECT is((SELECT count(*) FROM adagio.runs), :runs_before::bigint, 'and the refusals wrote nothing');

-- A hand-over does not jump the queue: the report of a low-priority node leaves its downstream
-- node in the queue when a node of higher priority is ready, and the worker gets that one.
UPDATE adagio.nodes SET state = 'cancelled' WHERE state = 'ready';  -- an empty queue to start from
SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"}],
                          "edges":[{"source":"a","destination":"b"}]}', '{}', priority => -1) AS chain \gset
SELECT pg_temp.claim_names(:agent);
SELECT adagio.start_run(:'one', '{}', priority => 1) AS urgent \gset
SELECT adagio.complete_and_claim(:agent, 1, ARRAY[pg_temp.token_of(:chain, 'a')], ARRAY['success'], ARRAY['out'])
  -> 'claims' -> 0 ->> 'run_id' AS got \gset
SELECT is(:got::bigint, :urgent::bigint, 'the worker gets the higher-priority node, not the one its report made ready');
SELECT is(pg_temp.node_states(:chain), 'a=completed/success b=ready', 'which waits in the queue');
-- With nothing of higher priority waiting, the hand-over happens as before.
SELECT adagio.claim(:agent, 1) -> 0 ->> 'name' AS b_claimed \gset
SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"}],
                          "edges":[{"source":"a","destination":"b"}]}', '{}', priority => -1) AS chain2 \gset
SELECT pg_temp.claim_names(:agent);
SELECT adagio.start_run(:'one', '{}', priority => -2) AS lower \gset
SELECT is(adagio.complete_and_claim(:agent, 1, ARRAY[pg_temp.token_of(:chain2, 'a')], ARRAY['success'], ARRAY['out'])
            -> 'claims' -> 0 ->> 'name', 'b', 'a lower-priority node waiting does not stop the hand-over');

-- When a report makes more nodes ready than the worker has slots, the higher priority goes first.
SELECT adagio.claim(:agent, 10);  -- the queue empty again
SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"}],
                          "edges":[{"source":"a","destination":"b"}]}', '{}', priority => -3) AS low_chain \gset
SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"}],
                          "edges":[{"source":"a","destination":"b"}]}', '{}', priority => 3) AS high_chain \gset
SELECT pg_temp.claim_names(:agent);
SELECT is((adagio.complete_and_claim(:agent, 1, ARRAY[pg_temp.token_of(:low_chain, 'a'), pg_temp.token_of(:high_chain, 'a')],
                                     ARRAY['success', 'success'], ARRAY['x', 'y']) -> 'claims' -> 0 ->> 'run_id')::bigint,
          :high_chain::bigint, 'of two nodes a report makes ready, the one slot goes to the higher priority');

SELECT * FROM finish();
ROLLBACK;

-- Each session keeps the graphs it has met, parsed, by id. Ids start again when the extension is
-- dropped and created again, so the same id then names another graph: the session must follow
-- the new one.
BEGIN;
\ir helpers.psql
SELECT plan(8);

-- Graph id 1 in this session: a -> b.
SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"}],
                          "edges":[{"source":"a","destination":"b"}]}') AS first \gset
SELECT adagio.register_agent('tap', '{debug}') AS agent \gset
SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete(pg_temp.token_of(:first, 'a'), 'success', 'A');
SELECT is(pg_temp.node_states(:first), 'a=completed/success b=ready', 'the first graph: a hands on to b');

-- The extension again, from scratch: id 1 is now x -> y -> z.
DROP EXTENSION adagio;
CREATE EXTENSION adagio;
SELECT adagio.start_run('{"nodes":[{"name":"x","runtime":"debug"},{"name":"y","runtime":"debug"},{"name":"z","runtime":"debug"}],
                          "edges":[{"source":"x","destination":"y"},{"source":"y","destination":"z"}]}') AS second \gset
SELECT is((SELECT graph_id FROM adagio.runs WHERE id = :second), 1::bigint, 'the new graph got the same id');
SELECT adagio.register_agent('tap', '{debug}') AS agent2 \gset
SELECT pg_temp.claim_names(:agent2);
SELECT adagio.complete(pg_temp.token_of(:second, 'x'), 'success', 'X');
SELECT is(pg_temp.node_states(:second), 'x=completed/success y=ready z=waiting',
  'and this session follows its edges, not the old graph''s');

-- adagio.downstream_nodes(): how the completing statement follows edges, from the same cache.
SELECT adagio.start_run(:'example') AS third \gset
SELECT graph_id AS example_graph FROM adagio.runs WHERE id = :third \gset
SELECT is(adagio.downstream_nodes(:example_graph, 'b'), '{d,f}', 'downstream_nodes(): b''s edges, in the graph''s order');
SELECT is(adagio.downstream_nodes(:example_graph, 'g'), '{}', 'none for the last node');
SELECT is(adagio.downstream_nodes(:example_graph, 'nope'), '{}', 'none for a name the graph does not have');
-- A change to adagio.graphs empties the cache: the graph is read back from its row.
ALTER TABLE adagio.graphs SET (fillfactor = 100);
SELECT is(adagio.downstream_nodes(:example_graph, 'a'), '{c,d}', 'and the same once read back from the table');
SELECT ok(NOT has_function_privilege('adagio_worker', 'adagio.downstream_nodes(bigint, text)', 'EXECUTE')
          AND NOT has_function_privilege('adagio_reader', 'adagio.downstream_nodes(bigint, text)', 'EXECUTE'),
          'it is the engine''s own: no role may call it');

SELECT * FROM finish();
ROLLBACK;

-- Each session keeps the graphs it has met, parsed, by id. Ids start again when the extension is
-- dropped and created again, so the same id then names another graph: the session must follow
-- the new one.
BEGIN;
\ir helpers.psql
SELECT plan(3);

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

SELECT * FROM finish();
ROLLBACK;

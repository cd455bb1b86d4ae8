-- Graphs are stored once: every run of the same graph (however it was written, whichever way it
-- was started) points at one adagio.graphs row, a different graph gets its own, and the edges a
-- run shows are its graph's.
BEGIN;
\ir helpers.psql
SELECT plan(14);

SELECT adagio.start_run(:'example') AS first \gset
SELECT adagio.start_run(:'example', '{"n": 2}') AS second \gset
SELECT adagio.define_workflow('fan', :'example');
SELECT adagio.start_workflow('fan') AS by_name \gset
SELECT adagio.start_runs('fan', ARRAY['{}', '{}']::jsonb[]) AS batch \gset

SELECT is((SELECT count(*)::int FROM adagio.graphs), 1, 'five runs of one graph store it once');
SELECT is((SELECT count(DISTINCT graph_id)::int FROM adagio.runs), 1, 'and all point at it');
SELECT is((SELECT count(DISTINCT graph_id)::int FROM adagio.nodes), 1, 'as do their nodes');
SELECT is((SELECT graph FROM adagio.graphs), adagio.validate_graph(:'example'), 'the stored form is the canonical one');
SELECT is((SELECT digest FROM adagio.graphs), sha256(convert_to(adagio.validate_graph(:'example')::text, 'UTF8')),
  'found by the sha256 of its canonical form''s text');
SELECT is((SELECT shape FROM adagio.graphs),
  (SELECT string_agg(n ->> 'name', E'\n' ORDER BY i) || E'\n\n'
          || (SELECT string_agg((e ->> 'source') || E'\t' || (e ->> 'destination'), E'\n' ORDER BY j) || E'\n'
              FROM jsonb_array_elements(g.graph -> 'edges') WITH ORDINALITY AS y(e, j))
   FROM adagio.graphs g, jsonb_array_elements(g.graph -> 'nodes') WITH ORDINALITY AS x(n, i) GROUP BY g.graph),
  'its shape is its node names, then its edges, in order');

-- The same graph written differently: other key order, spacing, defaults spelt out.
SELECT adagio.start_run('{ "edges": [{"destination":"c","source":"a"},{"source":"a","destination":"d"},{"source":"b","destination":"d"},{"source":"b","destination":"f"},{"source":"c","destination":"e"},{"source":"d","destination":"e"},{"source":"e","destination":"g"},{"source":"f","destination":"g"}],
  "nodes": [{"runtime":"debug","name":"a"},{"name":"b","runtime":"debug"},{"name":"c","runtime":"debug"},{"name":"d","runtime":"debug"},{"name":"e","runtime":"debug"},{"name":"f","runtime":"debug"},{"name":"g","runtime":"debug"}] }') AS respelt \gset
SELECT is((SELECT count(*)::int FROM adagio.graphs), 1, 'the same graph spelt differently is the same row');

SELECT adagio.start_run('{"nodes":[{"name":"solo","runtime":"debug"}]}') AS solo \gset
SELECT is((SELECT count(*)::int FROM adagio.graphs), 2, 'a different graph gets its own row');

SELECT is((SELECT array_agg(source || '>' || destination ORDER BY source, destination) FROM adagio.edges WHERE run_id = :second),
  '{a>c,a>d,b>d,b>f,c>e,d>e,e>g,f>g}'::text[], 'adagio.edges shows a run''s edges from its graph');
SELECT is((SELECT count(*)::int FROM adagio.edges WHERE run_id = :solo), 0, 'a graph without edges has none');

-- Outputs still flow along the stored graph's edges.
SELECT adagio.register_agent('tap', '{debug}') AS agent \gset
SELECT pg_temp.claim_names(:agent, 1000);
SELECT adagio.complete(pg_temp.token_of(:first, 'a'), 'success', 'from a');
SELECT is((SELECT inputs FROM adagio.nodes WHERE run_id = :first AND name = 'c'), '{"a": "from a"}'::jsonb,
  'a success hands its output to the nodes downstream');
-- A backend that did not store the graph loads it from its shape. Any change to the table's
-- definition empties the session's cache, as a fresh backend would have it.
ALTER TABLE adagio.graphs ALTER COLUMN shape SET STATISTICS 0;
SELECT adagio.complete(pg_temp.token_of(:first, 'b'), 'success', 'from b');
SELECT is((SELECT array_agg(name || '=' || (inputs ->> 'b') ORDER BY name) FROM adagio.nodes
           WHERE run_id = :first AND inputs ? 'b'), '{d=from b,f=from b}'::text[],
  'a graph loaded from its shape hands outputs along its edges');

-- Graphs stay when their runs are purged: later runs of the same graph find them.
UPDATE adagio.runs SET status = 'cancelled', created_at = now() - interval '3 days', finished_at = now() - interval '2 days';
SELECT ok(adagio.purge_runs('1 day') = 7 AND (SELECT count(*) FROM adagio.graphs) = 2,
  'purge_runs removes the runs and keeps their graphs');

-- Nobody writes graphs directly.
SET LOCAL ROLE adagio_operator;
SELECT throws_ok($$INSERT INTO adagio.graphs (digest, graph) VALUES ('\x00', '{}')$$, '42501', NULL,
  'adagio_operator cannot write adagio.graphs directly');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

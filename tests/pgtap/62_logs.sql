-- Node logs: what a running node's function prints, streamed by its worker with append_logs(),
-- fenced by the claim, read with logs().
BEGIN;
\ir helpers.psql
SELECT plan(17);

SELECT adagio.register_agent('printer', '{debug}') AS agent \gset
SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"}]}') AS run \gset
SELECT is(pg_temp.claim_names(:agent), 'a,b', 'a and b are claimed');
SELECT pg_temp.token_of(:run, 'a') AS a_token, pg_temp.token_of(:run, 'b') AS b_token \gset

SELECT is(adagio.append_logs(ARRAY[:'a_token', :'b_token', :'a_token']::uuid[], ARRAY[E'a one\n', E'b one\n', E'a two\n']), 0,
          'the holders'' chunks are all kept');
SELECT is((SELECT string_agg(node || ':' || attempt || ':' || text, '' ORDER BY id) FROM adagio.logs(:run)),
          E'a:1:a one\nb:1:b one\na:1:a two\n', 'logs() returns them in the order written, with node and attempt');
SELECT is((SELECT string_agg(text, '' ORDER BY id) FROM adagio.logs(:run, 'a')), E'a one\na two\n', 'or one node''s');
SELECT max(id) AS seen FROM adagio.logs(:run) \gset
SELECT is(adagio.append_logs(ARRAY[:'a_token']::uuid[], ARRAY[E'a three\n']), 0, 'a writes on');
SELECT is((SELECT string_agg(text, '' ORDER BY id) FROM adagio.logs(:run, NULL, :seen)), E'a three\n',
          'a follower asks for what came after the last id it saw');
SELECT is(adagio.append_logs(ARRAY[:'a_token', :'a_token']::uuid[], ARRAY['', NULL]), 2, 'empty and NULL chunks are not kept');

-- The claim is the fence: once a is reported, its late chunks are dropped; so are unknown tokens.
SELECT is(adagio.complete(:'a_token', 'success', 'done') ->> 'outcome', 'succeeded', 'a is reported');
SELECT is(adagio.append_logs(ARRAY[:'a_token', gen_random_uuid()]::uuid[], ARRAY['late', 'stranger']), 2,
          'chunks of a claim no longer held, or of no claim, are dropped and counted');
SELECT is((SELECT count(*)::int FROM adagio.node_logs WHERE run_id = :run), 4, 'nothing was written for them');

SELECT throws_ok($$SELECT adagio.append_logs('{}'::uuid[], ARRAY['x'])$$, '22023',
  'claim_tokens and chunks must have the same length, got 0 and 1', 'the arrays pair up');
SELECT throws_ok($$SELECT adagio.append_logs(NULL, ARRAY['x'])$$, '22004', 'claim_tokens must not be NULL', 'NULL tokens');

-- Readers read logs; only workers append.
SET LOCAL ROLE adagio_reader;
SELECT is((SELECT count(*)::int FROM adagio.logs(:run)), 4, 'a reader reads the logs');
RESET ROLE;
SET LOCAL ROLE adagio_operator;
SELECT throws_ok(format('SELECT adagio.append_logs(ARRAY[%L]::uuid[], ARRAY[''x''])', :'b_token'), '42501', NULL,
  'an operator does not append logs');
RESET ROLE;

-- Logs go with their run.
SELECT is(adagio.complete(:'b_token', 'success', 'done') ->> 'run_status', 'completed', 'b is reported, the run ends');
UPDATE adagio.runs SET finished_at = finished_at - interval '1 hour', created_at = created_at - interval '1 hour' WHERE id = :run;
SELECT is(adagio.purge_runs('1 minute'), 1::bigint, 'the run is purged');
SELECT is((SELECT count(*)::int FROM adagio.node_logs WHERE run_id = :run), 0, 'with its logs');

SELECT * FROM finish();
ROLLBACK;

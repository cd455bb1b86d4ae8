-- Claim tokens name their node (a version 8 uuid: node id, then random bits): reports and
-- heartbeats find the node by primary key and check the whole token.
BEGIN;
\ir helpers.psql
SELECT plan(19);

SELECT adagio.register_agent('tokens', '{debug}') AS agent \gset
SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"},
  {"name":"c","runtime":"debug","retry":{"error":{"max_attempts":2}}},{"name":"d","runtime":"debug"}],
  "edges":[{"source":"a","destination":"d"}]}') AS run \gset
SELECT pg_temp.claim_names(:agent, 3);

SELECT is((SELECT count(*)::int FROM adagio.nodes WHERE run_id = :run AND state = 'running'
             AND adagio.claim_token_node(claim_token) = id), 3, 'every claimed node''s token names it');
SELECT ok((SELECT bool_and(substr(claim_token::text, 15, 1) = '8' AND substr(claim_token::text, 20, 1) IN ('8', '9', 'a', 'b'))
           FROM adagio.nodes WHERE run_id = :run AND state = 'running'), 'tokens are version 8, variant 10 uuids');
SELECT is(adagio.claim_token_node(gen_random_uuid()), NULL, 'a random (version 4) uuid names no node');
SELECT is(adagio.claim_token_node('00000000-0000-8000-8000-000000000000'), NULL, 'nor does version 8 with node id 0');

-- The random bits come from a pool each backend refills 512 tokens at a time: none repeats.
SELECT is((SELECT count(DISTINCT adagio.new_claim_token(7))::int FROM generate_series(1, 2000)), 2000,
  '2,000 tokens for one node, across the pool''s refills, are all different');

-- A token that names a held node with other random bits: refused everywhere, the claim untouched.
SELECT pg_temp.token_of(:run, 'b') AS tok_b \gset
SELECT overlay(:'tok_b' PLACING CASE WHEN right(:'tok_b', 1) = '0' THEN '1' ELSE '0' END FROM 36)::uuid AS forged \gset
SELECT is(adagio.claim_token_node(:'forged'), (SELECT id FROM adagio.nodes WHERE run_id = :run AND name = 'b'),
  'a forged token can name a held node');
SELECT throws_ok(format('SELECT adagio.complete(%L, %L)', :'forged', 'success'), '55000', NULL,
  'but complete() refuses it');
SELECT is(adagio.complete_many(ARRAY[:'forged'::uuid], '{success}') -> 'not_held', jsonb_build_array(:'forged'),
  'complete_many() returns it as not held');
SELECT lease_expires_at AS lease_b FROM adagio.nodes WHERE run_id = :run AND name = 'b' \gset
SELECT is(adagio.heartbeat(:agent, ARRAY[:'forged'::uuid], interval '1 hour'), ARRAY[:'forged'::uuid],
  'heartbeat() names the forged token as not held');
SELECT is((SELECT lease_expires_at FROM adagio.nodes WHERE run_id = :run AND name = 'b'), :'lease_b'::timestamptz,
  'and does not extend the lease of the claim it names');
SELECT is(adagio.heartbeat(:agent, ARRAY[:'forged'::uuid, :'tok_b'::uuid]), ARRAY[:'forged'::uuid],
  'given both, heartbeat() extends the real claim and names the forged token as not held');
SELECT is(pg_temp.node_states(:run), 'a=running b=running c=running d=waiting', 'and nothing changed');

-- A retried node gets a new token for the same node; the old one stays refused.
SELECT pg_temp.token_of(:run, 'c') AS tok_c1 \gset
SELECT adagio.complete(:'tok_c1', 'error', 'first');
SELECT pg_temp.claim_names(:agent);
SELECT pg_temp.token_of(:run, 'c') AS tok_c2 \gset
SELECT ok(:'tok_c1'::uuid <> :'tok_c2'::uuid AND adagio.claim_token_node(:'tok_c1') = adagio.claim_token_node(:'tok_c2'),
  'the retry''s claim has a new token naming the same node');
SELECT throws_ok(format('SELECT adagio.complete(%L, %L)', :'tok_c1', 'success'), '55000', 'claim ' || :'tok_c1' || ' is no longer held',
  'the first attempt''s token is refused');
SELECT is((adagio.complete(:'tok_c2', 'success', 'second')) ->> 'outcome', 'succeeded', 'the second attempt''s is taken');

-- Tokens of nodes handed over by a report name them too.
SELECT adagio.complete_and_claim(:agent, 5, ARRAY[pg_temp.token_of(:run, 'a')], '{success}') AS handed \gset
SELECT is((SELECT adagio.claim_token_node((c ->> 'claim_token')::uuid) = (c ->> 'node_id')::bigint
           FROM jsonb_array_elements((:'handed'::jsonb) -> 'claims') c WHERE c ->> 'name' = 'd'), true,
  'a handed-over node''s token names it');

SELECT throws_ok('SELECT adagio.new_claim_token(0)', '22003', 'node id 0 cannot be named by a claim token',
  'tokens are made only for node ids a token can name');
SELECT is(has_function_privilege('adagio_worker', 'adagio.new_claim_token(bigint)', 'EXECUTE'), false,
  'workers cannot make tokens');
SELECT is((SELECT s.seqmax FROM pg_sequence s WHERE s.seqrelid = pg_get_serial_sequence('adagio.nodes', 'id')::regclass),
  (2::bigint ^ 60)::bigint - 1, 'node ids stop where a token can no longer name them');

SELECT * FROM finish();
ROLLBACK;

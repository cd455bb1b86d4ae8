-- The claim contract: runtimes filter, limits, fencing by claim token, clear errors.
BEGIN;
\ir helpers.psql
SELECT plan(14);

SELECT adagio.register_agent('execs', '{exec}') AS exec_agent \gset
SELECT adagio.register_agent('debugs', '{debug}') AS debug_agent \gset
SELECT adagio.start_run('{"nodes":[{"name":"e1","runtime":"exec","metadata":{"command":"true"}},{"name":"d1","runtime":"debug"},{"name":"d2","runtime":"debug"},{"name":"d3","runtime":"debug"}]}') AS run \gset

SELECT is(pg_temp.claim_names(:exec_agent), 'e1', 'an agent only gets nodes of its runtimes');
SELECT is(pg_temp.claim_names(:debug_agent, 2), 'd1,d2', 'max_nodes limits the batch');
SELECT is(pg_temp.claim_names(:debug_agent, 2), 'd3', 'the rest comes next');
SELECT isnt(pg_temp.token_of(:run, 'd1'), pg_temp.token_of(:run, 'd2'), 'every claim has its own token');
SELECT ok((SELECT lease_expires_at > now() FROM adagio.nodes WHERE run_id = :run AND name = 'd1'), 'claims carry a lease expiry');

SELECT pg_temp.token_of(:run, 'd1') AS tok \gset
SELECT adagio.complete(:'tok', 'success', 'once');
SELECT throws_ok(format('SELECT adagio.complete(%L, %L, %L)', :'tok', 'success', 'twice'), '55000', NULL,
  'a claim reported twice is refused with object_not_in_prerequisite_state');
SELECT is((SELECT output FROM adagio.nodes WHERE run_id = :run AND name = 'd1'), 'once', 'and the second report changed nothing');
SELECT throws_ok($$SELECT adagio.complete(gen_random_uuid(), 'success', 'x')$$, '55000', NULL, 'an unknown token is refused');
SELECT throws_ok(format('SELECT adagio.complete(%L, %L)', pg_temp.token_of(:run, 'd2'), 'great'), '22023',
  'unknown conclusion "great"', 'an unknown conclusion is rejected');
SELECT throws_ok($$SELECT adagio.claim(-5, 1)$$, '42704', 'agent -5 is not registered', 'an unknown agent cannot claim');
SELECT throws_ok(format('SELECT adagio.claim(%s, 0)', :exec_agent), '22023', NULL, 'max_nodes must be positive');

SELECT is(adagio.heartbeat(:debug_agent, ARRAY[pg_temp.token_of(:run, 'd2'), :'tok'::uuid]), ARRAY[:'tok'::uuid],
  'heartbeat extends held claims and names the ones no longer held');

-- Claims come back as json, the document as the engine built it (keys in their documented order):
-- passing it through jsonb would parse and print it again for nothing (docs/sql-api.md).
SELECT adagio.start_run('{"nodes":[{"name":"j","runtime":"debug"}]}') AS run_j \gset
SELECT is((SELECT array_agg(k) FROM json_array_elements(adagio.claim(:debug_agent, 1)) c, json_object_keys(c) k),
  ARRAY['node_id', 'run_id', 'name', 'runtime', 'metadata', 'retry', 'inputs', 'run_inputs', 'attempt', 'timeout_seconds', 'attempts',
        'claim_token', 'lease_expires_at'],
  'claim() returns json, its keys in the documented order');
SELECT is((SELECT pg_typeof(adagio.complete_and_claim(:debug_agent, 1, ARRAY[n.claim_token], '{success}'))::text
           FROM adagio.nodes n WHERE n.run_id = :run_j),
  'json', 'complete_and_claim() returns json too');

SELECT * FROM finish();
ROLLBACK;

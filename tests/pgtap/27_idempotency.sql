-- Idempotency keys: a call that repeats start_run(), start_workflow() or start_runs() with a key
-- already used for the same graph and inputs gets that run back and starts nothing; with other
-- ones it is refused, writing nothing. Without a key every call starts a run.
BEGIN;
\ir helpers.psql
SELECT plan(24);

SELECT adagio.start_run(:'example', '{"day": "mon"}', 'import-42') AS first \gset
SELECT is(adagio.start_run(:'example', '{"day": "mon"}', 'import-42'), :first::bigint, 'the same call again returns the same run');
SELECT is(adagio.start_run(:'example', '{"day":"mon"}'::jsonb, idempotency_key => 'import-42'), :first::bigint,
          'inputs are compared as JSON, not as text');
SELECT is((SELECT count(*) FROM adagio.runs), 1::bigint, 'and started nothing');
SELECT is((SELECT count(*) FROM adagio.nodes), 7::bigint, 'no nodes were added');
SELECT is((SELECT count(*) FROM adagio.events WHERE kind = 'run_started'), 1::bigint, 'nor a second run_started');

SELECT throws_ok(format('SELECT adagio.start_run(%L, %L, %L)', :'example', '{"day": "tue"}', 'import-42'), '22023',
  format('idempotency key "import-42" already started run %s with a different graph or inputs', :first),
  'other inputs under the same key are refused, naming the run');
SELECT throws_ok($$SELECT adagio.start_run('{"nodes":[{"name":"other","runtime":"debug"}]}', '{"day": "mon"}', 'import-42')$$, '22023',
  NULL, 'so is another graph');
SELECT is((SELECT count(*) FROM adagio.runs), 1::bigint, 'and the refusals wrote nothing');

SELECT isnt(adagio.start_run(:'example', '{"day": "mon"}'), :first::bigint, 'without a key, a new run');
SELECT isnt(adagio.start_run(:'example', '{"day": "mon"}', 'import-43'), :first::bigint, 'another key, another run');

SELECT adagio.define_workflow('nightly', :'example');
SELECT adagio.start_workflow('nightly', '{}', idempotency_key => 'nightly-2026-11-24') AS nightly \gset
SELECT is(adagio.start_workflow('nightly', '{}', idempotency_key => 'nightly-2026-11-24'), :nightly::bigint,
          'start_workflow takes a key too');
SELECT is((SELECT idempotency_key FROM adagio.runs WHERE id = :nightly), 'nightly-2026-11-24', 'the run keeps its key');
SELECT is(adagio.inspect_run(:nightly) ->> 'idempotency_key', 'nightly-2026-11-24', 'inspect_run() shows it');

-- start_runs(): a key per run (NULL: none); the runs already started under theirs come back.
SELECT adagio.start_runs('nightly', ARRAY['{"n": 1}', '{"n": 2}', '{"n": 3}']::jsonb[],
                         idempotency_keys => ARRAY['batch-1', NULL, 'batch-3']) AS batch \gset
SELECT is(cardinality(:'batch'::bigint[]), 3, 'start_runs() with keys starts one run per element');
SELECT is((SELECT array_agg(idempotency_key ORDER BY id) FROM adagio.runs WHERE id = ANY (:'batch'::bigint[])),
          ARRAY['batch-1', NULL, 'batch-3'], 'each with its key, in the order given');
SELECT adagio.start_runs('nightly', ARRAY['{"n": 3}', '{"n": 4}', '{"n": 1}', '{"n": 5}']::jsonb[],
                         idempotency_keys => ARRAY['batch-3', 'batch-4', 'batch-1', NULL]) AS again \gset
SELECT is((:'again'::bigint[])[1], (:'batch'::bigint[])[3], 'a key already used returns its run, in its place');
SELECT is((:'again'::bigint[])[3], (:'batch'::bigint[])[1], 'wherever it comes in the call');
SELECT ok((:'again'::bigint[])[2] > (:'batch'::bigint[])[3] AND (:'again'::bigint[])[4] > (:'again'::bigint[])[2],
          'the new ones are started, in order');
SELECT is((SELECT count(*) FROM adagio.runs WHERE workflow_name = 'nightly'), 6::bigint, 'so 1 + 3 + 2 runs of nightly in all');
SELECT throws_ok($$SELECT adagio.start_runs('nightly', ARRAY['{"n": 9}']::jsonb[], idempotency_keys => ARRAY['batch-1'])$$, '22023',
  NULL, 'a used key with other inputs is refused');
SELECT throws_ok($$SELECT adagio.start_runs('nightly', ARRAY['{}', '{}']::jsonb[], idempotency_keys => ARRAY['x', 'x'])$$, '22023',
  'idempotency key "x" is given twice', 'a key given twice in one call is refused');
SELECT throws_ok($$SELECT adagio.start_runs('nightly', ARRAY['{}', '{}']::jsonb[], idempotency_keys => ARRAY['y'])$$, '22023',
  'idempotency_keys must have one element per run, got 1 for 2 runs', 'so is a key list of another length');

SELECT throws_ok(format('SELECT adagio.start_run(%L, %L, %L)', :'example', '{}', ''), '22023', 'idempotency_key must be 1 to 255 bytes, got 0',
  'an empty key is refused');
SELECT throws_ok(format('SELECT adagio.start_run(%L, %L, %L)', :'example', '{}', repeat('k', 256)), '22023',
  'idempotency_key must be 1 to 255 bytes, got 256', 'so is one over 255 bytes');

SELECT * FROM finish();
ROLLBACK;

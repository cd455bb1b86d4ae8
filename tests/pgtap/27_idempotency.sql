-- Idempotency keys: a call that repeats start_run() or start_workflow() with a key already used
-- for the same graph and inputs gets that run back and starts nothing; with other ones it is
-- refused, writing nothing. Without a key every call starts a run.
BEGIN;
\ir helpers.psql
SELECT plan(15);

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

SELECT throws_ok(format('SELECT adagio.start_run(%L, %L, %L)', :'example', '{}', ''), '22023', 'idempotency_key must be 1 to 255 bytes, got 0',
  'an empty key is refused');
SELECT throws_ok(format('SELECT adagio.start_run(%L, %L, %L)', :'example', '{}', repeat('k', 256)), '22023',
  'idempotency_key must be 1 to 255 bytes, got 256', 'so is one over 255 bytes');

SELECT * FROM finish();
ROLLBACK;

-- Named, versioned workflows.
BEGIN;
\ir helpers.psql
SELECT plan(7);

SELECT is(adagio.define_workflow('nightly', :'example'), 1, 'the first definition is version 1');
SELECT is(adagio.define_workflow('nightly', '{"nodes":[{"name":"solo","runtime":"debug"}]}'), 2, 'the next is version 2');
SELECT adagio.start_workflow('nightly', '{"day": "mon"}') AS latest \gset
SELECT results_eq(format('SELECT workflow_version, node_count, inputs FROM adagio.runs WHERE id = %s', :latest),
  $$VALUES (2, 1, '{"day": "mon"}'::jsonb)$$, 'start_workflow uses the newest version');
SELECT adagio.start_workflow('nightly', version => 1) AS first \gset
SELECT is((SELECT node_count FROM adagio.runs WHERE id = :first), 7, 'or the version asked for');
SELECT throws_ok($$SELECT adagio.start_workflow('nope')$$, '42704', 'workflow "nope" does not exist', 'unknown workflow');
SELECT throws_ok($$SELECT adagio.start_workflow('nightly', version => 9)$$, '42704', 'workflow "nightly" has no version 9', 'unknown version');
SELECT throws_ok($$SELECT adagio.define_workflow('bad', '{"nodes":[{"name":"a"}]}')$$, '22023', NULL, 'an invalid graph is not stored');

SELECT * FROM finish();
ROLLBACK;

-- Arguments outside graphs: a NULL where a value is needed is 22004, a value out of range 22023, an
-- unknown agent or run 42704; each names the argument, and a refused call changes nothing.
BEGIN;
\ir helpers.psql
SELECT plan(27);

SELECT adagio.register_agent('tap', '{debug}') AS agent \gset
SELECT adagio.start_run('{"nodes":[{"name":"n","runtime":"debug"}]}') AS run \gset

-- Claims and leases.
SELECT throws_ok(format('SELECT adagio.claim(%s, NULL)', :agent), '22004', 'max_nodes must not be NULL',
  'claim() needs max_nodes');
SELECT throws_ok(format($$SELECT adagio.claim(%s, 1, '-1 hour')$$, :agent), '22023',
  'lease must be positive and at most 1 day, got -01:00:00', 'a lease already lapsed is refused');
SELECT throws_ok(format($$SELECT adagio.claim(%s, 1, '0')$$, :agent), '22023', NULL, 'so is a lease of 0');
SELECT throws_ok(format($$SELECT adagio.claim(%s, 1, '1 day 1 second')$$, :agent), '22023', NULL,
  'and one over a day');
SELECT throws_ok(format($$SELECT adagio.complete_and_claim(%s, 1, '{}', '{}', NULL, '1 mon')$$, :agent), '22023',
  'lease must be positive and at most 1 day, got 1 mon', 'complete_and_claim() checks its lease alike');
SELECT is(pg_temp.node_states(:run), 'n=ready', 'the refused claims claimed nothing');
SELECT is(json_array_length(adagio.claim(:agent, 1, '1 day')), 1, 'a lease of exactly a day is fine');
SELECT throws_ok(format($$SELECT adagio.heartbeat(%s, ARRAY[%L]::uuid[], '-5 seconds')$$, :agent,
                        pg_temp.token_of(:run, 'n')),
  '22023', 'lease must be positive and at most 1 day, got -00:00:05', 'heartbeat() checks its lease too');
SELECT ok((SELECT lease_expires_at > now() + interval '23 hours' FROM adagio.nodes WHERE run_id = :run),
  'and the lease it was given stands');
SELECT throws_ok('SELECT adagio.heartbeat(NULL)', '22004', 'agent_id must not be NULL', 'heartbeat() needs an agent');

-- Reports.
SELECT throws_ok(format('SELECT adagio.complete(%L, NULL)', pg_temp.token_of(:run, 'n')), '22004',
  'conclusion must not be NULL', 'complete() needs a conclusion');
SELECT is(pg_temp.node_states(:run), 'n=running', 'and the refused report changed nothing');

-- Runs.
SELECT throws_ok('SELECT adagio.cancel_run(NULL)', '22004', 'run_id must not be NULL', 'cancel_run() needs a run');
SELECT throws_ok('SELECT adagio.retry_run(NULL)', '22004', 'run_id must not be NULL', 'retry_run() needs a run');
SELECT throws_ok('SELECT adagio.inspect_run(NULL)', '22004', 'run_id must not be NULL', 'inspect_run() needs a run');
SELECT throws_ok('SELECT * FROM adagio.timeline(NULL)', '22004', 'run_id must not be NULL', 'timeline() needs a run');
SELECT (SELECT count(*) FROM adagio.runs) AS runs_before \gset
SELECT throws_ok($$SELECT adagio.start_run('{"nodes":[{"name":"x","runtime":"debug"}]}', '[1, 2]')$$, '22023',
  'run inputs must be a JSON object', 'start_run() refuses inputs that are not an object');
SELECT is((SELECT count(*) FROM adagio.runs), :runs_before::bigint, 'and starts nothing');

-- Listing runs.
SELECT throws_ok($$SELECT * FROM adagio.list_runs(status => 'bogus')$$, '22P02', NULL, 'an unknown status is an error');
SELECT throws_ok('SELECT * FROM adagio.list_runs(max_runs => -1)', '2201W', NULL, 'so is a negative max_runs');
SELECT is((SELECT count(*) FROM adagio.list_runs(max_runs => NULL)), (SELECT count(*) FROM adagio.runs),
  'a NULL max_runs lists every run');
SELECT throws_ok('SELECT * FROM adagio.events(0, NULL, -1)', '2201W', NULL, 'events() refuses a negative max_events');

-- Workflows and agents.
SELECT throws_ok($$SELECT adagio.define_workflow(NULL, '{"nodes":[{"name":"x","runtime":"debug"}]}')$$, '22004',
  'workflow name must not be NULL', 'define_workflow() needs a name');
SELECT throws_ok($$SELECT adagio.register_agent(NULL, '{debug}')$$, '22004', 'agent name must not be NULL',
  'register_agent() needs a name');
SELECT throws_ok($$SELECT adagio.register_agent('w', NULL)$$, '22004', 'agent runtimes must not be NULL',
  'and runtimes');
SELECT throws_ok('SELECT adagio.deregister_agent(NULL)', '22004', 'agent_id must not be NULL',
  'deregister_agent() needs an agent');
SELECT throws_ok('SELECT adagio.deregister_agent(-7)', '42704', 'agent -7 is not registered',
  'and one that exists');

SELECT * FROM finish();
ROLLBACK;

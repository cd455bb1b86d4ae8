-- Roles and grants: each role can do its part and nothing else; functions are SECURITY DEFINER
-- with a fixed search_path.
BEGIN;
\ir helpers.psql
SELECT plan(22);

SELECT is((SELECT count(*) FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace
           WHERE s.nspname = 'adagio' AND p.prosecdef
             AND NOT coalesce(p.proconfig @> ARRAY['search_path=adagio, pg_temp'], false)),
  0::bigint, 'every SECURITY DEFINER function pins its search_path');
SELECT is((SELECT count(*) FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace
           WHERE s.nspname = 'adagio' AND has_function_privilege('public', p.oid, 'EXECUTE')),
  0::bigint, 'PUBLIC may execute nothing');

CREATE ROLE tap_worker LOGIN IN ROLE adagio_worker;
CREATE ROLE tap_operator LOGIN IN ROLE adagio_operator;
CREATE ROLE tap_nobody LOGIN;

SET ROLE tap_operator;
SELECT lives_ok($$SELECT adagio.start_run('{"nodes":[{"name":"n","runtime":"debug"}]}')$$, 'an operator starts runs');
SELECT lives_ok($$SELECT count(*) FROM adagio.runs$$, 'and reads the tables');
SELECT throws_ok($$SELECT adagio.register_agent('w', '{debug}')$$, '42501', NULL, 'but cannot act as a worker');
SELECT lives_ok($$SELECT * FROM adagio.events(0)$$, 'an operator reads the event log');
SELECT throws_ok($$SELECT adagio.retry_run(-1)$$, '42704', NULL, 'and may retry runs (an unknown run is 42704, not 42501)');
SELECT throws_ok($$SELECT adagio.purge_runs('1 day')$$, '42501', NULL, 'but not purge history');
SELECT throws_ok($$DELETE FROM adagio.events$$, '42501', NULL, 'nor edit the event log');
RESET ROLE;

SET ROLE tap_worker;
SELECT lives_ok($$SELECT adagio.claim(adagio.register_agent('w', '{debug}'), 1)$$, 'a worker registers and claims');
SELECT throws_ok($$SELECT adagio.start_run('{"nodes":[{"name":"n","runtime":"debug"}]}')$$, '42501', NULL, 'but cannot start runs');
SELECT throws_ok($$UPDATE adagio.nodes SET state = 'ready'$$, '42501', NULL, 'nor write the tables directly');
SELECT throws_ok($$SELECT adagio.retry_run(1)$$, '42501', NULL, 'nor retry runs');
SELECT lives_ok($$SELECT * FROM adagio.list_workflows()$$, 'but lists workflows');
RESET ROLE;

-- An agent is its registering login's: another worker login may not claim, report and claim,
-- heartbeat or deregister in its name. (Logins, not SET ROLE: session_user is what is checked.)
CREATE ROLE tap_worker2 LOGIN IN ROLE adagio_worker;
SET SESSION AUTHORIZATION tap_worker;
SELECT adagio.register_agent('mine', '{debug}') AS mine \gset
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION tap_worker2;
SELECT throws_ok(format('SELECT adagio.claim(%s, 1)', :mine), '42501', format('agent %s belongs to role "tap_worker"', :mine),
  'another login may not claim as an agent');
SELECT throws_ok(format($$SELECT adagio.complete_and_claim(%s, 1, '{}', '{}')$$, :mine), '42501', NULL,
  'nor report and claim as it');
SELECT throws_ok(format('SELECT adagio.heartbeat(%s)', :mine), '42501', NULL, 'nor heartbeat as it');
SELECT throws_ok(format('SELECT adagio.deregister_agent(%s)', :mine), '42501', NULL, 'nor deregister it');
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION tap_worker;
SELECT lives_ok(format('SELECT adagio.heartbeat(%s)', :mine), 'its own login may');
RESET SESSION AUTHORIZATION;
SELECT is((SELECT status::text FROM adagio.agents WHERE id = :mine), 'active', 'and it is still active');

SET ROLE tap_nobody;
SELECT throws_ok($$SELECT adagio.stats()$$, '42501', NULL, 'a role without adagio grants sees nothing');
SELECT throws_ok($$SELECT * FROM adagio.timeline(1)$$, '42501', NULL, 'not even timelines');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

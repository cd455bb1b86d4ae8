-- The sweep: lapsed leases become orphaned error attempts and the retry rules apply; a stale
-- worker's late report is fenced off; silent agents are marked gone; due backoffs become ready.
BEGIN;
\ir helpers.psql
SELECT plan(26);

SELECT adagio.register_agent('stale', '{debug}') AS stale \gset
SELECT adagio.register_agent('fresh', '{debug}') AS fresh \gset
SELECT adagio.start_run('{"nodes":[{"name":"n","runtime":"debug","retry":{"error":{"max_attempts":3}}},{"name":"m","runtime":"debug"}],"edges":[{"source":"n","destination":"m"}]}') AS run \gset

-- A lease of one microsecond has lapsed by the time the sweep looks.
SELECT is(json_array_length(adagio.claim(:stale, 1, '1 microsecond')), 1, 'the stale agent claims n');
SELECT pg_temp.token_of(:run, 'n') AS old_token \gset
SELECT is(adagio.sweep() ->> 'orphaned', '1', 'the sweep orphans the lapsed claim');
SELECT is(pg_temp.node_states(:run), 'm=waiting n=ready', 'with error retries left, n is ready again');
SELECT results_eq(
  format($$SELECT conclusion, reason ~ '^orphaned: stale \(id %s\) missed its lease', agent_id FROM adagio.attempts WHERE run_id = %s$$, :stale, :run),
  format($$VALUES ('error'::adagio.attempt_conclusion, true, %s::bigint)$$, :stale),
  'the orphaned attempt is an error naming the agent that missed its lease');

SELECT is(pg_temp.claim_names(:fresh), 'n', 'another agent re-claims n');
SELECT throws_ok(format('SELECT adagio.complete(%L, %L, %L)', :'old_token', 'success', 'late'), '55000', NULL,
  'the stale agent''s late report is refused');
SELECT is((SELECT state || ' ' || claimed_by FROM adagio.nodes WHERE run_id = :run AND name = 'n'), 'running ' || :fresh,
  'and the newer claim is untouched');
SELECT is(adagio.heartbeat(:stale, ARRAY[:'old_token'::uuid]), ARRAY[:'old_token'::uuid], 'a heartbeat tells the stale agent it lost the claim');
SELECT adagio.complete(pg_temp.token_of(:run, 'n'), 'success', 'fresh result');
SELECT is((SELECT count(*) FROM adagio.attempts WHERE run_id = :run), 2::bigint, 'nothing is double-counted: one orphaned, one success');
SELECT is((SELECT output FROM adagio.nodes WHERE run_id = :run AND name = 'n'), 'fresh result', 'the result is the re-claimer''s');

SELECT pg_temp.claim_names(:fresh);
SELECT adagio.complete(pg_temp.token_of(:run, 'm'), 'success', 'M');

-- Orphaned with no retry left: the node fails and downstream is never reached.
SELECT adagio.start_run('{"nodes":[{"name":"once","runtime":"debug"},{"name":"after","runtime":"debug"}],"edges":[{"source":"once","destination":"after"}]}') AS run2 \gset
SELECT adagio.claim(:stale, 1, '1 microsecond');
SELECT adagio.sweep();
SELECT is(pg_temp.node_states(:run2), 'after=completed/never_reached once=completed/error', 'no retry left: failed, downstream never reached');
SELECT is((SELECT conclusion FROM adagio.runs WHERE id = :run2), 'failed', 'and the run failed');

-- A held lease is not swept.
SELECT adagio.start_run('{"nodes":[{"name":"long","runtime":"debug","lease_seconds":600}]}') AS run3 \gset
SELECT adagio.claim(:fresh, 1, '1 microsecond');
SELECT ok((SELECT lease_expires_at > now() + interval '500 seconds' FROM adagio.nodes WHERE run_id = :run3), 'a node''s own lease_seconds wins');
SELECT adagio.sweep();
SELECT is((SELECT state FROM adagio.nodes WHERE run_id = :run3), 'running', 'a live lease is left alone');

-- Agents not heard from within adagio.agent_timeout are marked gone.
UPDATE adagio.agents SET last_seen_at = now() - interval '1 hour' WHERE id = :stale;
SELECT adagio.sweep();
SELECT is((SELECT status FROM adagio.agents WHERE id = :stale), 'gone', 'a silent agent is gone');
SELECT is((SELECT status FROM adagio.agents WHERE id = :fresh), 'active', 'a live one is not');

-- A claim is a sign of life: a gone agent that claims is active again and seen now.
SELECT adagio.claim(:stale, 1);
SELECT is((SELECT status || ' ' || (last_seen_at = now()) FROM adagio.agents WHERE id = :stale), 'active true',
          'a claim brings a gone agent back, seen now');
-- So is a report with a claim.
UPDATE adagio.agents SET last_seen_at = now() - interval '1 hour' WHERE id = :stale;
SELECT adagio.complete_and_claim(:stale, 1, '{}', '{}');
SELECT is((SELECT last_seen_at FROM adagio.agents WHERE id = :stale), now(), 'a report and claim marks the agent seen now');
UPDATE adagio.agents SET status = 'stopped' WHERE id = :stale;
SELECT adagio.complete_and_claim(:stale, 1, '{}', '{}');
SELECT is((SELECT status FROM adagio.agents WHERE id = :stale), 'active', 'and brings a stopped one back');

-- A sweep reads only the claims whose lease lapsed and the retries that are due, not every
-- running or scheduled node: 300 live leases and 300 retries waiting cost it no row fetched.
SELECT adagio.start_run(jsonb_build_object('nodes', jsonb_agg(jsonb_build_object('name', 'p' || g, 'runtime', 'debug',
  'retry', '{"error": {"max_attempts": 2, "backoff": {"initial_delay_seconds": 600}}}'::jsonb)))) AS many
FROM generate_series(1, 600) g \gset
SELECT is(json_array_length(adagio.claim(:fresh, 600)), 600, 'an agent claims 600 nodes');
SELECT count(adagio.complete(c.claim_token, 'error', NULL)) FROM adagio.nodes c
WHERE c.run_id = :many AND c.position < 300;
SELECT pg_stat_get_xact_tuples_fetched('adagio.nodes'::regclass) AS fetched \gset
SELECT is(adagio.sweep(), '{"orphaned": 0, "agents_gone": 0, "timers_fired": 0}', 'with 300 running and 300 scheduled');
SELECT is(pg_stat_get_xact_tuples_fetched('adagio.nodes'::regclass) - :fetched, 0::bigint,
  'and fetches none of their rows');

-- A lapsed claim the sweep cannot conclude is logged and left for the next sweep, and the others
-- are concluded all the same. Here the stored spec's backoff (written past validation, which
-- refuses it) is too long for a timestamp: scheduling its retry fails.
SELECT adagio.start_run('{"nodes":[{"name":"bad","runtime":"debug","retry":{"error":{"max_attempts":3}}}]}') AS run5 \gset
SELECT adagio.start_run('{"nodes":[{"name":"good","runtime":"debug","retry":{"error":{"max_attempts":3}}}]}') AS run6 \gset
UPDATE adagio.nodes SET spec = jsonb_set(spec, '{retry,error,backoff}',
  '{"initial_delay_seconds": 1e300, "multiplier": 2, "max_delay_seconds": 1e300}') WHERE run_id = :run5;
SELECT is((SELECT string_agg(c ->> 'name', ',' ORDER BY c ->> 'name')
           FROM json_array_elements(adagio.claim(:stale, 10, '1 microsecond')) c), 'bad,good',
  'two claims lapse at once');
SELECT is(adagio.sweep() - 'agents_gone' - 'timers_fired', '{"orphaned": 1, "not_concluded": 1}',
  'the sweep concludes one and says it could not conclude the other');
SELECT is(pg_temp.node_states(:run6), 'good=ready', 'the one it could conclude is ready for its retry');
SELECT is((SELECT state || ' ' || claimed_by || ' ' || (SELECT count(*) FROM adagio.failed_attempts f WHERE f.run_id = :run5)
            FROM adagio.nodes WHERE run_id = :run5), 'running ' || :stale || ' 0',
  'the other is left as it was, with nothing of the failed attempt written');

SELECT * FROM finish();
ROLLBACK;

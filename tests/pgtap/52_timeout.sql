-- A node's timeout_seconds: carried in its claims, and the server's backstop when a worker does
-- not stop an attempt that ran past it: heartbeats stop extending the lease one lease after the
-- timeout, and the sweep concludes the claim as an error that names the timeout.
BEGIN;
\ir helpers.psql
SELECT plan(10);

SELECT adagio.register_agent('slowpoke', '{debug}') AS agent \gset
SELECT adagio.start_run('{"nodes":[{"name":"bounded","runtime":"debug","timeout_seconds":5,"lease_seconds":30,"retry":{"error":{"max_attempts":2}}},{"name":"free","runtime":"debug","lease_seconds":30}]}') AS run \gset
SELECT is((SELECT string_agg((c ->> 'name') || '=' || coalesce(c ->> 'timeout_seconds', 'null'), ' ' ORDER BY c ->> 'name')
           FROM json_array_elements(adagio.claim(:agent, 2)) c),
          'bounded=5 free=null', 'a claim carries the node''s timeout_seconds (null without one)');
SELECT is((SELECT spec ->> 'timeout_seconds' FROM adagio.nodes WHERE run_id = :run AND name = 'bounded'), '5',
          'the node''s spec keeps it');
SELECT is((SELECT string_agg((n ->> 'name') || '=' || coalesce(n ->> 'timeout_seconds', 'null'), ' ' ORDER BY n ->> 'name')
           FROM jsonb_array_elements(adagio.inspect_run(:run) -> 'nodes') n),
          'bounded=5 free=null', 'inspect_run() shows each node''s timeout');

-- Within the timeout a heartbeat extends the lease as usual.
SELECT is(adagio.heartbeat(:agent, ARRAY[pg_temp.token_of(:run, 'bounded'), pg_temp.token_of(:run, 'free')]), '{}'::uuid[],
          'both claims are held');
SELECT ok((SELECT lease_expires_at >= clock_timestamp() + interval '29 seconds' FROM adagio.nodes WHERE run_id = :run AND name = 'bounded'),
          'within its timeout, a heartbeat gives the full lease');

-- The attempt started a minute ago: past its 5 s timeout, and past the lease after it.
UPDATE adagio.nodes SET claimed_at = clock_timestamp() - interval '60 seconds' WHERE run_id = :run;
SELECT adagio.heartbeat(:agent, ARRAY[pg_temp.token_of(:run, 'bounded'), pg_temp.token_of(:run, 'free')]);
SELECT is((SELECT lease_expires_at FROM adagio.nodes WHERE run_id = :run AND name = 'bounded'),
          (SELECT claimed_at + interval '35 seconds' FROM adagio.nodes WHERE run_id = :run AND name = 'bounded'),
          'past it, a heartbeat extends the lease no further than the timeout plus one lease');
SELECT ok((SELECT lease_expires_at >= clock_timestamp() + interval '29 seconds' FROM adagio.nodes WHERE run_id = :run AND name = 'free'),
          'a node without a timeout is extended as usual');

SELECT is(adagio.sweep() ->> 'orphaned', '1', 'the sweep takes the timed-out claim back');
SELECT ok((SELECT reason LIKE 'orphaned: slowpoke (id ' || :agent || ') did not report within the node''s timeout of 5 s; its lease expired at %'
           FROM adagio.attempts WHERE run_id = :run AND node_id = (SELECT id FROM adagio.nodes WHERE run_id = :run AND name = 'bounded')),
          'as an error whose reason names the timeout');
SELECT is(pg_temp.node_states(:run), 'bounded=ready free=running', 'the retry policy applies: bounded is ready again');

SELECT * FROM finish();
ROLLBACK;

-- Retries can wait (backoff), and runs can be cancelled.
BEGIN;
\ir helpers.psql
SELECT plan(14);

SELECT adagio.register_agent('tap', '{debug}') AS agent \gset
SELECT adagio.start_run('{"nodes":[{"name":"b","runtime":"debug","retry":{"error":{"max_attempts":3,"backoff":{"initial_delay_seconds":0.3,"multiplier":2,"max_delay_seconds":10}}}}]}') AS run \gset
SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete(pg_temp.token_of(:run, 'b'), 'error', 'e1') AS r \gset
SELECT is((:'r'::jsonb) ->> 'outcome', 'retrying', 'an error with a backoff policy is retried');
SELECT is(pg_temp.node_states(:run), 'b=scheduled', 'but waits, scheduled');
SELECT ok((SELECT ready_at BETWEEN clock_timestamp() + interval '0.1 s' AND clock_timestamp() + interval '0.31 s' FROM adagio.nodes WHERE run_id = :run),
  'due after the initial delay');
SELECT is(pg_temp.claim_names(:agent), '', 'a scheduled node is not claimable');
SELECT is(adagio.sweep() ->> 'timers_fired', '0', 'a sweep before it is due changes nothing');
SELECT pg_sleep(0.35);
SELECT is(adagio.sweep() ->> 'timers_fired', '1', 'once due, the sweep makes it ready');
SELECT is(pg_temp.claim_names(:agent), 'b', 'and it is claimable');
SELECT adagio.complete(pg_temp.token_of(:run, 'b'), 'error', 'e2');
SELECT ok((SELECT ready_at > clock_timestamp() + interval '0.45 s' FROM adagio.nodes WHERE run_id = :run), 'the second wait is longer (x2)');

-- Cancellation.
SELECT adagio.start_run(:'example') AS run2 \gset
SELECT adagio.claim(:agent, 1) AS claimed \gset
SELECT (:'claimed'::jsonb) -> 0 ->> 'claim_token' AS tok \gset
SELECT is(adagio.cancel_run(:run2) ->> 'nodes_cancelled', '7', 'cancel stops every unfinished node');
SELECT is((SELECT status FROM adagio.runs WHERE id = :run2), 'cancelled', 'the run says so');
SELECT is(adagio.heartbeat(:agent, ARRAY[:'tok'::uuid]), ARRAY[:'tok'::uuid], 'the holder learns at its next heartbeat');
SELECT throws_ok(format('SELECT adagio.complete(%L, %L)', :'tok', 'success'), '55000', NULL, 'and cannot report');
SELECT throws_ok(format('SELECT adagio.cancel_run(%s)', :run2), '55000', NULL, 'a finished run cannot be cancelled again');
SELECT throws_ok('SELECT adagio.cancel_run(-3)', '42704', 'run -3 does not exist', 'unknown run');

SELECT * FROM finish();
ROLLBACK;

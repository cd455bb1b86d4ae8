# The PostgreSQL server restarts in the middle of a run: workers reconnect, results finished
# while the server was away are reported afterwards, and no node is lost or run twice.
source "$(dirname "$0")/lib.sh"

start_worker w1 --heartbeat-interval 0.5
start_worker w2 --heartbeat-interval 0.5
run=$(sql -c "SELECT adagio.start_run(jsonb_build_object(
  'nodes', (SELECT jsonb_agg(jsonb_build_object('name', format('n%s', lpad(i::text, 2, '0')), 'runtime', 'debug',
              'metadata', jsonb_build_object('sleep', '300ms', 'output', 'out ' || i))) FROM generate_series(0, 15) i),
  'edges', (SELECT jsonb_agg(jsonb_build_object('source', format('n%s', lpad(i::text, 2, '0')),
              'destination', format('n%s', lpad((i + 1)::text, 2, '0')))) FROM generate_series(0, 14) i)))")
wait_for 30 "SELECT count(*) >= 3 FROM adagio.nodes WHERE run_id = $run AND state = 'completed'" t
restart_server
pass "server restarted mid-run"
expect_eq "$(wait_run "$run" 60)" success "the run still completes"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.attempts WHERE run_id = $run")" 16 "one attempt per node: none lost, none run twice"

# A node that finishes while the server is down: the worker keeps the result and reports it later.
run2=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"through\",\"runtime\":\"debug\",\"metadata\":{\"sleep\":\"1500ms\",\"output\":\"kept\"}}]}')")
wait_for 20 "SELECT state FROM adagio.nodes WHERE run_id = $run2" running
$ADAGIO_SERVER_AS "$ADAGIO_PG_BIN/pg_ctl" -D "$ADAGIO_SANDBOX_DIR/data" -w -m fast stop >/dev/null
sleep 3  # the node finishes meanwhile
$ADAGIO_SERVER_AS "$ADAGIO_PG_BIN/pg_ctl" -D "$ADAGIO_SANDBOX_DIR/data" -l "$ADAGIO_SANDBOX_DIR/server.log" -w start >/dev/null
expect_eq "$(wait_run "$run2" 30)" success "the result held during the outage was reported"
expect_eq "$(sql -c "SELECT attempt_count || ' ' || output FROM adagio.nodes WHERE run_id = $run2")" "1 kept" "by the worker that ran it, once"
kill -0 "${worker_pids[0]}" && kill -0 "${worker_pids[1]}" || fail "workers must survive the outage"
pass "both workers survived"

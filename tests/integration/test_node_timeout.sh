# A node's timeout_seconds: the worker cancels an attempt that runs past it and reports it as an
# error, so the retry policy applies; a node that finishes in time is untouched. And the server's
# backstop: a worker (here a plain SQL client) that heartbeats on but never reports loses the
# claim one lease after the timeout, and the sweeper concludes it as an error naming the timeout.
source "$(dirname "$0")/lib.sh"

start_worker timekeeper --runtimes exec,debug --heartbeat-interval 0.5
log="$artifacts/timekeeper.log"

run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[
  {\"name\":\"hangs\",\"runtime\":\"exec\",\"timeout_seconds\":2,\"retry\":{\"error\":{\"max_attempts\":2}},\"metadata\":{\"command\":\"sleep\",\"args\":[\"3599\"]}},
  {\"name\":\"in_time\",\"runtime\":\"debug\",\"timeout_seconds\":30,\"metadata\":{\"sleep\":\"1s\",\"output\":\"done\"}}]}')")
expect_eq "$(wait_run "$run" 30)" failed "the run failed: its hanging node ran out of attempts"
expect_eq "$(sql -c "SELECT string_agg(a.conclusion || ':' || a.output, ',' ORDER BY a.attempt) FROM adagio.attempts a JOIN adagio.nodes n ON n.id = a.node_id WHERE n.run_id = $run AND n.name = 'hangs'")" \
  "error:timed out after 2 s (timeout_seconds),error:timed out after 2 s (timeout_seconds)" \
  "each attempt of sleep 3599 was stopped at its 2 s timeout and reported as an error"
durations=$(sql -c "SELECT string_agg(round(extract(epoch FROM a.finished_at - a.started_at))::text, ',' ORDER BY a.attempt) FROM adagio.attempts a JOIN adagio.nodes n ON n.id = a.node_id WHERE n.run_id = $run AND n.name = 'hangs'")
for d in ${durations//,/ }; do [ "$d" -ge 2 ] && [ "$d" -le 6 ] || fail "an attempt took ${d}s, not about 2 s"; done
pass "each attempt took about 2 s ($durations), not 3599"
expect_eq "$(sql -c "SELECT conclusion || ':' || output FROM adagio.nodes WHERE run_id = $run AND name = 'in_time'")" "success:done" \
  "a node that finished within its timeout succeeded"
expect_eq "$(grep -c "node hangs ran past its timeout of 2 s: cancelling the execution" "$log")" 2 "the worker logged each timeout"
pgrep -f "^sleep 3599$" >/dev/null && fail "a sleep 3599 is still running: $(pgrep -a -f "^sleep 3599$")"
pass "no sleep 3599 was left running"

# The backstop: an agent that heartbeats every 0.5 s but never reports. The claim's lease (2 s)
# stops being extended 2 s after its timeout (2 s); the sweeper (every 0.25 s here) takes it back.
stop_workers
agent=$(sql -c "SELECT adagio.register_agent('silent', '{debug}')")
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"unreported\",\"runtime\":\"debug\",\"timeout_seconds\":2,\"lease_seconds\":2}]}')")
token=$(sql -c "SELECT c ->> 'claim_token' FROM json_array_elements(adagio.claim($agent, 1)) c")
[ -n "$token" ] || fail "the SQL client should have claimed the node"
lost=""
for _ in $(seq 1 40); do
  lost=$(sql -c "SELECT array_length(adagio.heartbeat($agent, ARRAY['$token'::uuid]), 1)")
  [ "$lost" = 1 ] && break
  sleep 0.5
done
expect_eq "$lost" 1 "a heartbeat at last reports the claim lost"
expect_eq "$(sql -c "SELECT round(extract(epoch FROM a.finished_at - a.started_at)) BETWEEN 4 AND 8 FROM adagio.attempts a WHERE a.run_id = $run")" t \
  "about one lease after the timeout, though heartbeats kept coming"
sql -c "SELECT reason FROM adagio.attempts WHERE run_id = $run" | grep -q "^orphaned: silent (id $agent) did not report within the node's timeout of 2 s; its lease expired at" ||
  fail "the attempt's reason should name the timeout: $(sql -c "SELECT reason FROM adagio.attempts WHERE run_id = $run")"
pass "the sweeper concluded it as an error naming the timeout"
expect_eq "$(sql -c "SELECT conclusion FROM adagio.runs WHERE id = $run")" failed "no retry policy: the run failed"

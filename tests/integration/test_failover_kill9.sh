# kill -9 a worker in the middle of a node: the sweeper orphans its claim once the lease lapses,
# another worker completes the run, and the node's attempts show the orphaned error, then success.
source "$(dirname "$0")/lib.sh"

lease=2
start_worker victim --heartbeat-interval 0.5
victim=$last_worker_pid
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"long\",\"runtime\":\"debug\",\"lease_seconds\":$lease,\"retry\":{\"error\":{\"max_attempts\":2}},\"metadata\":{\"sleep\":\"3s\",\"output\":\"finished\"}}]}')")
wait_for 20 "SELECT state || ' ' || (SELECT name FROM adagio.agents a WHERE a.id = claimed_by) FROM adagio.nodes WHERE run_id = $run" "running victim"
sleep 1  # a heartbeat or two, so the lease is being kept alive when the worker dies
kill -9 "$victim"
killed_at=$(sql -c "SELECT clock_timestamp()")
start_worker rescuer --heartbeat-interval 0.5

expect_eq "$(wait_run "$run" 30)" success "another worker completed the run"
expect_eq "$(sql -c "SELECT string_agg(t.conclusion || '/' || a.name, ',' ORDER BY t.attempt) FROM adagio.attempts t JOIN adagio.agents a ON a.id = t.agent_id WHERE t.run_id = $run")" \
  "error/victim,success/rescuer" "attempts: the victim's orphaned error, then the rescuer's success"
sql -c "SELECT reason FROM adagio.attempts WHERE run_id = $run AND attempt = 1" | grep -q "^orphaned: victim" ||
  fail "the first attempt should say it was orphaned"
pass "the orphaned attempt names the agent that missed its lease"
# Recovery is bounded by the lease plus one sweep interval (0.25 s in the sandbox); allow slack
# for a heavily loaded machine, but not another lease.
recovery=$(sql -c "SELECT round(extract(epoch FROM finished_at - '$killed_at'::timestamptz)::numeric, 2) FROM adagio.attempts WHERE run_id = $run AND attempt = 1")
echo "orphaned ${recovery}s after the kill (lease ${lease}s)"
awk -v r="$recovery" -v l="$lease" 'BEGIN { exit !(r <= l + 0.25 + 1.5) }' || fail "recovery took ${recovery}s, more than lease + sweep interval"
pass "recovery within lease + sweep interval"

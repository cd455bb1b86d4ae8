# A worker paused (SIGSTOP) past its lease and then resumed: its late report is refused, the
# node's result is the one from the agent that re-claimed it, and nothing is double-counted.
source "$(dirname "$0")/lib.sh"

WORKER_TAG=paused start_worker paused --heartbeat-interval 0.5
paused=$last_worker_pid
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"n\",\"runtime\":\"exec\",\"lease_seconds\":1,\"retry\":{\"error\":{\"max_attempts\":2}},\"metadata\":{\"command\":\"sh\",\"args\":[\"-c\",\"sleep 2; echo result of \$WORKER_TAG\"]}}]}')")
wait_for 20 "SELECT state FROM adagio.nodes WHERE run_id = $run" running
kill -STOP "$paused"
WORKER_TAG=rescuer start_worker rescuer --heartbeat-interval 0.5
expect_eq "$(wait_run "$run" 30)" success "the rescuer completed the run while the first worker was paused"
kill -CONT "$paused"
sleep 4  # the paused worker wakes, finds its child done, and tries to report
expect_eq "$(sql -c "SELECT output FROM adagio.nodes WHERE run_id = $run")" "result of rescuer" "the result is the rescuer's"
expect_eq "$(sql -c "SELECT string_agg(t.conclusion || '/' || a.name, ',' ORDER BY t.attempt) FROM adagio.attempts t JOIN adagio.agents a ON a.id = t.agent_id WHERE t.run_id = $run")" \
  "error/paused,success/rescuer" "exactly two attempts: the orphaned one and the rescuer's"
grep -Eiq "no longer held|lost" "$artifacts/paused.log" || fail "the paused worker should log that its claim was lost"
pass "the paused worker learned that its claim was gone: $(grep -Ei 'no longer held|lost' "$artifacts/paused.log" | head -1)"
kill -0 "$paused" || fail "the paused worker should survive"
pass "and carries on"

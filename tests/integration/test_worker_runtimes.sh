# A runtime that is not enabled on a worker is never claimed by it.
source "$(dirname "$0")/lib.sh"

start_worker debug-only --runtimes debug
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"x\",\"runtime\":\"exec\",\"metadata\":{\"command\":\"true\"}},{\"name\":\"y\",\"runtime\":\"debug\"}]}')")
for _ in $(seq 1 100); do
  [ "$(sql -c "SELECT state FROM adagio.nodes WHERE run_id = $run AND name = 'y'")" = completed ] && break
  sleep 0.1
done
expect_eq "$(sql -c "SELECT state FROM adagio.nodes WHERE run_id = $run AND name = 'y'")" completed "the debug node ran"
sleep 1.5  # several poll intervals
expect_eq "$(sql -c "SELECT state || ' ' || attempt_count FROM adagio.nodes WHERE run_id = $run AND name = 'x'")" "ready 0" \
  "the exec node was left alone"
start_worker exec-only --runtimes exec
expect_eq "$(wait_run "$run" 30)" success "a worker with exec picks it up"
expect_eq "$(sql -c "SELECT a.name FROM adagio.nodes n JOIN adagio.agents a ON a.id = n.claimed_by WHERE n.run_id = $run AND n.name = 'x'")" \
  exec-only "and only that worker ran it"
"$worker_bin" --runtimes nosuch >/dev/null 2>&1 && fail "an unknown runtime must be refused"
pass "a worker refuses to enable a runtime it does not have"

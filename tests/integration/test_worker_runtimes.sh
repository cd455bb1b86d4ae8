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

# A pool of its own: nodes of runtime "gpu", served with the exec runtime by the workers started
# with --runtimes gpu=exec, and by no others.
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"g\",\"runtime\":\"gpu\",\"metadata\":{\"command\":\"sh\",\"args\":[\"-c\",\"echo \$ADAGIO_NODE ran\"]}}]}')")
sleep 1.5  # several poll intervals of the workers still running
expect_eq "$(sql -c "SELECT state || ' ' || attempt_count FROM adagio.nodes WHERE run_id = $run")" "ready 0" \
  "no worker without the alias claims a gpu node"
start_worker gpu-pool --runtimes gpu=exec
expect_eq "$(wait_run "$run" 30)" success "a worker started with --runtimes gpu=exec runs it"
expect_eq "$(sql -c "SELECT a.name || ' ' || n.output FROM adagio.nodes n JOIN adagio.agents a ON a.id = n.claimed_by WHERE n.run_id = $run")" \
  "gpu-pool g ran" "with the exec runtime, on that worker"
expect_eq "$(sql -c "SELECT runtimes::text FROM adagio.agents WHERE name = 'gpu-pool'")" "{gpu}" \
  "the pool's worker serves gpu alone, not exec"
set +e
"$worker_bin" --runtimes debug=exec >/dev/null 2>"$artifacts/alias.err"
code=$?
set -e
expect_eq "$code" 2 "an alias that shadows a runtime of the binary is a usage error"
grep -q '"debug" is already a runtime of this binary' "$artifacts/alias.err" && pass "which says so" ||
  fail "unexpected message: $(cat "$artifacts/alias.err")"

# exec's fail_exit_codes: an exit status listed there is the program's verdict, "fail", and the
# node's retry.fail rule applies (two attempts); another status is an "error", with no retry.error
# rule here (one attempt).
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[
  {\"name\":\"rejects\",\"runtime\":\"exec\",\"metadata\":{\"command\":\"sh\",\"args\":[\"-c\",\"exit 3\"],\"fail_exit_codes\":[\"2\",\"3\"]},\"retry\":{\"fail\":{\"max_attempts\":2}}},
  {\"name\":\"crashes\",\"runtime\":\"exec\",\"metadata\":{\"command\":\"sh\",\"args\":[\"-c\",\"exit 4\"],\"fail_exit_codes\":[\"2\",\"3\"]},\"retry\":{\"fail\":{\"max_attempts\":2}}}]}')")
expect_eq "$(wait_run "$run" 30)" failed "a run whose node exits with a listed status fails"
expect_eq "$(sql -c "SELECT string_agg(name || ' ' || conclusion || ' ' || attempt_count, ', ' ORDER BY name) FROM adagio.nodes WHERE run_id = $run")" \
  "crashes error 1, rejects fail 2" "the listed status is fail and retried by retry.fail; the other is error"

# An exec node's process does not outlive its worker, even one killed with SIGKILL: it would go
# on running beside the retry that another worker starts once the lease lapses.
source "$(dirname "$0")/lib.sh"

start_worker doomed --runtimes exec
doomed=$last_worker_pid
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"long\",\"runtime\":\"exec\",\"metadata\":{\"command\":\"sleep\",\"args\":[\"300\"]}}]}')")
wait_for 20 "SELECT state FROM adagio.nodes WHERE run_id = $run" running
child=""
for _ in $(seq 1 50); do child=$(pgrep -P "$doomed" -x sleep || true); [ -n "$child" ] && break; sleep 0.1; done
[ -n "$child" ] || fail "the worker should have started sleep 300"
pass "the worker runs the node as its child (pid $child)"

kill -9 "$doomed"
wait "$doomed" 2>/dev/null || true
for _ in $(seq 1 50); do kill -0 "$child" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$child" 2>/dev/null; then
  kill -9 "$child"
  fail "sleep 300 (pid $child) outlived its worker's SIGKILL by 5 s"
fi
pass "the node's process ended with its worker"

# SIGTERM lets running work finish and be reported, deregisters the agent and exits 0; NOTIFY
# wakes an idle worker long before its poll timer would.
source "$(dirname "$0")/lib.sh"

start_worker graceful --poll-interval 30
pid=$last_worker_pid
sleep 1
started=$(date +%s%N)
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"slow\",\"runtime\":\"debug\",\"metadata\":{\"sleep\":\"2s\",\"output\":\"finished\"}}]}')")
for _ in $(seq 1 50); do
  [ "$(sql -c "SELECT state FROM adagio.nodes WHERE run_id = $run")" = running ] && break
  sleep 0.1
done
woke_ms=$(( ($(date +%s%N) - started) / 1000000 ))
[ "$woke_ms" -lt 5000 ] || fail "a notification should wake the worker (poll timer is 30s), took ${woke_ms}ms"
pass "NOTIFY woke the idle worker"
kill -TERM "$pid"
status=0; wait "$pid" || status=$?
expect_eq "$status" 0 "the worker exits 0 on SIGTERM"
expect_eq "$(sql -c "SELECT state || ' ' || conclusion || ' ' || output FROM adagio.nodes WHERE run_id = $run")" \
  "completed success finished" "the node it held was finished and reported"
expect_eq "$(sql -c "SELECT status FROM adagio.agents WHERE name = 'graceful'")" stopped "the agent deregistered"
worker_pids=()

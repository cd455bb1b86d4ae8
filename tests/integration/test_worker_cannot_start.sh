# A worker that cannot start says why and exits 1, instead of retrying forever: a database without
# the extension, a role without adagio_worker, and, with --once-idle, a database it never reaches.
source "$(dirname "$0")/lib.sh"

# run_worker NAME SECONDS [flags...]: runs a worker in the foreground, at most SECONDS; prints its
# exit status (124: still running, killed).
run_worker() {
  local name="$1" seconds="$2"; shift 2
  timeout "$seconds" "$worker_bin" --name "$name" --runtimes debug "$@" >"$artifacts/$name.log" 2>&1
  echo $?
}

sql -c "CREATE DATABASE noext"
expect_eq "$(run_worker noext 20 --dsn "dbname=noext")" 1 "a database without the extension: exit 1"
grep -q "is the adagio extension installed? run: CREATE EXTENSION adagio" "$artifacts/noext.log" ||
  fail "the log says what to do: $(cat "$artifacts/noext.log")"
pass "and the log says to create the extension"

sql -c "CREATE ROLE not_a_worker LOGIN"
expect_eq "$(run_worker norole 20 --dsn "user=not_a_worker")" 1 "a role without adagio_worker: exit 1"
grep -q "permission denied.*grant the worker's role adagio_worker" "$artifacts/norole.log" ||
  fail "the log names the role to grant: $(cat "$artifacts/norole.log")"
pass "and the log names the role to grant"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.agents")" 0 "neither registered an agent"

expect_eq "$(run_worker unreachable 30 --dsn "host=/nonexistent-adagio-dir connect_timeout=1" --once-idle --idle-exit 2)" 1 \
  "--once-idle, a database never reached: exit 1"
grep -q "could not connect and register within 2s (--once-idle)" "$artifacts/unreachable.log" ||
  fail "the log says so: $(cat "$artifacts/unreachable.log")"
pass "after --idle-exit, and the log says so"

# The same worker with a database it can use still starts, runs and exits 0 when idle.
sql -c "GRANT adagio_worker TO not_a_worker"
expect_eq "$(run_worker granted 30 --dsn "user=not_a_worker" --once-idle --idle-exit 1)" 0 "granted the role: runs, exits 0 once idle"

# Helpers for integration tests; sourced by each test, which runs inside scripts/pg-sandbox.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
worker_bin="$root/build/worker/adagio-worker"
artifacts="${ADAGIO_ARTIFACTS:?}"
mkdir -p "$artifacts"
worker_pids=()

sql() { psql -X -At -v ON_ERROR_STOP=1 "$@"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }
expect_eq() {  # expect_eq ACTUAL EXPECTED DESCRIPTION
  [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
  pass "$3"
}

# start_worker NAME [worker flags...]: runs a worker in the background, logging to artifacts;
# its pid is left in $last_worker_pid (call it directly, not in $(...), so it stays our child).
start_worker() {
  local name="$1"; shift
  local poll=(--poll-interval 0.5)
  case " $* " in *" --poll-interval "*) poll=() ;; esac
  "$worker_bin" --name "$name" "${poll[@]+"${poll[@]}"}" "$@" >"$artifacts/$name.log" 2>&1 &
  last_worker_pid=$!
  worker_pids+=($last_worker_pid)
}
stop_workers() {
  for pid in "${worker_pids[@]+"${worker_pids[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${worker_pids[@]+"${worker_pids[@]}"}"; do wait "$pid" 2>/dev/null || true; done
  worker_pids=()
}
trap stop_workers EXIT

# wait_run RUN_ID [SECONDS]: waits until the run is completed or cancelled; prints its conclusion.
wait_run() {
  local run="$1" limit="${2:-60}" status
  for _ in $(seq 1 $((limit * 10))); do
    status=$(sql -c "SELECT status || ' ' || coalesce(conclusion::text, '') FROM adagio.runs WHERE id = $run")
    case "$status" in completed*|cancelled*) echo "${status#* }"; return 0 ;; esac
    sleep 0.1
  done
  sql -c "SELECT name, state, conclusion, attempt_count FROM adagio.nodes WHERE run_id = $run ORDER BY position" >&2
  fail "run $run did not finish within ${limit}s (status: $status)"
}

# restart_server: a fast restart of the sandbox's PostgreSQL (connections drop, state survives).
restart_server() {
  $ADAGIO_SERVER_AS "$ADAGIO_PG_BIN/pg_ctl" -D "$ADAGIO_SANDBOX_DIR/data" -l "$ADAGIO_SANDBOX_DIR/server.log" \
    -w -t 60 -m fast restart >/dev/null
}

# wait_for SECONDS SQL EXPECTED: polls until the query returns EXPECTED.
wait_for() {
  local limit="$1" query="$2" expected="$3" got=""
  for _ in $(seq 1 $((limit * 10))); do
    got=$(sql -c "$query" 2>/dev/null || true)
    [ "$got" = "$expected" ] && return 0
    sleep 0.1
  done
  fail "waited ${limit}s for [$query] to return '$expected', last got '$got'"
}

sql -q -c "CREATE EXTENSION IF NOT EXISTS adagio"

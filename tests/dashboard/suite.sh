# Runs inside scripts/pg-sandbox (tests/dashboard/run): starts two workers and five dashboards
# (token, actions open, actions disabled, a role that may only read, no database), then the API
# and browser tests.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
artifacts="${ADAGIO_ARTIFACTS:?}"
cd "$root"
read -r -a dashboard_cmd <<<"${ADAGIO_DASHBOARD_CMD:-build/cli/adagio dashboard}"

children=()
cleanup() {
  for pid in "${children[@]+"${children[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${children[@]+"${children[@]}"}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS adagio"

for name in worker-a worker-b; do
  build/worker/adagio-worker --name "$name" --runtimes exec,debug --poll-interval 0.3 --heartbeat-interval 1 \
    >"$artifacts/$name.log" 2>&1 &
  children+=($!)
done

# start_dashboard NAME FLAGS...: starts one on a free port; sets $url to its address.
start_dashboard() {
  local name="$1"; shift
  "${dashboard_cmd[@]}" --port 0 "$@" >"$artifacts/dashboard-$name.out" 2>"$artifacts/dashboard-$name.log" &
  children+=($!)
  url=""
  for _ in $(seq 1 100); do
    url=$(sed -n 's|^adagio-dashboard: listening on \(http://[^ ]*\)/ .*|\1|p' "$artifacts/dashboard-$name.out")
    [ -n "$url" ] && return 0
    kill -0 "${children[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  cat "$artifacts/dashboard-$name.log" >&2
  echo "FAIL: the $name dashboard did not start" >&2
  exit 1
}

export DASHBOARD_TOKEN="test-token-$RANDOM$RANDOM"
start_dashboard token --token "$DASHBOARD_TOKEN"
export DASHBOARD_URL="$url"
start_dashboard open --allow-actions
export DASHBOARD_OPEN_URL="$url"
start_dashboard disabled
export DASHBOARD_DISABLED_URL="$url"
# Actions open, but its database role may only read: an action is a 403 naming the missing role.
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE ROLE dashboard_reader LOGIN" -c "GRANT adagio_reader TO dashboard_reader"
PGUSER=dashboard_reader start_dashboard reader --allow-actions
export DASHBOARD_READER_URL="$url"
# No database behind it: every data call must be a clean 503.
start_dashboard nodb --dsn "host=/nonexistent-adagio-socket-dir connect_timeout=2"
export DASHBOARD_NODB_URL="$url"
export DASHBOARD_STDOUT="$artifacts/dashboard-token.out"
echo "dashboards: $DASHBOARD_URL (token), $DASHBOARD_OPEN_URL (open), $DASHBOARD_DISABLED_URL (disabled)"

node --test --test-reporter=spec "$here/api.test.mjs"
node --test --test-reporter=spec "$here/browser.test.mjs"

# The dashboard logs failures it hides from clients; none of these tests should cause one.
if grep -h "internal error\| 500$" "$artifacts"/dashboard-*.log; then
  echo "FAIL: a dashboard logged an internal error (above)" >&2
  exit 1
fi

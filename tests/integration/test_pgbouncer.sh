# Workers behind PgBouncer in transaction mode (Debian 12 ships 1.18, which keeps no prepared
# statements across transactions). Each transaction of a client may land on a different server
# connection, and here all clients share one (default_pool_size = 1), so named prepared
# statements collide: a second ordinary worker fails to register (42P05), which shows what the
# pooler does. Workers started with --transaction-pooling send unprepared statements and run
# every part of the protocol (register, claim, heartbeat, logs, patch, report, deregister)
# through it; with --listen-dsn, a direct connection carries their LISTEN and wakes them.
source "$(dirname "$0")/lib.sh"

bouncer="$ADAGIO_SANDBOX_DIR/bouncer"
$ADAGIO_SERVER_AS mkdir -p "$bouncer"
$ADAGIO_SERVER_AS tee "$bouncer/pgbouncer.ini" >/dev/null <<INI
[databases]
adagio = host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=$PGUSER
[pgbouncer]
listen_addr =
listen_port = 6432
unix_socket_dir = $bouncer
auth_type = any
pool_mode = transaction
default_pool_size = 1
max_client_conn = 50
logfile = $bouncer/pgbouncer.log
pidfile = $bouncer/pgbouncer.pid
INI
$ADAGIO_SERVER_AS /usr/sbin/pgbouncer -d "$bouncer/pgbouncer.ini" ||
  fail "pgbouncer did not start: $(cat "$bouncer/pgbouncer.log" 2>/dev/null)"
finish() {
  stop_workers
  [ -f "$bouncer/pgbouncer.pid" ] && kill "$(cat "$bouncer/pgbouncer.pid")" 2>/dev/null || true
  cp "$bouncer/pgbouncer.log" "$artifacts/" 2>/dev/null || true
}
trap finish EXIT
pooled="host=$bouncer port=6432 dbname=adagio"
direct="host=$PGHOST port=$PGPORT dbname=$PGDATABASE"
wait_for 10 "SELECT 1" 1
expect_eq "$(psql -X -At -d "$pooled" -c "SELECT 41 + 1")" 42 "pgbouncer serves the database"

# Two ordinary workers through the pooler: the second one's prepared statements collide with the
# first's on the one server connection they share.
start_worker plain-1 --dsn "$pooled" --runtimes debug
wait_for 20 "SELECT count(*) FROM adagio.agents WHERE name = 'plain-1'" 1
start_worker plain-2 --dsn "$pooled" --runtimes debug
for _ in $(seq 1 100); do grep -q 'already exists' "$artifacts/plain-2.log" && break; sleep 0.1; done
grep -q 'prepared statement "adagio_register" already exists' "$artifacts/plain-2.log" ||
  fail "expected a prepared-statement collision, worker log: $(cat "$artifacts/plain-2.log")"
pass "without --transaction-pooling, a second worker's prepared statements collide (42P05)"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.agents WHERE name = 'plain-2'")" 0 "and it cannot register"
stop_workers

# Two pooled workers, polling, share the one server connection. Each node prints (logs), sleeps
# past a few heartbeats, and the first one adds a node to the run (a patch).
start_worker pooled-1 --dsn "$pooled" --transaction-pooling --runtimes exec --heartbeat-interval 0.2 --concurrency 2
start_worker pooled-2 --dsn "$pooled" --transaction-pooling --runtimes exec --heartbeat-interval 0.2 --concurrency 2
wait_for 20 "SELECT count(*) FROM adagio.agents WHERE name LIKE 'pooled-%' AND status = 'active'" 2
run=$(sql <<'SQL'
SELECT adagio.start_run(jsonb_build_object(
  'nodes', (SELECT jsonb_agg(jsonb_build_object('name', 'n' || i, 'runtime', 'exec', 'metadata',
              jsonb_build_object('command', 'sh', 'args', jsonb_build_array('-c',
                'echo "hello from $ADAGIO_NODE"; sleep 0.6; ' ||
                CASE WHEN i = 1 THEN 'echo "{\"nodes\":[{\"name\":\"added\",\"runtime\":\"exec\",\"metadata\":{\"command\":\"true\"}}],\"edges\":[{\"source\":\"n1\",\"destination\":\"added\"}]}" > "$ADAGIO_PATCH_FILE"; ' ELSE '' END ||
                'echo "$ADAGIO_NODE done"'))))
            FROM generate_series(1, 6) i),
  'edges', '[]'::jsonb))
SQL
)
expect_eq "$(wait_run "$run" 60)" success "a run finishes through the pooler"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.nodes WHERE run_id = $run AND conclusion = 'success'")" 7 \
  "every node succeeded, the one its patch added too"
expect_eq "$(sql -c "SELECT count(DISTINCT node_id) FROM adagio.node_logs WHERE run_id = $run AND text LIKE 'hello from %'")" 6 \
  "the nodes' logs arrived"
grep -q 'prepared statement' "$artifacts"/pooled-*.log && fail "a pooled worker met a prepared-statement error"
grep -q 'transaction-pooling (no LISTEN: polling)' "$artifacts/pooled-1.log" || fail "the pooled worker did not say it polls"
pass "the pooled workers met no prepared-statement error"
stop_workers
expect_eq "$(sql -c "SELECT string_agg(status::text, ',') FROM adagio.agents WHERE name LIKE 'pooled-%'")" "stopped,stopped" \
  "they deregistered through the pooler"

# A pooled worker with a direct connection for LISTEN: woken by the ready notification (its log at
# debug level names it), not by a poll, which comes only once a minute.
start_worker listening --dsn "$pooled" --transaction-pooling --listen-dsn "$direct" --runtimes exec \
  --poll-interval 60 --log-level debug
wait_for 20 "SELECT count(*) FROM adagio.agents WHERE name = 'listening' AND status = 'active'" 1
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"a\",\"runtime\":\"exec\",\"metadata\":{\"command\":\"true\"}}]}')")
expect_eq "$(wait_run "$run" 50)" success "a worker that listens on --listen-dsn runs the node"
grep -q 'notification on adagio.ready.exec' "$artifacts/listening.log" ||
  fail "no notification reached the worker: $(cat "$artifacts/listening.log")"
pass "the ready notification came through the direct connection"

# The command line through the pooler: it starts a run and waits for it (polling: no LISTEN reaches
# it there), then shows the run and its logs.
adagio="$root/build/cli/adagio"
printf '%s' '{"nodes":[{"name":"hi","runtime":"exec","metadata":{"command":"echo","args":["hello"]}}]}' >"$artifacts/hi.json"
"$adagio" --dsn "$pooled" --color never run start "$artifacts/hi.json" --wait --timeout 60 >"$artifacts/cli-start.out" 2>&1 ||
  fail "adagio run start --wait through the pooler: $(cat "$artifacts/cli-start.out")"
run=$(sql -c "SELECT max(id) FROM adagio.runs")
expect_eq "$(sql -c "SELECT status || ' ' || conclusion FROM adagio.runs WHERE id = $run")" "completed success" \
  "adagio run start --wait through the pooler waited for the run"
"$adagio" --dsn "$pooled" --color never run show "$run" >"$artifacts/cli-show.out" 2>&1 ||
  fail "adagio run show through the pooler: $(cat "$artifacts/cli-show.out")"
grep -q hi "$artifacts/cli-show.out" && pass "adagio run show works through the pooler" || fail "no node in: $(cat "$artifacts/cli-show.out")"
expect_eq "$("$adagio" --dsn "$pooled" --color never logs "$run" --no-prefix)" hello "adagio logs works through the pooler"

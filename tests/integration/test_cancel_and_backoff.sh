# Cancelling a run stops a running exec node and its children; retry backoff delays are respected.
source "$(dirname "$0")/lib.sh"

start_worker w --heartbeat-interval 0.5
pids="$artifacts/pids"
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"busy\",\"runtime\":\"exec\",\"metadata\":{\"command\":\"sh\",\"args\":[\"-c\",\"sleep 120 & echo \$\$ \$! > $pids; wait\"]}}]}')")
for _ in $(seq 1 100); do [ -s "$pids" ] && break; sleep 0.1; done
[ -s "$pids" ] || fail "the exec node did not start"
read -r shell_pid child_pid <"$pids"
kill -0 "$child_pid" || fail "the node's child should be running"
sql -c "SELECT adagio.cancel_run($run)" >/dev/null
for _ in $(seq 1 100); do kill -0 "$child_pid" 2>/dev/null || kill -0 "$shell_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$child_pid" 2>/dev/null && fail "the node's child process survived the cancellation"
kill -0 "$shell_pid" 2>/dev/null && fail "the node's shell survived the cancellation"
pass "cancel killed the exec node's whole process group"
expect_eq "$(sql -c "SELECT status FROM adagio.runs WHERE id = $run")" cancelled "the run is cancelled"
expect_eq "$(sql -c "SELECT state || ' ' || (SELECT reason FROM adagio.attempts t WHERE t.node_id = n.id) FROM adagio.nodes n WHERE run_id = $run")" \
  "cancelled cancelled: the run was cancelled" "the node and its attempt say so"

# Backoff: errors twice, with 1 s then 2 s between attempts.
counter="$artifacts/tries"
run2=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"flaky\",\"runtime\":\"exec\",\"retry\":{\"error\":{\"max_attempts\":3,\"backoff\":{\"initial_delay_seconds\":1,\"multiplier\":2}}},\"metadata\":{\"command\":\"sh\",\"args\":[\"-c\",\"echo x >> $counter; [ \$(wc -l < $counter) -ge 3 ]\"]}}]}')")
expect_eq "$(wait_run "$run2" 30)" success "the flaky node succeeds on its third attempt"
gaps=$(sql -c "SELECT string_agg(round(extract(epoch FROM t.started_at - p.finished_at)::numeric, 1)::text, ' ' ORDER BY t.attempt) FROM adagio.attempts t JOIN adagio.attempts p ON p.node_id = t.node_id AND p.attempt = t.attempt - 1 WHERE t.run_id = $run2")
echo "waits between attempts: $gaps s"
awk -v g="$gaps" 'BEGIN { split(g, w, " "); exit !(w[1] >= 1.0 && w[2] >= 2.0) }' || fail "backoff not respected: waits $gaps"
pass "each retry waited at least its backoff (1 s, then 2 s)"
expect_eq "$(sql -c "SELECT attempt_count FROM adagio.nodes WHERE run_id = $run2")" 3 "three attempts"

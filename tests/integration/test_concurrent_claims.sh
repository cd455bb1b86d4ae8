# Many sessions claim at once from the same pool: every node is claimed exactly once.
source "$(dirname "$0")/lib.sh"

nodes=3000 sessions=8
sql -q -c "SELECT adagio.start_run(jsonb_build_object('nodes',
             (SELECT jsonb_agg(jsonb_build_object('name', 'n' || i, 'runtime', 'debug')) FROM generate_series(1, $nodes) i)))"
sql -q -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"x\",\"runtime\":\"debug\"}]}') FROM generate_series(1, 500)" >/dev/null
total=$((nodes + 500))

# Each session commits after every batch, as a worker does.
sql -q <<'SQL'
CREATE PROCEDURE public.drain(agent_name text) LANGUAGE plpgsql AS $$
DECLARE
  agent bigint := adagio.register_agent(agent_name, '{debug}');
  claims jsonb;
  c jsonb;
BEGIN
  LOOP
    claims := adagio.claim(agent, 7);
    EXIT WHEN jsonb_array_length(claims) = 0;
    FOR c IN SELECT * FROM jsonb_array_elements(claims) LOOP
      PERFORM adagio.complete((c ->> 'claim_token')::uuid, 'success', agent_name);
    END LOOP;
    COMMIT;
  END LOOP;
END $$;
SQL
pids=()
for i in $(seq 1 $sessions); do
  sql -q -c "CALL public.drain('session-$i')" >"$artifacts/session-$i.log" 2>&1 & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || fail "a draining session failed: $(cat "$artifacts"/session-*.log)"; done

expect_eq "$(sql -c "SELECT count(*) FROM adagio.attempts")" "$total" "one attempt per node"
expect_eq "$(sql -c "SELECT count(*) FROM (SELECT node_id FROM adagio.attempts GROUP BY node_id HAVING count(*) > 1) d")" 0 \
  "no node was claimed twice"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.nodes WHERE state <> 'completed' OR conclusion <> 'success'")" 0 \
  "every node completed"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.runs WHERE status = 'completed' AND conclusion = 'success'")" 501 \
  "every run completed"
busy=$(sql -c "SELECT count(DISTINCT agent_id) FROM adagio.attempts")
[ "$busy" -ge 2 ] || fail "claims should spread over sessions, only $busy took part"
pass "$busy sessions shared the work"
# The output names the session that completed it; it must be the one that claimed it.
expect_eq "$(sql -c "SELECT count(*) FROM adagio.attempts t JOIN adagio.agents a ON a.id = t.agent_id WHERE t.output <> a.name")" 0 \
  "each node was reported by its claimer"

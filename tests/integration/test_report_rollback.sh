# A report rolled back by a deadlock or a serialization failure is sent again at once on the same
# connection, not taken for a lost connection; one rolled back every time is dropped after a few
# tries, and the sweeper's retry runs the node again. The rollbacks are injected by a trigger on
# the node's completion, with the SQLSTATEs the server uses for the real thing.
source "$(dirname "$0")/lib.sh"

sql -q <<'SQL'
CREATE SEQUENCE deadlocks_left;      -- nextval() is not rolled back with the failed report
CREATE SEQUENCE conflicts_left;
CREATE TABLE rolled_back_always (name text PRIMARY KEY);
-- Qualified names: the engine's functions run with search_path set to adagio.
CREATE FUNCTION inject_rollbacks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.name = 'deadlocks_twice' AND nextval('public.deadlocks_left') <= 2 THEN
    RAISE EXCEPTION 'deadlock detected (injected)' USING ERRCODE = '40P01';
  END IF;
  IF NEW.name = 'conflicts_once' AND nextval('public.conflicts_left') <= 1 THEN
    RAISE EXCEPTION 'could not serialize access (injected)' USING ERRCODE = '40001';
  END IF;
  IF EXISTS (SELECT 1 FROM public.rolled_back_always r WHERE r.name = NEW.name) THEN
    RAISE EXCEPTION 'deadlock detected (injected, every time)' USING ERRCODE = '40P01';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER inject_rollbacks BEFORE UPDATE ON adagio.nodes
  FOR EACH ROW WHEN (OLD.state = 'running' AND NEW.state = 'completed') EXECUTE FUNCTION inject_rollbacks();
SQL

start_worker rolled --runtimes debug --heartbeat-interval 0.5
log="$artifacts/rolled.log"

run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"deadlocks_twice\",\"runtime\":\"debug\",\"metadata\":{\"output\":\"a\"}},
  {\"name\":\"conflicts_once\",\"runtime\":\"debug\",\"metadata\":{\"output\":\"b\"}}],
  \"edges\":[{\"source\":\"deadlocks_twice\",\"destination\":\"conflicts_once\"}]}')")
expect_eq "$(wait_run "$run" 30)" success "the run succeeded through two deadlocks and a serialization failure"
expect_eq "$(sql -c "SELECT string_agg(name || ':' || attempt_count || ':' || output, ',' ORDER BY position) FROM adagio.nodes WHERE run_id = $run")" \
  "deadlocks_twice:1:a,conflicts_once:1:b" "each node ran once, its output kept"
expect_eq "$(grep -c "rolled back: deadlock detected (injected) (SQLSTATE 40P01); trying again" "$log")" 2 \
  "the worker logged each deadlock by its SQLSTATE and sent the report again"
expect_eq "$(grep -c "rolled back: could not serialize access (injected) (SQLSTATE 40001); trying again" "$log")" 1 \
  "and the serialization failure"
if grep -q "connection lost\|reconnect" "$log"; then fail "a rollback is not a lost connection: $(grep "connection lost\|reconnect" "$log")"; fi
pass "the worker kept its connection"

# Rolled back every time: a few tries as a batch, a few alone, then the result is dropped and the
# claim left to its lease. Once the rollbacks stop, the sweeper's retry runs the node again.
sql -q -c "INSERT INTO rolled_back_always VALUES ('stuck')"
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"stuck\",\"runtime\":\"debug\",\"lease_seconds\":2,\"retry\":{\"error\":{\"max_attempts\":2}},\"metadata\":{\"output\":\"c\"}}]}')")
for _ in $(seq 1 300); do grep -q "rolled back 4 times in a row; dropping the result" "$log" && break; sleep 0.1; done
grep -q "rolled back 4 times in a row; reporting them one by one" "$log" || fail "the batch should give up after 4 tries: $(tail -20 "$log")"
grep -q "reporting run $run node stuck was rolled back 4 times in a row; dropping the result" "$log" ||
  fail "the lone report should give up after 4 tries: $(tail -20 "$log")"
pass "a report rolled back every time is tried 4 times as a batch, 4 times alone, then dropped"
sql -q -c "DELETE FROM rolled_back_always"
expect_eq "$(wait_run "$run" 30)" success "the sweeper's retry ran the node again, and it succeeded"
expect_eq "$(sql -c "SELECT string_agg(conclusion || coalesce('/' || split_part(reason, ':', 1), ''), ',' ORDER BY attempt) FROM adagio.attempts WHERE run_id = $run")" \
  "error/orphaned,success" "attempts: the lapsed claim's error, then success"
if grep -q "connection lost\|reconnect" "$log"; then fail "still no lost connection: $(grep "connection lost\|reconnect" "$log")"; fi
pass "and the worker kept its connection throughout"

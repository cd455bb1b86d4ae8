# Approval gates with real workers, the CLI and the background sweeper: a gate opens once its
# upstream succeeded, no worker takes it, `adagio gate ls` lists it, `adagio gate approve` lets
# the workers run what follows (with the approval's output as input), `adagio gate reject` fails
# the run, and a gate left open past its timeout_seconds is concluded by the sweeper.
source "$(dirname "$0")/lib.sh"
adagio="$root/build/cli/adagio"
out="$artifacts/gate-out" err="$artifacts/gate-err"

start_worker gatekeeper-1 --runtimes exec,debug --poll-interval 0.2
start_worker gatekeeper-2 --runtimes exec,debug --poll-interval 0.2

gated='{"nodes":[
  {"name":"build","runtime":"exec","metadata":{"command":"sh","args":["-c","echo artifact-42"]}},
  {"name":"sign-off","runtime":"approval","metadata":{"message":"Deploy artifact-42?"}},
  {"name":"deploy","runtime":"exec","metadata":{"command":"sh","args":["-c","echo deployed"]}}],
 "edges":[{"source":"build","destination":"sign-off"},{"source":"sign-off","destination":"deploy"}]}'
# A listener, as a bot that asks people to decide would be: psql prints what it heard after the sleep.
printf 'LISTEN "adagio.ready.approval";\nSELECT pg_sleep(4);\nSELECT 1;\n' | psql -X -q >"$artifacts/gate-listener" 2>&1 &
listener=$!
wait_for 10 "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(4);' AND state = 'active'" 1  # listening
run=$(sql -v g="$gated" <<<"SELECT adagio.start_run(:'g')")
wait_for 20 "SELECT state FROM adagio.nodes WHERE run_id = $run AND name = 'sign-off'" ready
pass "the gate opened once the build succeeded"
wait "$listener"
expect_eq "$(grep -c 'Asynchronous notification "adagio.ready.approval"' "$artifacts/gate-listener")" 1 \
  "its opening was announced on adagio.ready.approval"
sleep 1.5  # two workers polling every 0.2 s, and ready work announced by NOTIFY: none takes the gate
expect_eq "$(sql -c "SELECT state || ' ' || attempt_count FROM adagio.nodes WHERE run_id = $run AND name = 'sign-off'")" "ready 0" \
  "no worker claimed the gate"
expect_eq "$(sql -c "SELECT status FROM adagio.runs WHERE id = $run")" running "the run waits"

"$adagio" gate ls >"$out"
grep -E "^$run +sign-off +1 +- .*Deploy artifact-42\?" "$out" >/dev/null || { cat "$out" >&2; fail "gate ls should list the gate"; }
pass "adagio gate ls lists it with its message"
expect_eq "$("$adagio" gate ls -o json | sql -v doc="$(cat)" <<<"SELECT d -> 0 -> 'inputs' ->> 'build' FROM (SELECT :'doc'::jsonb AS d) x")" \
  "artifact-42" "its JSON form carries the build's output, for the decider to look at"
"$adagio" run show "$run" >"$out"
grep -E "sign-off +approval +awaiting" "$out" >/dev/null || { cat "$out" >&2; fail "run show should show the gate awaiting"; }
pass "adagio run show shows it awaiting"

code=0; "$adagio" gate approve "$run" deploy >"$out" 2>"$err" || code=$?
expect_eq "$code" 5 "approving a worker's node is refused (exit 5)"
grep -q 'node "deploy" of run '"$run"' is not an approval gate' "$err" || { cat "$err" >&2; fail "the error should say why"; }
code=0; "$adagio" gate approve "$run" sign-off --attempt 2 >"$out" 2>"$err" || code=$?
expect_eq "$code" 5 "a decision for another attempt than the open one is refused (exit 5)"
grep -q "is open for attempt 1, not 2" "$err" || { cat "$err" >&2; fail "the error should name the attempts"; }
"$adagio" gate approve "$run" sign-off --output "approved by the on-call" --attempt 1 >"$out"
expect_eq "$(cat "$out")" "gate sign-off of run $run approved" "adagio gate approve approves it"
expect_eq "$(wait_run "$run" 20)" success "the workers ran deploy and the run succeeded"
expect_eq "$(sql -c "SELECT inputs ->> 'sign-off' FROM adagio.nodes WHERE run_id = $run AND name = 'deploy'")" \
  "approved by the on-call" "deploy got the approval's output as its input"
expect_eq "$(sql -c "SELECT detail ->> 'by' FROM adagio.events WHERE run_id = $run AND kind = 'node_decided'")" \
  "$(sql -c "SELECT session_user")" "the event log names who approved"
code=0; "$adagio" gate approve "$run" sign-off >"$out" 2>"$err" || code=$?
expect_eq "$code" 5 "a gate already decided cannot be decided again (exit 5)"

# A rejection is the gate's failed attempt: nothing downstream runs.
run=$(sql -v g="$gated" <<<"SELECT adagio.start_run(:'g')")
wait_for 20 "SELECT state FROM adagio.nodes WHERE run_id = $run AND name = 'sign-off'" ready
"$adagio" gate reject "$run" sign-off --reason "change freeze" >"$out"
expect_eq "$(cat "$out")" "gate sign-off of run $run rejected; run $run completed: failed" "adagio gate reject fails the run"
expect_eq "$(sql -c "SELECT string_agg(name || '=' || conclusion, ' ' ORDER BY position) FROM adagio.nodes WHERE run_id = $run")" \
  "build=success sign-off=fail deploy=never_reached" "deploy was never reached"
expect_eq "$(sql -c "SELECT output FROM adagio.attempts WHERE run_id = $run AND conclusion = 'fail'")" "change freeze" \
  "the reason is kept as the attempt's output"

# A deadline: the background sweeper concludes a gate nobody decided in time as an error.
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"late\",\"runtime\":\"approval\",\"timeout_seconds\":1},{\"name\":\"after\",\"runtime\":\"debug\"}],\"edges\":[{\"source\":\"late\",\"destination\":\"after\"}]}')")
expect_eq "$(wait_run "$run" 20)" failed "nobody decided: the run failed on its own"
expect_eq "$(sql -c "SELECT conclusion || ': ' || reason FROM adagio.attempts WHERE run_id = $run")" \
  "error: not decided within the gate's timeout of 1 s" "the sweeper concluded the gate as an error naming its timeout"
expect_eq "$("$adagio" gate ls 2>&1)" "no approval gates are open" "no gate is left open"

# The adagio CLI against a real cluster and real workers: start --wait and its exit codes, run show
# in every format (dot checked by Graphviz, mermaid by Mermaid's own parser), following events
# live, cancel, retry, workflows, connection settings and errors.
source "$(dirname "$0")/lib.sh"
adagio="$root/build/cli/adagio"
mermaid_check="$root/tests/integration/tools/mermaid-check"
out="$artifacts/out" err="$artifacts/err"

# expect_exit CODE DESCRIPTION -- COMMAND...: runs COMMAND (stdout to $out, stderr to $err).
expect_exit() {
  local want="$1" what="$2"; shift 3
  local got=0
  "$@" >"$out" 2>"$err" || got=$?
  [ "$got" = "$want" ] || { cat "$out" "$err" >&2; fail "$what: exit $got, expected $want"; }
  pass "$what (exit $want)"
}
# jsonq FILE EXPRESSION: evaluates a SQL expression over the file's JSON, bound as doc (jsonb).
jsonq() { sql -v doc="$(cat "$1")" <<<"SELECT $2 FROM (SELECT :'doc'::jsonb AS doc) d"; }
expect_in() {  # expect_in FILE TEXT DESCRIPTION
  grep -qF -- "$2" "$1" || { cat "$1" >&2; fail "$3: '$2' not found"; }
  pass "$3"
}

start_worker cli-w1 --concurrency 4
start_worker cli-w2 --concurrency 4

# The seed graph, its coin toss retried enough that the runs below that wait for success succeed.
seed="$artifacts/seed-graph.json"
"$root/tests/tools/seed-graph-retried" >"$seed"

# --- start --wait: success and failure, with exit codes --------------------------------------
expect_exit 0 "run start --wait on the seed graph succeeds" -- "$adagio" run start "$seed" --wait
run_ok=$(head -1 "$out")
expect_in "$out" "run $run_ok succeeded" "the outcome line names the run"
expect_in "$err" "7/7 nodes" "progress shows nodes done out of the total"
expect_eq "$(sql -c "SELECT conclusion FROM adagio.runs WHERE id = $run_ok")" success "the database agrees"

cat >"$artifacts/failing.json" <<'JSON'
{"nodes": [{"name": "fetch", "runtime": "debug"},
           {"name": "check", "runtime": "exec", "metadata": {"command": "sh", "args": ["-c", "echo check failed >&2; exit 3"]}},
           {"name": "publish", "runtime": "debug"}],
 "edges": [{"source": "fetch", "destination": "check"}, {"source": "check", "destination": "publish"}]}
JSON
expect_exit 1 "run start --wait on a failing graph exits 1" -- "$adagio" run start "$artifacts/failing.json" --wait
run_bad=$(head -1 "$out")
expect_in "$out" "run $run_bad failed" "the outcome says failed"
expect_in "$out" "check: error" "and names the failing node"
expect_in "$out" "1 never reached" "and what was never reached"

# --- run show in every format ---------------------------------------------------------------
expect_exit 0 "run show (table)" -- "$adagio" run show "$run_bad"
expect_in "$out" "never_reached" "the table shows publish never reached"
expect_in "$out" "check failed" "and the failing attempt's output"
if grep -q $'\033' "$out"; then fail "no colour codes when stdout is not a terminal"; fi
pass "no colour when not on a terminal"
expect_exit 0 "--color always forces colour" -- "$adagio" --color always run show "$run_bad"
grep -q $'\033\[3' "$out" || fail "--color always: no escape codes"

expect_exit 0 "run show --format json" -- "$adagio" run show "$run_ok" --format json
expect_eq "$(jsonq "$out" "doc ->> 'status'")" completed "the json parses and has the status"
expect_eq "$(jsonq "$out" "jsonb_array_length(doc -> 'nodes')")" 7 "and all 7 nodes"

expect_exit 0 "run show --format dot" -- "$adagio" run show "$run_bad" --format dot
cp "$out" "$artifacts/run.dot"
dot -Tsvg "$artifacts/run.dot" -o "$artifacts/run.svg" || fail "graphviz dot rejected the output"
pass "graphviz dot renders it ($(wc -c <"$artifacts/run.svg") bytes of SVG)"
expect_in "$artifacts/run.dot" '"check" [label="check\nerror' "the failing node is labelled error"
expect_in "$artifacts/run.dot" '#ffab91' "and filled with the error colour"
expect_in "$artifacts/run.dot" '"fetch" -> "check"' "edges are drawn"

expect_exit 0 "run show --format mermaid" -- "$adagio" run show "$run_bad" --format mermaid
cp "$out" "$artifacts/run.mmd"
if [ ! -d "$mermaid_check/node_modules" ]; then
  (cd "$mermaid_check" && "$root/scripts/npm-ci") >"$artifacts/npm.log" 2>&1 ||
    { cat "$artifacts/npm.log" >&2; fail "npm ci for the mermaid checker"; }
fi
node "$mermaid_check/check.mjs" "$artifacts/run.mmd" || fail "mermaid rejected the output"
pass "mermaid parses it"
expect_in "$artifacts/run.mmd" "class n2 never_reached" "publish is classed never_reached"

# --- events: the timeline, and following it live ----------------------------------------------
expect_exit 0 "events --run" -- "$adagio" events --run "$run_bad"
expect_in "$out" "check  attempt_finished error" "the timeline records the error"
expect_in "$out" "publish  node_never_reached" "and the node never reached"

"$adagio" events --follow --format json >"$artifacts/follow-all.jsonl" 2>&1 &
follow_all=$!
sleep 0.5
slow='{"nodes":[{"name":"one","runtime":"debug","metadata":{"sleep":"1s"}},{"name":"two","runtime":"debug","metadata":{"sleep":"1s"}}],"edges":[{"source":"one","destination":"two"}]}'
run_slow=$(echo "$slow" | "$adagio" run start -)
timeout 30 "$adagio" events --run "$run_slow" --follow >"$artifacts/follow-run.txt" 2>&1 ||
  fail "events --run --follow should end by itself when the run finishes"
pass "events --run --follow streamed until the run finished"
# two is handed to the worker that reported one (node_claimed without a node_ready) or, when
# another worker's claim is quicker, queued first (node_ready, then node_claimed).
grep -o 'one  node_claimed\|one  attempt_finished\|two  node_claimed\|two  attempt_finished\|run_completed' \
  "$artifacts/follow-run.txt" | tr '\n' ',' >"$artifacts/order"
expect_eq "$(cat "$artifacts/order")" "one  node_claimed,one  attempt_finished,two  node_claimed,two  attempt_finished,run_completed," \
  "the followed events come in order"
sleep 1.5  # the poll fallback is 1 s; NOTIFY normally wakes the follower at once
kill "$follow_all"; wait "$follow_all" 2>/dev/null || true
expect_eq "$(grep -c "\"run_id\":$run_slow" "$artifacts/follow-all.jsonl")" \
  "$(sql -c "SELECT count(*) FROM adagio.events WHERE run_id = $run_slow")" \
  "events --follow (all runs) saw every event of the new run, as JSON lines"

# --- cancel and retry --------------------------------------------------------------------------
long='{"nodes":[{"name":"long","runtime":"exec","metadata":{"command":"sleep","args":["60"]}}]}'
run_long=$(echo "$long" | "$adagio" run start -)
wait_for 15 "SELECT state FROM adagio.nodes WHERE run_id = $run_long" running
expect_exit 0 "run cancel" -- "$adagio" run cancel "$run_long"
expect_in "$out" "1 node cancelled, 1 running attempt stopped" "cancel reports the node and the stopped attempt"
expect_exit 5 "cancelling it again is refused" -- "$adagio" run cancel "$run_long"
expect_in "$err" "is already cancelled" "with the reason"

# --- conclude a node by hand ---------------------------------------------------------------------
# A running node whose program would wait a minute is concluded by hand: its output goes
# downstream, the run finishes, and its worker stops the program (it lost the claim).
hand='{"nodes":[{"name":"wait-for-it","runtime":"exec","metadata":{"command":"sleep","args":["60"]}},
  {"name":"after","runtime":"exec","metadata":{"command":"sh","args":["-c","echo got $ADAGIO_INPUT_wait_for_it"]}}],
  "edges":[{"source":"wait-for-it","destination":"after"}]}'
run_hand=$(echo "$hand" | "$adagio" run start -)
wait_for 15 "SELECT state FROM adagio.nodes WHERE run_id = $run_hand AND name = 'wait-for-it'" running
expect_exit 0 "run conclude" -- "$adagio" run conclude "$run_hand" wait-for-it --as success --output by-hand
expect_in "$out" "node wait-for-it of run $run_hand concluded success: succeeded" "says what became of the node"
expect_eq "$(wait_run "$run_hand" 30)" success "the run went on and finished"
expect_eq "$(sql -c "SELECT output FROM adagio.nodes WHERE run_id = $run_hand AND name = 'after'")" "got by-hand" \
  "the output given went downstream"
for _ in $(seq 1 100); do grep -q "claim lost for run $run_hand node wait-for-it" "$artifacts"/cli-w*.log && break; sleep 0.1; done
grep -q "claim lost for run $run_hand node wait-for-it" "$artifacts"/cli-w*.log && pass "its worker stopped the program" ||
  fail "no worker stopped the program"
expect_exit 5 "concluding a completed node is refused" -- "$adagio" run conclude "$run_hand" after --as fail
expect_in "$err" "cannot be concluded now" "with the reason"
expect_exit 4 "an unknown node" -- "$adagio" run conclude "$run_hand" nope
expect_exit 2 "an unknown conclusion is a usage error" -- "$adagio" run conclude "$run_hand" after --as maybe

marker="$artifacts/ready-to-pass"
cat >"$artifacts/retry.json" <<JSON
{"nodes": [{"name": "prepare", "runtime": "debug"},
           {"name": "gate", "runtime": "exec", "metadata": {"command": "test", "args": ["-f", "$marker"]}},
           {"name": "after", "runtime": "debug"}],
 "edges": [{"source": "prepare", "destination": "gate"}, {"source": "gate", "destination": "after"}]}
JSON
expect_exit 1 "a run whose gate fails" -- "$adagio" run start "$artifacts/retry.json" --wait
run_retry=$(head -1 "$out")
expect_exit 5 "retrying a successful run is refused" -- "$adagio" run retry "$run_ok"
touch "$marker"
expect_exit 0 "run retry --wait from the failed node succeeds" -- "$adagio" run retry "$run_retry" --wait
expect_in "$out" "2 nodes to run again" "only gate and after run again"
expect_eq "$(sql -c "SELECT string_agg(name || ':' || attempt_count, ' ' ORDER BY position) FROM adagio.nodes WHERE run_id = $run_retry")" \
  "prepare:1 gate:2 after:1" "prepare kept its success; gate ran twice"
expect_exit 4 "run retry --from an unknown node" -- "$adagio" run retry "$run_retry" --from nope
expect_in "$err" "has no node \"nope\"" "names the node"
expect_exit 0 "run retry --from gate runs gate and after again, in a run that succeeded" -- \
  "$adagio" run retry "$run_retry" --from gate --wait
expect_in "$out" "2 nodes to run again" "gate and what is downstream of it"
expect_eq "$(sql -c "SELECT string_agg(name || ':' || attempt_count, ' ' ORDER BY position) FROM adagio.nodes WHERE run_id = $run_retry")" \
  "prepare:1 gate:3 after:2" "prepare kept its output; gate and after ran again"

# --- run ls -------------------------------------------------------------------------------------
expect_exit 0 "run ls" -- "$adagio" run ls
expect_eq "$(awk 'NR == 2 {print $1}' "$out")" "$run_retry" "newest first"
expect_exit 0 "run ls --status cancelled" -- "$adagio" run ls --status cancelled
expect_eq "$(tail -n +2 "$out" | awk '{print $1}' | tr '\n' ' ')" "$run_long " "only the cancelled run"
expect_exit 0 "run ls --limit 2 --format json" -- "$adagio" run ls --limit 2 --format json --since 1h
expect_eq "$(jsonq "$out" "jsonb_array_length(doc)")" 2 "two runs as JSON"
expect_exit 0 "run ls --until 1h (nothing that old)" -- "$adagio" run ls --until 1h
expect_in "$err" "no runs match" "an empty listing says so"

# --- workflows, agents, stats ------------------------------------------------------------------
expect_exit 0 "workflow define" -- "$adagio" workflow define nightly "$seed"
expect_in "$out" "workflow nightly version 1" "prints the version"
expect_exit 0 "workflow ls" -- "$adagio" workflow ls
expect_in "$out" "nightly" "lists it"
expect_exit 0 "workflow show" -- "$adagio" workflow show nightly
expect_in "$err" "workflow nightly version 1" "names the version it prints"
expect_eq "$(jsonq "$out" "doc = (SELECT graph FROM adagio.workflows WHERE name = 'nightly' AND version = 1)")" t \
  "prints the stored graph, as JSON"
cp "$out" "$artifacts/nightly-shown.json"
expect_exit 0 "workflow show's output defines the same graph again" -- "$adagio" workflow define nightly-copy "$artifacts/nightly-shown.json"
expect_eq "$(sql -c "SELECT a.graph = b.graph FROM adagio.workflows a, adagio.workflows b WHERE a.name = 'nightly' AND b.name = 'nightly-copy'")" t \
  "the copy's graph is the same"
expect_exit 4 "workflow show of an unknown workflow" -- "$adagio" workflow show no-such-flow
expect_in "$err" "no workflow named no-such-flow" "says so"
expect_exit 4 "workflow show --version of a missing version" -- "$adagio" workflow show nightly --version 9
expect_in "$err" "workflow nightly has no version 9" "says so"
expect_exit 0 "run start --workflow --input --wait" -- "$adagio" run start --workflow nightly -i day=2026-11-22 -i count=3 --wait
run_wf=$(head -1 "$out")
expect_eq "$(sql -c "SELECT workflow_name || ' ' || inputs::text FROM adagio.runs WHERE id = $run_wf")" \
  'nightly {"day": "2026-11-22", "count": 3}' "inputs typed as JSON where they are JSON"
# Many runs of a workflow in one call (adagio.start_runs): the same inputs N times, or a line each.
expect_exit 0 "run start --workflow --count" -- "$adagio" run start --workflow nightly --count 3 -i batch=yes
expect_eq "$(wc -l <"$out")" 3 "prints one id per run"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.runs WHERE id IN ($(paste -sd, "$out")) AND workflow_name = 'nightly'
                     AND inputs = '{\"batch\": \"yes\"}'")" 3 "three runs of the workflow, each with the inputs"
printf '{"day": 1}\n\n{"day": 2}\n' >"$artifacts/inputs.jsonl"
expect_exit 0 "run start --inputs-lines" -- "$adagio" run start --workflow nightly --inputs-lines "$artifacts/inputs.jsonl"
expect_eq "$(sql -c "SELECT string_agg(inputs ->> 'day', ' ' ORDER BY id) FROM adagio.runs WHERE id IN ($(paste -sd, "$out"))")" \
  "1 2" "one run per line, in order (blank lines skipped)"
printf '{"day": 1}\n[2]\n' >"$artifacts/bad.jsonl"
runs_before=$(sql -c "SELECT count(*) FROM adagio.runs")
expect_exit 2 "a line that is not an object is refused" -- "$adagio" run start --workflow nightly --inputs-lines "$artifacts/bad.jsonl"
expect_in "$err" "line 2" "naming the line"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.runs")" "$runs_before" "and nothing is started"
expect_exit 2 "--count needs --workflow" -- "$adagio" run start "$root/examples/seed-graph.json" --count 2
expect_exit 2 "--count with --wait is refused" -- "$adagio" run start --workflow nightly --count 2 --wait
expect_exit 2 "--timeout without --wait is refused" -- "$adagio" run start --workflow nightly --timeout 5
expect_in "$err" "--timeout requires --wait" "saying it needs --wait"
expect_exit 0 "agents" -- "$adagio" agents
expect_in "$out" "cli-w1" "lists the workers"
succeeded_before=$(sql -c "SELECT count(*) FROM adagio.nodes WHERE conclusion = 'success'")
expect_exit 0 "stats --format json" -- "$adagio" stats --format json
expect_eq "$(jsonq "$out" "doc #>> '{runs,cancelled}'")" 1 "stats count the cancelled run"
# (workers are still running runs started above: the count is compared with what had succeeded before)
expect_eq "$(jsonq "$out" "(doc #>> '{node_conclusions,success}')::int >= $succeeded_before")" t "and the nodes that succeeded"
expect_exit 0 "stats" -- "$adagio" stats
expect_in "$out" "ended" "the table has a line of completed nodes by conclusion"

# --- errors and exit codes ---------------------------------------------------------------------
expect_exit 4 "run show of an unknown run" -- "$adagio" run show 424242
expect_in "$err" "run 424242 does not exist" "names the run"
expect_exit 2 "a run id that is not a number" -- "$adagio" run show abc
expect_in "$err" "ID: must be a positive integer, got abc" "says what an id is"
expect_exit 2 "a run id beyond bigint" -- "$adagio" run show 99999999999999999999
expect_in "$err" "must be a positive integer up to 9223372036854775807" "is refused, not clamped"
expect_exit 2 "an unknown subcommand" -- "$adagio" run explode
expect_in "$err" 'unknown command "explode" for "adagio run"; the commands are: start, ls, show, patch, cancel, conclude, retry' \
  "names it and lists the commands"
expect_exit 2 "an unknown command" -- "$adagio" bogus
expect_in "$err" 'unknown command "bogus" for "adagio"' "names it too"
echo '{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"}],"edges":[{"source":"a","destination":"b"},{"source":"b","destination":"a"}]}' >"$artifacts/cycle.json"
expect_exit 3 "graph validate rejects a cycle offline" -- env -u PGHOST "$adagio" graph validate "$artifacts/cycle.json"
expect_in "$err" "graph has a cycle: a -> b -> a" "naming the cycle"
expect_exit 0 "graph validate accepts the seed graph" -- "$adagio" graph validate "$root/examples/seed-graph.json"
expect_in "$out" "7 nodes, 8 edges, 2 roots, 4 layers" "and describes it"
expect_exit 3 "the server rejects the cycle too" -- "$adagio" run start "$artifacts/cycle.json"
expect_in "$err" "graph has a cycle" "with the same message"
expect_exit 2 "an unreadable file" -- "$adagio" run start /nonexistent.json
expect_exit 6 "cannot connect" -- "$adagio" --dsn "host=/nonexistent-dir port=5999 dbname=app" stats
expect_in "$err" 'database "app" on host /nonexistent-dir port 5999' "says where it tried"
expect_in "$err" "No such file or directory" "and why"
# A deadlock (injected by a trigger, with the server's SQLSTATE) is a database error that says to
# run the command again, and leaves no run behind.
sql -q <<'SQL'
CREATE FUNCTION public.inject_deadlock() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN RAISE EXCEPTION 'deadlock detected (injected)' USING ERRCODE = '40P01'; END $$;
CREATE TRIGGER inject_deadlock BEFORE INSERT ON adagio.nodes
  FOR EACH ROW WHEN (NEW.name = 'deadlocked') EXECUTE FUNCTION public.inject_deadlock();
SQL
runs_before=$(sql -c "SELECT count(*) FROM adagio.runs")
echo '{"nodes":[{"name":"deadlocked","runtime":"debug"}]}' >"$artifacts/deadlocked.json"
expect_exit 6 "a command rolled back by a deadlock" -- "$adagio" run start "$artifacts/deadlocked.json"
expect_in "$err" "deadlock detected (injected) (SQLSTATE 40P01)" "names the rollback by its SQLSTATE"
expect_in "$err" "changed nothing: run it again" "and says to run it again"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.runs")" "$runs_before" "and no run was left behind"
sql -q -c "DROP TRIGGER inject_deadlock ON adagio.nodes"
sql -c "CREATE ROLE cli_nobody LOGIN" >/dev/null
expect_exit 6 "a role without adagio grants" -- env PGUSER=cli_nobody "$adagio" stats
expect_in "$err" "grant the connecting role adagio_reader" "is told which role to grant"

# A service name, like every libpq tool.
printf '[sandbox]\nhost=%s\nport=%s\ndbname=%s\nuser=%s\n' "$PGHOST" "$PGPORT" "$PGDATABASE" "$PGUSER" >"$artifacts/pg_service.conf"
expect_exit 0 "--service reads pg_service.conf" -- env -u PGHOST -u PGDATABASE PGSERVICEFILE="$artifacts/pg_service.conf" "$adagio" --service sandbox stats

# adagio worker is the stock worker.
expect_exit 0 "adagio worker --help" -- "$adagio" worker --help
expect_in "$out" "--concurrency" "shows the worker's flags"

# --- idempotency keys ---------------------------------------------------------------------------
# A retried start (the first's answer lost, say) prints the run the first one started.
expect_exit 0 "run start --idempotency-key" -- "$adagio" run start "$seed" --idempotency-key cli-import-7 --input day=mon
keyed=$(head -1 "$out")
expect_exit 0 "the same command again" -- "$adagio" run start "$seed" --idempotency-key cli-import-7 --input day=mon
expect_eq "$(head -1 "$out")" "$keyed" "prints the same run"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.runs WHERE idempotency_key = 'cli-import-7'")" 1 "and started one run only"
expect_exit 3 "the key with other inputs" -- "$adagio" run start "$seed" -k cli-import-7 --input day=tue
expect_in "$err" "idempotency key \"cli-import-7\" already started run $keyed with a different graph or inputs" "is refused, naming the run"
expect_in "$err" "use a new key for a different run" "with a hint"
# Many runs under one key: KEY-1, KEY-2, ... in input order, so the whole command can be retried.
printf '{"day": "mon"}\n{"day": "tue"}\n{"day": "wed"}\n' >"$artifacts/days.jsonl"
expect_exit 0 "--inputs-lines with a key" -- "$adagio" run start -w nightly --inputs-lines "$artifacts/days.jsonl" -k cli-days
cp "$out" "$artifacts/days.ids"
expect_eq "$(sql -c "SELECT string_agg(idempotency_key || '=' || (inputs ->> 'day'), ',' ORDER BY id) FROM adagio.runs WHERE id IN ($(paste -sd, "$out"))")" \
  "cli-days-1=mon,cli-days-2=tue,cli-days-3=wed" "each run is named KEY-N, in input order"
expect_exit 0 "the same command again" -- "$adagio" run start -w nightly --inputs-lines "$artifacts/days.jsonl" -k cli-days
expect_eq "$(cat "$out")" "$(cat "$artifacts/days.ids")" "prints the same runs"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.runs WHERE idempotency_key LIKE 'cli-days-%'")" 3 "and starts none"
expect_exit 0 "--count with a key" -- "$adagio" run start -w nightly -n 2 -k cli-many
expect_eq "$(sql -c "SELECT string_agg(idempotency_key, ',' ORDER BY id) FROM adagio.runs WHERE idempotency_key LIKE 'cli-many-%'")" \
  "cli-many-1,cli-many-2" "--count names its runs the same way"

# --- delayed starts ------------------------------------------------------------------------------
# --start-at takes a duration from now or a timestamp; the sweeper starts the run when it is due.
expect_exit 0 "run start --start-at 2s --wait" -- "$adagio" run start "$seed" --start-at 2s --wait
delayed=$(head -1 "$out")
expect_in "$out" "run $delayed succeeded" "the delayed run ran to its end"
expect_eq "$(sql -c "SELECT r.start_at IS NOT NULL AND min(n.claimed_at) >= r.start_at
                     FROM adagio.runs r JOIN adagio.nodes n ON n.run_id = r.id WHERE r.id = $delayed GROUP BY r.start_at")" \
  t "no node was claimed before its start time"
expect_exit 0 "run start --at a timestamp" -- "$adagio" run start -w nightly --at '2099-01-01 00:00:00+00'
later=$(head -1 "$out")
expect_exit 0 "run ls" -- "$adagio" run ls
expect_eq "$(awk -v id="$later" '$1 == id { print $3 }' "$out")" scheduled "run ls shows the run waiting as scheduled"
expect_exit 0 "run show" -- "$adagio" run show "$later"
expect_in "$out" "start at 2099-01-01" "run show gives its start time"
expect_exit 0 "run start --count with --at" -- "$adagio" run start -w nightly -n 2 --at 1h
expect_eq "$(sql -c "SELECT count(*) FROM adagio.runs WHERE id IN ($(paste -sd, "$out")) AND start_at > now() + interval '50 minutes'")" \
  2 "start_runs() takes it too, for every run"
expect_exit 0 "cancel a delayed run" -- "$adagio" run cancel "$later"
expect_exit 3 "an unreadable --at" -- "$adagio" run start -w nightly --at 'next tuesday'
expect_in "$err" "next tuesday" "is refused by the server, naming the value"

# --- priorities ----------------------------------------------------------------------------------
expect_exit 0 "run start --priority" -- "$adagio" run start -w nightly --priority 5 --at 1h
urgent=$(head -1 "$out")
expect_eq "$(sql -c "SELECT priority FROM adagio.runs WHERE id = $urgent")" 5 "the run has the priority given"
expect_exit 0 "run show" -- "$adagio" run show "$urgent"
expect_in "$out" "priority 5" "run show gives it"
expect_exit 0 "run ls --format json" -- "$adagio" run ls --format json
expect_eq "$(jsonq "$out" "(SELECT r ->> 'priority' FROM jsonb_array_elements(doc) r WHERE (r ->> 'id')::bigint = $urgent)")" 5 \
  "and run ls"
expect_exit 0 "cancel it" -- "$adagio" run cancel "$urgent"
expect_exit 3 "a priority out of range" -- "$adagio" run start -w nightly -p 5000
expect_in "$err" "priority must be between -1000 and 1000, got 5000" "is refused by the server, naming it"

# --- concurrency keys ----------------------------------------------------------------------------
echo '{"nodes": [{"name": "nobody", "runtime": "no-such-runtime"}]}' >"$artifacts/stuck.json"
expect_exit 0 "run start --concurrency-key (a run no worker takes)" -- \
  "$adagio" run start "$artifacts/stuck.json" --concurrency-key cli-deploy
blocking=$(head -1 "$out")
expect_exit 0 "another run of the key" -- "$adagio" run start -w nightly --concurrency-key cli-deploy
behind=$(head -1 "$out")
expect_exit 0 "run show" -- "$adagio" run show "$behind"
expect_in "$out" "concurrency key cli-deploy  (waiting for 1 run to end)" "run show says what it waits for"
expect_exit 0 "run ls" -- "$adagio" run ls
expect_eq "$(awk -v id="$behind" '$1 == id { print $3 }' "$out")" scheduled "run ls shows the waiting run as scheduled"
expect_exit 0 "cancel the first" -- "$adagio" run cancel "$blocking"
expect_eq "$(wait_run "$behind" 30)" success "then the second runs, to its end"
expect_exit 0 "run start --concurrency-limit" -- "$adagio" run start "$artifacts/stuck.json" --concurrency-key cli-pool --concurrency-limit 2
pooled=$(head -1 "$out")
expect_eq "$(sql -c "SELECT concurrency_key || ':' || concurrency_limit FROM adagio.runs WHERE id = $pooled")" cli-pool:2 "the run has the key and limit given"
expect_exit 0 "run show" -- "$adagio" run show "$pooled"
expect_in "$out" "concurrency key cli-pool (2 at a time)" "run show gives the limit"
expect_exit 0 "cancel it" -- "$adagio" run cancel "$pooled"

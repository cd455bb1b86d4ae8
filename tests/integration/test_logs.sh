# Node logs with a real worker: an exec program's stdout and stderr reach adagio.node_logs while it
# still runs (the program waits for a marker file the test creates only once its first line is in
# the table, so nothing depends on timing), `adagio logs --follow` prints them as they come and
# ends with the run, and lines of several nodes are told apart.
source "$(dirname "$0")/lib.sh"

adagio="$root/build/cli/adagio"
start_worker logger --runtimes exec --poll-interval 0.2 --concurrency 2
marker="$artifacts/go-on"
rm -f "$marker"

run=$(sql -v marker="$marker" <<'SQL'
SELECT adagio.start_run(jsonb_build_object(
  'nodes', jsonb_build_array(
    jsonb_build_object('name', 'long', 'runtime', 'exec', 'metadata', jsonb_build_object('command', 'sh', 'args',
      jsonb_build_array('-c', 'echo "step 1 of 2"; echo "warming up" >&2; while [ ! -f "$1" ]; do sleep 0.05; done; printf "step 2 of 2\n"; echo result', 'sh', :'marker'))),
    jsonb_build_object('name', 'after', 'runtime', 'exec', 'metadata', jsonb_build_object('command', 'sh', 'args',
      jsonb_build_array('-c', 'echo "after here"')))),
  'edges', jsonb_build_array(jsonb_build_object('source', 'long', 'destination', 'after'))))
SQL
)
"$adagio" logs "$run" --follow >"$artifacts/follow.out" 2>"$artifacts/follow.err" &
follower=$!

wait_for 20 "SELECT count(*) FROM adagio.logs($run) WHERE text LIKE '%step 1 of 2%'" 1
expect_eq "$(sql -c "SELECT state FROM adagio.nodes WHERE run_id = $run AND name = 'long'")" running \
  "the first line is in the database while the node still runs"
wait_for 20 "SELECT count(*) FROM adagio.logs($run) WHERE text LIKE '%warming up%'" 1
pass "stderr is streamed too"
touch "$marker"
expect_eq "$(wait_run "$run" 30)" success "the run finished"
wait "$follower" || fail "adagio logs --follow exited $?: $(cat "$artifacts/follow.err")"
pass "adagio logs --follow ended with the run"

expect_eq "$(sql -c "SELECT string_agg(text, '' ORDER BY id) FROM adagio.logs($run, 'long')")" \
  "$(printf 'step 1 of 2\nwarming up\nstep 2 of 2\nresult')" "the node's log holds everything it printed, in order"
expect_eq "$(sql -c "SELECT output FROM adagio.nodes WHERE run_id = $run AND name = 'long'")" \
  "$(printf 'step 1 of 2\nstep 2 of 2\nresult')" "its output is still its stdout"
expect_eq "$(cat "$artifacts/follow.out")" "$(printf 'long | step 1 of 2\nlong | warming up\nlong | step 2 of 2\nlong | result\nafter | after here')" \
  "the follower printed each node's lines, named"
expect_eq "$("$adagio" --color never logs "$run" --node after)" "after here" "--node prints one node's log as it is"
set +e
"$adagio" logs "$run" --node nope >/dev/null 2>"$artifacts/nope.err"
code=$?
set -e
expect_eq "$code" 4 "an unknown node exits 4"
grep -q 'has no node "nope"' "$artifacts/nope.err" && pass "and says so" || fail "unexpected error: $(cat "$artifacts/nope.err")"

# A worker told to send no logs (--max-log-bytes 0, for programs whose output must not be kept):
# the node runs, and its run has no log.
stop_workers
start_worker quiet --runtimes exec --poll-interval 0.2 --max-log-bytes 0
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"secret\",\"runtime\":\"exec\",\"metadata\":{\"command\":\"echo\",\"args\":[\"s3cr3t\"]}}]}')")
expect_eq "$(wait_run "$run" 30)" success "a worker with --max-log-bytes 0 runs the node"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.node_logs WHERE run_id = $run")" 0 "and sends no log"
stop_workers
start_worker logger --runtimes exec --poll-interval 0.2

# An older extension, without append_logs(): the worker notices once, stops sending logs, and the
# nodes run and report as before.
fn="adagio.append_logs(uuid[], text[])"
sql -c "ALTER EXTENSION adagio DROP FUNCTION $fn" -c "DROP FUNCTION $fn" >/dev/null
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"chatty\",\"runtime\":\"exec\",\"metadata\":{\"command\":\"echo\",\"args\":[\"hi\"]}},
  {\"name\":\"again\",\"runtime\":\"exec\",\"metadata\":{\"command\":\"echo\",\"args\":[\"ho\"]}}],
  \"edges\":[{\"source\":\"chatty\",\"destination\":\"again\"}]}')")
expect_eq "$(wait_run "$run" 30)" success "without append_logs() (an older extension) the nodes still run and report"
expect_eq "$(grep -c 'node logs are not sent' "$artifacts/logger.log")" 1 "the worker noticed once"

# Real worker processes run the seed's example graph to completion, with outputs flowing from node
# to node through exec's environment, and a node that errors once and is retried.
source "$(dirname "$0")/lib.sh"

# One slot each, and roots that take half a second: while one worker runs a root, the other must
# take the second one (a worker that reports claims in the same call, so with free slots one
# worker could otherwise run a whole small graph by itself).
start_worker w1 --concurrency 1
start_worker w2 --concurrency 1

mark="$artifacts/flaky-ran-once"
graph=$(cat <<JSON
{"nodes":[
  {"name":"a","runtime":"exec","metadata":{"command":"sh","args":["-c","sleep 0.5; echo A"]}},
  {"name":"b","runtime":"exec","metadata":{"command":"sh","args":["-c","sleep 0.5; echo B"]}},
  {"name":"c","runtime":"exec","metadata":{"command":"sh","args":["-c","echo \"c<\$ADAGIO_INPUT_a>\""]}},
  {"name":"d","runtime":"exec","retry":{"error":{"max_attempts":2}},
   "metadata":{"command":"sh","args":["-c","if [ ! -e $mark ]; then touch $mark; echo first try >&2; exit 3; fi; echo \"d<\$ADAGIO_INPUT_a,\$ADAGIO_INPUT_b>\""]}},
  {"name":"e","runtime":"exec","metadata":{"command":"sh","args":["-c","echo \"\$ADAGIO_INPUT_c+\$ADAGIO_INPUT_d\""]}},
  {"name":"f","runtime":"debug","metadata":{"sleep":"200ms","output":"F"}},
  {"name":"g","runtime":"exec","metadata":{"command":"sh","args":["-c","echo \"\$ADAGIO_INPUT_e|\$ADAGIO_INPUT_f|\$ADAGIO_PARAM_who|\$ADAGIO_ARG_tag\""],"tag":"t1"}}],
 "edges":[{"source":"a","destination":"c"},{"source":"a","destination":"d"},{"source":"b","destination":"d"},
  {"source":"b","destination":"f"},{"source":"c","destination":"e"},{"source":"d","destination":"e"},
  {"source":"e","destination":"g"},{"source":"f","destination":"g"}]}
JSON
)
run=$(sql -v g="$graph" <<<"SELECT adagio.start_run(:'g'::jsonb, '{\"who\": \"me\"}')")
expect_eq "$(wait_run "$run" 60)" success "the run concludes success"
expect_eq "$(sql -c "SELECT output FROM adagio.nodes WHERE run_id = $run AND name = 'g'")" "c<A>+d<A,B>|F|me|t1" \
  "outputs, run inputs and arguments reach the commands"
expect_eq "$(sql -c "SELECT string_agg(t.conclusion::text, ',' ORDER BY t.attempt) FROM adagio.attempts t JOIN adagio.nodes n ON n.id = t.node_id WHERE n.run_id = $run AND n.name = 'd'")" \
  "error,success" "d errored once and was retried"
sql -c "SELECT t.output FROM adagio.attempts t JOIN adagio.nodes n ON n.id = t.node_id WHERE n.run_id = $run AND n.name = 'd' AND t.attempt = 1" \
  | grep -q "first try" || fail "the failed attempt keeps stderr"
pass "the failed attempt keeps the command's stderr"
agents=$(sql -c "SELECT count(DISTINCT agent_id) FROM adagio.attempts WHERE run_id = $run")
[ "$agents" -eq 2 ] || fail "expected both workers to take part, got $agents"
pass "both workers took part"

# A node that keeps failing exhausts its retries; downstream is never reached.
run2=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"bad\",\"runtime\":\"exec\",\"retry\":{\"error\":{\"max_attempts\":3}},\"metadata\":{\"command\":\"false\"}},{\"name\":\"after\",\"runtime\":\"debug\"}],\"edges\":[{\"source\":\"bad\",\"destination\":\"after\"}]}')")
expect_eq "$(wait_run "$run2" 60)" failed "a node failing every time fails the run"
expect_eq "$(sql -c "SELECT attempt_count || ' ' || conclusion FROM adagio.nodes WHERE run_id = $run2 AND name = 'bad'")" "3 error" \
  "it was tried exactly max_attempts times"
expect_eq "$(sql -c "SELECT conclusion FROM adagio.nodes WHERE run_id = $run2 AND name = 'after'")" never_reached \
  "its downstream node was never reached"

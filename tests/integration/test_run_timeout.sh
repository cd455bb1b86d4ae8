# A run timeout with a real worker and the background sweeper: a run whose graph allows it 2 s is
# cancelled by the sweeper while its node still runs, the worker stops the execution (it learns at
# its next heartbeat), and the command line shows why.
source "$(dirname "$0")/lib.sh"
adagio="$root/build/cli/adagio"

start_worker slow --runtimes debug --poll-interval 0.2 --heartbeat-interval 0.3
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"crawl\",\"runtime\":\"debug\",\"metadata\":{\"sleep\":\"60s\"}},
  {\"name\":\"report\",\"runtime\":\"debug\"}],\"edges\":[{\"source\":\"crawl\",\"destination\":\"report\"}],
  \"timeout_seconds\":2}')")
wait_for 20 "SELECT state FROM adagio.nodes WHERE run_id = $run AND name = 'crawl'" running
expect_eq "$(wait_run "$run" 30)" "" "the sweeper cancelled the run (no conclusion)"
expect_eq "$(sql -c "SELECT status FROM adagio.runs WHERE id = $run")" cancelled "the run is cancelled"
took=$(sql -c "SELECT extract(epoch FROM finished_at - created_at) FROM adagio.runs WHERE id = $run")
awk -v t="$took" 'BEGIN { exit !(t >= 2 && t < 15) }' || fail "the run ended ${took}s after it started, not about 2 s"
pass "it ended ${took}s after it started (its 2 s, plus up to a sweep interval)"
expect_eq "$(sql -c "SELECT reason FROM adagio.failed_attempts WHERE run_id = $run")" \
  "cancelled: the run exceeded its timeout of 2 s" "the running attempt says why"
for _ in $(seq 1 100); do grep -q 'claim lost for run' "$artifacts/slow.log" && break; sleep 0.1; done
grep -q 'claim lost for run' "$artifacts/slow.log" || fail "the worker did not stop the execution: $(cat "$artifacts/slow.log")"
pass "the worker stopped the execution"
"$adagio" --color never run show "$run" >"$artifacts/show.out"
grep -q "exceeded its timeout of 2 s" "$artifacts/show.out" || fail "run show does not say why: $(cat "$artifacts/show.out")"
pass "adagio run show says why"

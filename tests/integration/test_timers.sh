# Timers with real workers and the background sweeper: a node of runtime "timer" holds what
# follows it for its "seconds" without taking a worker's slot, then succeeds by itself.
source "$(dirname "$0")/lib.sh"
adagio="$root/build/cli/adagio"

start_worker timed --runtimes exec,debug --poll-interval 0.2 --concurrency 1

run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[
  {\"name\":\"charge\",\"runtime\":\"debug\",\"metadata\":{\"output\":\"charged\"}},
  {\"name\":\"grace-period\",\"runtime\":\"timer\",\"metadata\":{\"seconds\":\"3\"}},
  {\"name\":\"receipt\",\"runtime\":\"debug\",\"metadata\":{\"output\":\"sent\"}},
  {\"name\":\"meanwhile\",\"runtime\":\"debug\",\"metadata\":{\"sleep\":\"500ms\"}}],
 \"edges\":[{\"source\":\"charge\",\"destination\":\"grace-period\"},{\"source\":\"grace-period\",\"destination\":\"receipt\"},
            {\"source\":\"charge\",\"destination\":\"meanwhile\"}]}')")
wait_for 20 "SELECT state FROM adagio.nodes WHERE run_id = $run AND name = 'grace-period'" ready
"$adagio" run show "$run" >"$artifacts/timer-show"
grep -E "grace-period +timer +sleeping" "$artifacts/timer-show" >/dev/null || { cat "$artifacts/timer-show" >&2; fail "run show should show the timer sleeping"; }
pass "the timer runs: adagio run show says sleeping"
expect_eq "$(wait_run "$run" 30)" success "the timer succeeded by itself and the run finished"
expect_eq "$(sql -c "SELECT m.finished_at < t.finished_at FROM adagio.nodes m, adagio.nodes t
                      WHERE m.run_id = $run AND m.name = 'meanwhile' AND t.run_id = $run AND t.name = 'grace-period'")" t \
  "the worker's one slot ran another node while the timer waited: a timer holds no slot"
gap=$(sql -c "SELECT extract(epoch FROM r.claimed_at - c.finished_at) FROM adagio.nodes r, adagio.nodes c
               WHERE r.run_id = $run AND r.name = 'receipt' AND c.run_id = $run AND c.name = 'charge'")
awk -v g="$gap" 'BEGIN { exit !(g >= 3 && g < 8) }' || fail "receipt started ${gap}s after charge ended, not about 3 s"
pass "receipt started ${gap}s after charge ended (the timer's 3 s, plus up to a sweep interval)"
expect_eq "$(sql -c "SELECT coalesce(agent_id::text, 'none') FROM adagio.attempts a JOIN adagio.nodes n ON n.id = a.node_id
                      WHERE n.run_id = $run AND n.name = 'grace-period'")" none "no agent ran the timer"

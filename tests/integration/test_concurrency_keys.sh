# Concurrency keys through real workers: six runs of one key, started together with two workers of
# many slots, run one after another in the order they were started (each begins after the one
# before it finished), while runs of another key and runs without one run beside them; six runs of
# a key with a limit of 2 go two at a time.
source "$(dirname "$0")/lib.sh"

start_worker keyed-1 --runtimes debug --concurrency 8
start_worker keyed-2 --runtimes debug --concurrency 8
sql -q -c "SELECT adagio.define_workflow('deploy', '{\"nodes\":[
  {\"name\":\"build\",\"runtime\":\"debug\",\"metadata\":{\"sleep\":\"300ms\"}},
  {\"name\":\"ship\",\"runtime\":\"debug\",\"metadata\":{\"sleep\":\"300ms\"}}],
  \"edges\":[{\"source\":\"build\",\"destination\":\"ship\"}]}')" >/dev/null
sql -q -c "SELECT adagio.start_runs('deploy', array_fill('{}'::jsonb, ARRAY[3]), concurrency_key => 'production')" >/dev/null
sql -q -c "SELECT adagio.start_runs('deploy', array_fill('{}'::jsonb, ARRAY[2]), concurrency_key => 'staging')" >/dev/null
sql -q -c "SELECT adagio.start_workflow('deploy', '{}', concurrency_key => 'production') FROM generate_series(1, 3)" >/dev/null
sql -q -c "SELECT adagio.start_runs('deploy', array_fill('{}'::jsonb, ARRAY[4]))" >/dev/null
sql -q -c "SELECT adagio.start_runs('deploy', array_fill('{}'::jsonb, ARRAY[6]), concurrency_key => 'pool', concurrency_limit => 2)" >/dev/null
wait_for 60 "SELECT count(*) FROM adagio.runs WHERE conclusion = 'success'" 18
pass "all 18 runs succeeded"

# Each run's span: its first claim to its last finish.
spans="SELECT r.id, r.concurrency_key AS key, min(n.claimed_at) AS began, max(n.finished_at) AS ended
       FROM adagio.runs r JOIN adagio.nodes n ON n.run_id = r.id GROUP BY r.id"
expect_eq "$(sql -c "SELECT count(*) FROM ($spans) a JOIN ($spans) b ON a.key = b.key AND a.key <> 'pool' AND a.id < b.id AND b.began < a.ended")" 0 \
  "no run of a key began before every earlier run of its key had ended"
# The pool (a limit of 2): at each run's start, the runs of the pool going then, itself included.
expect_eq "$(sql -c "SELECT max(c) FROM (SELECT count(*) AS c FROM ($spans) a JOIN ($spans) b
                      ON a.key = 'pool' AND b.key = 'pool' AND b.began <= a.began AND b.ended > a.began GROUP BY a.id) x")" 2 \
  "with concurrency_limit 2, two runs of the pool went at once, never three"
overlapping=$(sql -c "SELECT count(*) FROM ($spans) a JOIN ($spans) b ON a.key = 'production' AND b.key IS DISTINCT FROM 'production'
                      AND b.began < a.ended AND a.began < b.ended")
[ "$overlapping" -gt 0 ] || fail "runs of other keys and without one should have run beside the production runs"
pass "runs of other keys and without one ran beside them ($overlapping overlaps)"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.concurrency_queue")" 0 "every finished run left its key's line"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.events e JOIN adagio.runs r ON r.id = e.run_id
                     WHERE r.concurrency_key = 'production' AND e.kind = 'node_ready' AND e.detail ->> 'after' = 'concurrency_key'")" 5 \
  "each production run after the first was started by the key (node_ready after concurrency_key)"

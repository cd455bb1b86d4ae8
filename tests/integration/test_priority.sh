# Run priorities through a real worker: thirty two-node runs at three priorities are queued before
# a worker of one slot starts; it finishes every run of a higher priority before it claims a node
# of a lower one, although the low-priority runs were queued first.
source "$(dirname "$0")/lib.sh"

sql -q -c "SELECT adagio.define_workflow('two-steps', '{\"nodes\":[{\"name\":\"a\",\"runtime\":\"debug\"},{\"name\":\"b\",\"runtime\":\"debug\"}],\"edges\":[{\"source\":\"a\",\"destination\":\"b\"}]}')" >/dev/null
for priority in -1 0 5; do
  sql -q -c "SELECT adagio.start_runs('two-steps', array_fill('{}'::jsonb, ARRAY[10]), priority => $priority)" >/dev/null
done
start_worker single --runtimes debug --concurrency 1
wait_for 60 "SELECT count(*) FROM adagio.runs WHERE workflow_name = 'two-steps' AND conclusion = 'success'" 30
pass "all 30 runs succeeded"

# Per priority: when its first node was claimed and its last one finished.
spans="SELECT r.priority, min(n.claimed_at) AS first_claim, max(n.finished_at) AS last_finish
       FROM adagio.runs r JOIN adagio.nodes n ON n.run_id = r.id WHERE r.workflow_name = 'two-steps'
       GROUP BY r.priority"
expect_eq "$(sql -c "SELECT string_agg(priority::text, ',' ORDER BY first_claim) FROM ($spans) s")" "5,0,-1" \
  "the worker began on the priorities from the highest"
expect_eq "$(sql -c "SELECT bool_and(hi.last_finish <= lo.first_claim) FROM ($spans) hi JOIN ($spans) lo ON lo.priority < hi.priority")" t \
  "and finished every run of a priority before it claimed a node of a lower one"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.events e JOIN adagio.runs r ON r.id = e.run_id
                     WHERE r.workflow_name = 'two-steps' AND e.kind = 'node_claimed' AND e.detail ? 'handed_over'")" 30 \
  "each b went to the worker with its a's report (nothing of higher priority was waiting then)"

# A worker meeting an extension without adagio.complete_and_claim() (an older one) reports with
# complete_many() and claims in a separate call, from the first refusal on, and runs the graph.
source "$(dirname "$0")/lib.sh"

fn="adagio.complete_and_claim(bigint, int, uuid[], text[], text[], interval)"
sql -c "ALTER EXTENSION adagio DROP FUNCTION $fn" -c "DROP FUNCTION $fn" >/dev/null
start_worker older --concurrency 4 --log-level info

run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"a\",\"runtime\":\"debug\",\"metadata\":{\"output\":\"A\"}},
  {\"name\":\"b\",\"runtime\":\"debug\"},{\"name\":\"c\",\"runtime\":\"debug\"}],
  \"edges\":[{\"source\":\"a\",\"destination\":\"b\"},{\"source\":\"b\",\"destination\":\"c\"}]}')")
expect_eq "$(wait_run "$run" 30)" success "the chain runs to success without complete_and_claim()"
expect_eq "$(sql -c "SELECT inputs ->> 'a' FROM adagio.nodes WHERE run_id = $run AND name = 'b'")" A \
  "outputs still flow downstream"
run2=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"x\",\"runtime\":\"debug\"},{\"name\":\"y\",\"runtime\":\"debug\"}],
  \"edges\":[{\"source\":\"x\",\"destination\":\"y\"}]}')")
expect_eq "$(wait_run "$run2" 30)" success "and so does the next run"
expect_eq "$(grep -c 'complete_and_claim() not available' "$artifacts/older.log")" 1 \
  "the worker noticed once, and did not try the missing function again"

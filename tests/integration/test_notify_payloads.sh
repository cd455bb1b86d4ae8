# Notifications carry run ids as one comma-separated list per call (not one notification per
# run), split below Postgres's 8000-byte payload limit; a listener sees every id exactly once.
source "$(dirname "$0")/lib.sh"

# The notifications a psql session hears while the statements run (psql prints them after each).
heard() {  # heard CHANNEL SQL...
  local channel="$1"; shift
  printf 'LISTEN "%s";\n%s\n' "$channel" "$*" | psql -X -q -v ON_ERROR_STOP=1 2>&1 |
    sed -n "s/^Asynchronous notification \"$channel\" with payload \"\([^\"]*\)\".*/\1/p"
}

sql -q -c "SELECT adagio.define_workflow('one', '{\"nodes\":[{\"name\":\"x\",\"runtime\":\"tick\"}]}')" >/dev/null

# Three runs started in one call: one notification naming all three.
out=$(heard adagio.events "SELECT adagio.start_runs('one', array_fill('{}'::jsonb, ARRAY[3])) AS ids \\gset" \
  "SELECT 1;")
ids=$(sql -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM adagio.runs")
expect_eq "$out" "$ids" "start_runs() sends one adagio.events notification listing its runs"

# 3000 runs: ids no longer fit one payload; every id is heard once, in payloads under 8000 bytes.
out=$(heard adagio.events "SELECT count(*) FROM unnest(adagio.start_runs('one', array_fill('{}'::jsonb, ARRAY[3000])));")
expect_eq "$(( $(echo "$out" | wc -l) > 1 ))" 1 "3000 run ids (about 17 KB) travel in more than one notification"
expect_eq "$(echo "$out" | awk '{ if (length($0) >= 8000) bad++ } END { print bad + 0 }')" 0 "each payload is under 8000 bytes"
expect_eq "$(echo "$out" | tr ',' '\n' | sort -n | uniq | wc -l)" 3000 "every new run is named once"
expect_eq "$(echo "$out" | tr ',' '\n' | wc -l)" 3000 "and only once"

# A worker batch: claims and reports of many runs, one notification each way.
agent=$(sql -c "SELECT adagio.register_agent('lister', '{tick}')")
out=$(heard adagio.events "SELECT count(*) FROM json_array_elements(adagio.claim($agent, 5));")
expect_eq "$(echo "$out" | wc -l)" 1 "claiming five nodes of five runs: one notification"
expect_eq "$(echo "$out" | tr ',' '\n' | wc -l)" 5 "naming the five runs"
tokens=$(sql -c "SELECT array_agg(claim_token) FROM adagio.nodes WHERE state = 'running'")
out=$(heard adagio.run_finished "SELECT adagio.complete_many('$tokens', array_fill('success'::text, ARRAY[5]));")
finished=$(sql -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM adagio.runs WHERE status = 'completed'")
expect_eq "$(echo "$out" | tr ',' '\n' | sort -n | paste -sd,)" "$finished" "complete_many(): one adagio.run_finished notification listing the finished runs"

# The sweeper background worker is killed: the postmaster starts it again and sweeping goes on.
source "$(dirname "$0")/lib.sh"

sweeper_pid() { sql -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'adagio sweeper' AND datname = 'adagio'"; }
orphan_one() {  # claims a node with a lapsed lease and waits for a sweep to orphan it
  local agent run
  agent=$(sql -c "SELECT adagio.register_agent('probe', '{probe}')")
  run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"p\",\"runtime\":\"probe\"}]}')")
  sql -c "SELECT adagio.claim($agent, 1, '10 milliseconds')" >/dev/null
  wait_for 10 "SELECT count(*) FROM adagio.attempts WHERE run_id = $run AND reason LIKE 'orphaned:%'" 1
}

wait_for 10 "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'adagio sweeper'" 1
orphan_one
pass "the sweeper orphans lapsed claims"

first=$(sweeper_pid)
kill -TERM "$first"
wait_for 15 "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'adagio sweeper' AND pid <> $first" 1
orphan_one
pass "after SIGTERM the postmaster restarted the sweeper (was pid $first, now $(sweeper_pid)) and it sweeps"

second=$(sweeper_pid)
kill -KILL "$second"  # the postmaster treats this as a crash and reinitialises
sleep 1
wait_for 30 "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'adagio sweeper' AND pid <> $second" 1
orphan_one
pass "after SIGKILL (crash restart) the sweeper is back (now pid $(sweeper_pid)) and sweeps"

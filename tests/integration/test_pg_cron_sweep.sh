# Without adagio in shared_preload_libraries there is no background sweeper; adagio.sweep()
# scheduled with pg_cron does the job, and workers run as usual.
# sandbox: --no-preload --conf shared_preload_libraries=pg_cron --conf cron.database_name=adagio --conf cron.use_background_workers=on
source "$(dirname "$0")/lib.sh"

expect_eq "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'adagio sweeper'")" 0 "no background sweeper without the preload"
sql -q -c "CREATE EXTENSION pg_cron"
sql -c "SELECT cron.schedule('adagio-sweep', '* * * * *', 'SELECT adagio.sweep()')" >/dev/null
pass "adagio.sweep() scheduled every minute with pg_cron"

start_worker w
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"x\",\"runtime\":\"debug\"}]}')")
expect_eq "$(wait_run "$run" 20)" success "workers run graphs without the preload"

agent=$(sql -c "SELECT adagio.register_agent('vanished', '{probe}')")
run2=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"p\",\"runtime\":\"probe\"}]}')")
sql -c "SELECT adagio.claim($agent, 1, '1 second')" >/dev/null
wait_for 75 "SELECT count(*) FROM adagio.attempts WHERE run_id = $run2 AND reason LIKE 'orphaned:%'" 1
pass "the pg_cron job orphaned the lapsed claim"
expect_eq "$(sql -c "SELECT status FROM cron.job_run_details ORDER BY runid DESC LIMIT 1")" succeeded "pg_cron reports the sweep succeeded"

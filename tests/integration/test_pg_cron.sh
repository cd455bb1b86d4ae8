# pg_cron with adagio. Without adagio in shared_preload_libraries there is no background sweeper;
# adagio.sweep() scheduled with pg_cron does the job, and workers run as usual. And a workflow
# started on a schedule, with an idempotency key made of the scheduled minute: a start fired twice
# (here by two jobs at once) makes one run.
# sandbox: --no-preload --conf shared_preload_libraries=pg_cron --conf cron.database_name=adagio --conf cron.use_background_workers=on
source "$(dirname "$0")/lib.sh"

expect_eq "$(sql -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'adagio sweeper'")" 0 "no background sweeper without the preload"
sql -q -c "CREATE EXTENSION pg_cron"
sql -c "SELECT cron.schedule('adagio-sweep', '* * * * *', 'SELECT adagio.sweep()')" >/dev/null
pass "adagio.sweep() scheduled every minute with pg_cron"
sql -c "SELECT adagio.define_workflow('every-minute', '{\"nodes\":[{\"name\":\"tick\",\"runtime\":\"debug\"}]}')" >/dev/null
start="SELECT adagio.start_workflow('every-minute', jsonb_build_object('minute', date_trunc('minute', now())),
  idempotency_key => 'every-minute-' || to_char(date_trunc('minute', now()), 'YYYY-MM-DD\"T\"HH24:MI'))"
sql -v start="$start" >/dev/null <<'SQL'
SELECT cron.schedule('start-every-minute', '* * * * *', :'start');
SELECT cron.schedule('start-every-minute-again', '* * * * *', :'start');
SQL
pass "the same workflow start scheduled twice, keyed by the minute"

start_worker w
run=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"x\",\"runtime\":\"debug\"}]}')")
expect_eq "$(wait_run "$run" 20)" success "workers run graphs without the preload"

agent=$(sql -c "SELECT adagio.register_agent('vanished', '{probe}')")
run2=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"p\",\"runtime\":\"probe\"}]}')")
sql -c "SELECT adagio.claim($agent, 1, '1 second')" >/dev/null
wait_for 75 "SELECT count(*) FROM adagio.attempts WHERE run_id = $run2 AND reason LIKE 'orphaned:%'" 1
pass "the pg_cron job orphaned the lapsed claim"
expect_eq "$(sql -c "SELECT d.status FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname = 'adagio-sweep' ORDER BY d.runid DESC LIMIT 1")" succeeded \
  "pg_cron reports the sweep succeeded"

# Both start jobs of one minute succeeded (the second got the first one's run), one run per minute.
wait_for 75 "SELECT count(*) >= 2 FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname LIKE 'start-every-minute%' AND d.status = 'succeeded'" t
expect_eq "$(sql -c "SELECT count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname LIKE 'start-every-minute%' AND d.status <> 'succeeded'")" 0 \
  "every scheduled start succeeded"
expect_eq "$(sql -c "SELECT count(*) = count(DISTINCT idempotency_key) AND count(*) >= 1 FROM adagio.runs WHERE workflow_name = 'every-minute'")" t \
  "one run per scheduled minute, though two jobs started it"
expect_eq "$(sql -c "SELECT count(*) FROM cron.job_run_details d JOIN cron.job j USING (jobid) WHERE j.jobname LIKE 'start-every-minute%'")" \
  "$(( 2 * $(sql -c "SELECT count(*) FROM adagio.runs WHERE workflow_name = 'every-minute'") ))" "two starts for each run"
run3=$(sql -c "SELECT min(id) FROM adagio.runs WHERE workflow_name = 'every-minute'")
expect_eq "$(wait_run "$run3" 20)" success "and the scheduled run ran"

# Retention by the sweeper (adagio.retention): off by default; once set (a reload, no restart),
# the sweeper deletes finished runs older than it with all their rows, and never an unfinished one.
source "$(dirname "$0")/lib.sh"

wait_for 10 "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'adagio sweeper'" 1
single='{"nodes":[{"name":"n","runtime":"debug"}]}'
done_runs=$(sql -c "SELECT string_agg(adagio.start_run('$single')::text, ',') FROM generate_series(1, 3)")
cancelled=$(sql -c "SELECT adagio.start_run('$single')")
sql -c "SELECT adagio.cancel_run($cancelled)" >/dev/null
# A real worker finishes the three runs; the fourth run's node waits for a runtime nobody serves.
pending=$(sql -c "SELECT adagio.start_run('{\"nodes\":[{\"name\":\"n\",\"runtime\":\"nobody\"}]}')")
start_worker w --runtimes debug --once-idle --idle-exit 1
wait "$last_worker_pid"
expect_eq "$(sql -c "SELECT count(*) FROM adagio.runs WHERE id IN ($done_runs) AND conclusion = 'success'")" 3 \
  "a worker finished three runs"

sleep 2.5  # two sweeps or more
expect_eq "$(sql -c "SELECT count(*) FROM adagio.runs")" 5 "with adagio.retention unset (0) the sweeper purges nothing"

# The sweeper runs as superuser, so a name in its statements must not resolve to a database owner's
# function: one that would win overload resolution for make_interval(secs => int), first on the
# database's search_path, records who called it. The sweeper reads database settings when it
# starts, so it is restarted (the postmaster brings it back after a second).
sql >/dev/null <<'SQL'
CREATE ROLE db_owner LOGIN;
ALTER DATABASE adagio OWNER TO db_owner;
GRANT CREATE ON SCHEMA public TO db_owner;
SET ROLE db_owner;
CREATE TABLE public.hijacked (who name);
CREATE FUNCTION public.make_interval(secs int) RETURNS interval LANGUAGE sql
  AS $$ INSERT INTO public.hijacked VALUES (current_user); SELECT pg_catalog.make_interval(secs => secs::float8) $$;
GRANT INSERT ON public.hijacked TO PUBLIC;
ALTER DATABASE adagio SET search_path = public, pg_catalog;
RESET ROLE;
SQL
old_sweeper=$(sql -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'adagio sweeper'")
kill -TERM "$old_sweeper"
wait_for 15 "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'adagio sweeper' AND pid <> $old_sweeper" 1

# The reload wakes the sweeper at once, and with a sweep interval of an hour that is its only sweep
# here: four runs purged in batches of one shows that full batches repeat within a sweep.
sql -c "ALTER SYSTEM SET adagio.sweep_interval = '1h'" -c "ALTER SYSTEM SET adagio.retention = '1s'" \
  -c "ALTER SYSTEM SET adagio.retention_batch = 1" -c "SELECT pg_reload_conf()" >/dev/null
wait_for 10 "SELECT count(*) FROM adagio.runs" 1
expect_eq "$(sql -c "SELECT id FROM adagio.runs")" "$pending" \
  "after a reload with adagio.retention = 1s one sweep purged the finished and cancelled runs, a batch of one at a time"
expect_eq "$(sql -c "SELECT (SELECT count(*) FROM adagio.nodes WHERE run_id <> $pending)
                         + (SELECT count(*) FROM adagio.attempts WHERE run_id <> $pending)
                         + (SELECT count(*) FROM adagio.events WHERE run_id <> $pending)")" 0 \
  "with their nodes, attempts and events"
expect_eq "$(sql -c "SELECT status FROM adagio.runs WHERE id = $pending")" running "the unfinished run stays"
expect_eq "$(sql -c "SELECT count(*) FROM public.hijacked")" 0 \
  "the sweeper resolved names in pg_catalog, not through the database owner's search_path"

# With sweeps every second again, a run that finishes now is purged a second or two later.
sql -c "ALTER SYSTEM RESET adagio.sweep_interval" -c "SELECT pg_reload_conf()" >/dev/null
late=$(sql -c "SELECT adagio.start_run('$single')")
sql -c "SELECT adagio.cancel_run($late)" >/dev/null
wait_for 15 "SELECT count(*) FROM adagio.runs WHERE id = $late" 0
pass "and keeps purging runs as they pass the retention age"

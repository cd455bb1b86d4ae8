-- Delayed starts: start_run(), start_workflow() and start_runs() take a start_at; a run started
-- with one later than now keeps its first nodes "scheduled" until the sweep finds them due. An
-- earlier time starts the run at once; a time that is not finite is refused, writing nothing.
BEGIN;
\ir helpers.psql
SELECT plan(25);

SELECT adagio.register_agent('tap', '{debug}') AS agent \gset
SELECT clock_timestamp() + interval '0.4 s' AS at \gset
SELECT adagio.start_run(:'example', '{}', NULL, :'at') AS run \gset
SELECT is(pg_temp.node_states(:run), 'a=scheduled b=scheduled c=waiting d=waiting e=waiting f=waiting g=waiting',
          'a delayed run''s first nodes wait, scheduled');
SELECT is((SELECT array_agg(DISTINCT ready_at) FROM adagio.nodes WHERE run_id = :run AND state = 'scheduled'),
          ARRAY[:'at'::timestamptz], 'due at start_at');
SELECT is((SELECT start_at FROM adagio.runs WHERE id = :run), :'at'::timestamptz, 'the run keeps its start_at');
SELECT is((adagio.inspect_run(:run) ->> 'start_at')::timestamptz, :'at'::timestamptz, 'inspect_run() shows it');
SELECT is((SELECT start_at FROM adagio.list_runs() WHERE id = :run), :'at'::timestamptz, 'and list_runs()');
SELECT is((SELECT (detail ->> 'start_at')::timestamptz FROM adagio.events WHERE run_id = :run AND kind = 'run_started'),
          :'at'::timestamptz, 'run_started names the start time');
SELECT is((SELECT count(*) FROM adagio.events WHERE run_id = :run AND kind = 'node_ready'), 0::bigint,
          'no node is ready yet');
SELECT is(pg_temp.claim_names(:agent), '', 'nor claimable');
SELECT is(adagio.sweep() ->> 'timers_fired', '0', 'a sweep before start_at changes nothing');
SELECT pg_sleep(0.45);
SELECT is(adagio.sweep() ->> 'timers_fired', '2', 'once due, the sweep makes both ready');
SELECT is((SELECT array_agg(node || ':' || (detail ->> 'after') ORDER BY node) FROM adagio.events
            WHERE run_id = :run AND kind = 'node_ready'), ARRAY['a:start_at', 'b:start_at'],
          'their node_ready events say why they waited');
SELECT is(pg_temp.claim_names(:agent), 'a,b', 'and a worker claims them');

-- A time already past is no delay.
SELECT adagio.start_run(:'example', '{}', start_at => clock_timestamp() - interval '1 hour') AS past \gset
SELECT is(pg_temp.node_states(:past), 'a=ready b=ready c=waiting d=waiting e=waiting f=waiting g=waiting',
          'a start_at in the past starts the run at once');
SELECT is((SELECT start_at FROM adagio.runs WHERE id = :past), NULL, 'and the run has no start_at');

-- Refused, and nothing written.
SELECT count(*) AS runs_before FROM adagio.runs \gset
SELECT throws_ok(format('SELECT adagio.start_run(%L, start_at => %L)', :'example', 'infinity'), '22008',
  'start_at must be a finite time', 'an infinite start_at is refused, naming the argument');
SELECT adagio.define_workflow('nightly', :'example');
SELECT throws_ok($$SELECT adagio.start_runs('nightly', ARRAY['{}']::jsonb[], start_at => '-infinity')$$, '22008',
  'start_at must be a finite time', 'so is -infinity, by start_runs() too');
SELECT is((SELECT count(*) FROM adagio.runs), :runs_before::bigint, 'and the refusals wrote nothing');

-- The other ways to start.
SELECT adagio.start_workflow('nightly', '{}', start_at => clock_timestamp() + interval '1 hour') AS wf \gset
SELECT is(pg_temp.node_states(:wf), 'a=scheduled b=scheduled c=waiting d=waiting e=waiting f=waiting g=waiting',
          'start_workflow() takes a start_at');
SELECT adagio.start_runs('nightly', ARRAY['{"n": 1}', '{"n": 2}']::jsonb[],
                         start_at => clock_timestamp() + interval '1 hour') AS batch \gset
SELECT is((SELECT array_agg(DISTINCT state) FROM adagio.nodes
            WHERE run_id = ANY (:'batch'::bigint[]) AND upstream_pending = 0), ARRAY['scheduled'::adagio.node_state],
          'and start_runs(), for every run of the batch');
SELECT is((SELECT count(DISTINCT start_at) FROM adagio.runs WHERE id = ANY (:'batch'::bigint[])), 1::bigint,
          'all at the one time given');

-- A key names its run, whatever the start time of a later call.
SELECT adagio.start_workflow('nightly', '{}', idempotency_key => 'later', start_at => clock_timestamp() + interval '1 hour')
  AS keyed \gset
SELECT is(adagio.start_workflow('nightly', '{}', idempotency_key => 'later', start_at => clock_timestamp() + interval '2 hours'),
          :keyed::bigint, 'a repeated keyed call returns the run it started');

-- Cancelling a delayed run stops its timers.
SELECT adagio.cancel_run(:wf);
SELECT is(pg_temp.node_states(:wf), 'a=cancelled b=cancelled c=cancelled d=cancelled e=cancelled f=cancelled g=cancelled',
          'a delayed run can be cancelled before it starts');
SELECT is((SELECT count(*) FROM adagio.nodes WHERE state = 'scheduled' AND run_id = :wf), 0::bigint,
          'leaving nothing for the sweep');
-- Retried before its time, it waits for it again.
SELECT adagio.retry_run(:wf);
SELECT is(pg_temp.node_states(:wf), 'a=scheduled b=scheduled c=waiting d=waiting e=waiting f=waiting g=waiting',
          'a run cancelled before its start_at and retried waits for it again');
SELECT is((SELECT array_agg(DISTINCT ready_at) FROM adagio.nodes WHERE run_id = :wf AND state = 'scheduled'),
          ARRAY[(SELECT start_at FROM adagio.runs WHERE id = :wf)], 'until its start_at');

SELECT * FROM finish();
ROLLBACK;

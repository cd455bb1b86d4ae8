-- The event log: every transition of a run is recorded in order, the timeline and the follow
-- function read it, and retry_run starts a failed run again from where it failed.
BEGIN;
\ir helpers.psql
SELECT plan(38);

SELECT adagio.register_agent('tap', '{debug}') AS agent \gset
SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug","retry":{"error":{"max_attempts":2}}},{"name":"c","runtime":"debug"}],"edges":[{"source":"a","destination":"b"},{"source":"b","destination":"c"}]}') AS run \gset
CREATE FUNCTION pg_temp.kinds(run bigint) RETURNS text LANGUAGE sql AS $$
  SELECT string_agg(kind || coalesce(':' || node, ''), ' ' ORDER BY id) FROM adagio.timeline(run) $$;

SELECT is(pg_temp.kinds(:run), 'run_started node_ready:a', 'a new run logs its start and its roots becoming ready');
SELECT is((SELECT detail ->> 'nodes' FROM adagio.timeline(:run) WHERE kind = 'run_started'), '3', 'with its size');

SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete(pg_temp.token_of(:run, 'a'), 'success', 'A');
SELECT is(pg_temp.kinds(:run), 'run_started node_ready:a node_claimed:a attempt_finished:a node_ready:b',
  'a claim, an attempt and the downstream node becoming ready');
SELECT is((SELECT agent FROM adagio.timeline(:run) WHERE kind = 'node_claimed'), 'tap', 'the claim names the agent');
SELECT is((SELECT detail ->> 'conclusion' FROM adagio.timeline(:run) WHERE kind = 'attempt_finished'), 'success',
  'the attempt names its conclusion');
SELECT ok((SELECT (detail ->> 'duration_ms')::numeric >= 0 FROM adagio.timeline(:run) WHERE kind = 'attempt_finished'),
  'and its duration');

SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete(pg_temp.token_of(:run, 'b'), 'error', 'first');
SELECT is((SELECT string_agg(kind, ' ' ORDER BY id) FROM adagio.timeline(:run) WHERE node = 'b' AND id > 0),
  'node_ready node_claimed attempt_finished node_retried', 'an error with retries left: retried');
SELECT is((SELECT detail ->> 'after' FROM adagio.timeline(:run) WHERE kind = 'node_retried'), 'error', 'after an error');
SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete(pg_temp.token_of(:run, 'b'), 'error', 'second');
SELECT is((SELECT string_agg(kind || coalesce(':' || node, ''), ' ' ORDER BY id) FROM adagio.timeline(:run) WHERE id >
             (SELECT max(id) FROM adagio.timeline(:run) WHERE kind = 'node_claimed')),
  'attempt_finished:b node_never_reached:c run_completed', 'retries exhausted: the downstream never reached, the run completed');
SELECT is((SELECT detail ->> 'conclusion' FROM adagio.timeline(:run) WHERE kind = 'run_completed'), 'failed',
  'with its conclusion');
SELECT is((SELECT detail ->> 'because' FROM adagio.timeline(:run) WHERE kind = 'node_never_reached'), 'b',
  'never reached because of b');

-- Following: events after an id, across runs or for one.
SELECT max(id) AS last_seen FROM adagio.events(0) \gset
SELECT adagio.start_run('{"nodes":[{"name":"x","runtime":"debug"}]}') AS other \gset
SELECT is((SELECT string_agg(kind, ' ' ORDER BY id) FROM adagio.events(:last_seen)), 'run_started node_ready',
  'events() returns only what came after the last id seen');
SELECT is((SELECT count(*)::int FROM adagio.events(0, :run)), (SELECT count(*)::int FROM adagio.timeline(:run)),
  'events() can be narrowed to one run');
SELECT is((SELECT count(*)::int FROM adagio.events(0, NULL, 2)), 2, 'and limited');
SELECT throws_ok('SELECT * FROM adagio.timeline(-1)', '42704', 'run -1 does not exist', 'the timeline of an unknown run');

-- Retry from the failure, keeping what succeeded.
SELECT throws_ok(format('SELECT adagio.retry_run(%s)', :other), '55000', NULL, 'a run still going cannot be retried');
UPDATE adagio.runs SET created_at = created_at - interval '1 hour', started_at = started_at - interval '1 hour'
WHERE id = :run;  -- as if started an hour ago (now() is the transaction's time)
SELECT is(adagio.retry_run(:run) ->> 'nodes_reset', '2', 'retry_run resets the nodes that did not succeed (b, c)');
SELECT is(pg_temp.node_states(:run), 'a=completed/success b=ready c=waiting', 'a keeps its success; b is ready, c waits');
SELECT is((SELECT status || '/' || coalesce(conclusion::text, '-') FROM adagio.runs WHERE id = :run), 'running/-',
  'the run is running again');
SELECT ok((SELECT started_at = now() AND created_at < started_at FROM adagio.runs WHERE id = :run),
  'and started_at says when it started over');
SELECT is((SELECT inputs ->> 'a' FROM adagio.nodes WHERE run_id = :run AND name = 'b'), 'A', 'b keeps its input from a');
SELECT is(pg_temp.claim_names(:agent), 'b,x', 'b is claimable again (x is the other run''s)');
SELECT is(adagio.complete(pg_temp.token_of(:run, 'b'), 'error', 'third') ->> 'outcome', 'retrying',
  'the retry policy counts afresh after retry_run');
SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete(pg_temp.token_of(:run, 'b'), 'success', 'B');
SELECT pg_temp.claim_names(:agent);
SELECT is(adagio.complete(pg_temp.token_of(:run, 'c'), 'success', 'C') ->> 'run_conclusion', 'success',
  'and the retried run can now succeed');
SELECT is((SELECT count(*)::int FROM adagio.attempts t JOIN adagio.nodes n ON n.id = t.node_id
           WHERE n.run_id = :run AND n.name = 'b'), 4, 'every attempt of both tries is kept');
SELECT throws_ok(format('SELECT adagio.retry_run(%s)', :run), '55000',
  format('run %s cannot be retried: it is completed with success', :run), 'a successful run cannot be retried');

-- An orphaned claim and a cancellation are on the timeline too.
SELECT adagio.start_run('{"nodes":[{"name":"o","runtime":"debug","retry":{"error":{"max_attempts":2}}},{"name":"p","runtime":"debug"}]}') AS orph \gset
SELECT adagio.claim(:agent, 2, interval '1 microsecond');
SELECT adagio.sweep();
SELECT is((SELECT string_agg(kind, ' ' ORDER BY id) FROM adagio.timeline(:orph) WHERE node = 'o' AND kind <> 'node_ready'),
  'node_claimed node_orphaned node_retried', 'a lapsed lease: orphaned, then retried');
SELECT ok((SELECT detail ->> 'reason' LIKE 'orphaned: tap (id %) missed its lease%' FROM adagio.timeline(:orph) WHERE kind = 'node_orphaned' AND node = 'o'),
  'the orphaned event carries the reason');
SELECT adagio.cancel_run(:orph);
SELECT is((SELECT kind FROM adagio.timeline(:orph) ORDER BY id DESC LIMIT 1), 'run_cancelled', 'cancel_run logs run_cancelled');
SELECT is((SELECT detail ->> 'nodes_cancelled' FROM adagio.timeline(:orph) WHERE kind = 'run_cancelled'), '1',
  'with what it cancelled (o; p had already ended as an orphaned error with no retry)');

-- Retention: purge_runs removes finished runs with everything that belongs to them.
UPDATE adagio.runs SET created_at = now() - interval '3 days', finished_at = now() - interval '2 days' WHERE id = :run;
SELECT throws_ok($$SELECT adagio.purge_runs('-1 day')$$, '22023', NULL, 'a negative age is refused');
SELECT is(adagio.purge_runs('1 day'), 1::bigint, 'purge_runs deletes the run that finished two days ago');
SELECT is((SELECT count(*)::int FROM adagio.events WHERE run_id = :run) + (SELECT count(*)::int FROM adagio.nodes WHERE run_id = :run)
          + (SELECT count(*)::int FROM adagio.attempts WHERE run_id = :run)
          + (SELECT count(*)::int FROM adagio.edges WHERE run_id = :run), 0, 'with its events, nodes, attempts and edges');
SELECT is((SELECT status FROM adagio.runs WHERE id = :other), 'running', 'an unfinished run is never purged');

-- A limited purge (the sweeper's retention works in batches) takes the oldest finished runs first.
SELECT adagio.start_run('{"nodes":[{"name":"n","runtime":"debug"}]}') AS old \gset
SELECT adagio.start_run('{"nodes":[{"name":"n","runtime":"debug"}]}') AS older \gset
SELECT adagio.start_run('{"nodes":[{"name":"n","runtime":"debug"}]}') AS oldest \gset
SELECT adagio.cancel_run(id) FROM unnest(ARRAY[:old, :older, :oldest]::bigint[]) id;
UPDATE adagio.runs SET created_at = now() - interval '1 day' * CASE id WHEN :old THEN 3 WHEN :older THEN 4 ELSE 5 END,
  finished_at = now() - interval '1 day' * CASE id WHEN :old THEN 2 WHEN :older THEN 3 ELSE 4 END
WHERE id IN (:old, :older, :oldest);
SELECT throws_ok($$SELECT adagio.purge_runs('1 day', -1)$$, '22023', NULL, 'a negative max_runs is refused');
SELECT is(adagio.purge_runs('1 day', 0), 0::bigint, 'max_runs 0 purges nothing');
SELECT is(adagio.purge_runs('1 day', 2), 2::bigint, 'max_runs limits the purge');
SELECT results_eq(format('SELECT id FROM adagio.runs WHERE id IN (%s, %s, %s)', :old, :older, :oldest),
  format('VALUES (%s::bigint)', :old), 'to the oldest runs');

SELECT * FROM finish();
ROLLBACK;

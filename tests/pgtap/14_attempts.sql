-- Where attempts are kept: a successful attempt ends its node and stays in the node's row, every
-- other attempt gets a row in failed_attempts, and adagio.attempts shows both, whichever call
-- reported them (complete, complete_many, complete_and_claim).
BEGIN;
\ir helpers.psql
SELECT plan(15);

-- The detail of the error a statement raises (throws_ok checks only the message).
CREATE FUNCTION pg_temp.error_detail(statement text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  detail text;
BEGIN
  EXECUTE statement;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN detail;
END $$;

SELECT adagio.register_agent('tap', '{debug}') AS agent \gset

-- complete(): one success.
SELECT adagio.start_run('{"nodes":[{"name":"one","runtime":"debug"}]}') AS run \gset
SELECT pg_temp.claim_names(:agent);
SELECT pg_temp.token_of(:run, 'one') AS token \gset
SELECT adagio.complete(:'token', 'success', 'out-1');
SELECT results_eq(
  $$SELECT attempt, conclusion::text, output, reason, agent_id, claim_token FROM adagio.attempts WHERE run_id = $$ || :run,
  format($$VALUES (1, 'success', 'out-1', NULL::text, %s::bigint, %L::uuid)$$, :agent, :'token'),
  'a success is an attempt with its output, agent and the token it was reported with');
SELECT is((SELECT count(*)::int FROM adagio.failed_attempts WHERE run_id = :run), 0,
  'and no failed_attempts row: the node''s row holds it');
SELECT ok((SELECT t.started_at = n.claimed_at AND t.finished_at = n.finished_at AND t.ready_at = n.ready_at
                  AND t.started_at <= t.finished_at
           FROM adagio.attempts t JOIN adagio.nodes n ON n.id = t.node_id WHERE t.run_id = :run),
  'its times are the claim''s and the node''s');
SELECT is(pg_temp.error_detail(format('SELECT adagio.complete(%L, ''success'', ''again'')', :'token')),
  format('attempt 1 of node "one" in run %s was already reported (success)', :run),
  'reporting the same claim again is refused, naming the attempt it already concluded');

-- complete_many(): successes set-based, a failure one by one.
SELECT adagio.start_run('{"nodes":[{"name":"p","runtime":"debug"},{"name":"q","runtime":"debug"}]}') AS run2 \gset
SELECT pg_temp.claim_names(:agent);
SELECT pg_temp.token_of(:run2, 'p') AS token_p, pg_temp.token_of(:run2, 'q') AS token_q \gset
SELECT adagio.complete_many(ARRAY[:'token_p', :'token_q']::uuid[], '{success,fail}', '{out-p,out-q}');
SELECT results_eq(
  $$SELECT n.name, t.attempt, t.conclusion::text, t.output FROM adagio.attempts t JOIN adagio.nodes n ON n.id = t.node_id
    WHERE t.run_id = $$ || :run2 || $$ ORDER BY n.name$$,
  $$VALUES ('p', 1, 'success', 'out-p'), ('q', 1, 'fail', 'out-q')$$,
  'complete_many: both attempts, with their conclusions and outputs');
SELECT is((SELECT claim_token FROM adagio.attempts WHERE run_id = :run2 AND conclusion = 'success'), :'token_p'::uuid,
  'complete_many: the success keeps its token');
SELECT is((SELECT string_agg(conclusion::text, ',') FROM adagio.failed_attempts WHERE run_id = :run2), 'fail',
  'complete_many: only the failure has a failed_attempts row');

-- complete_and_claim(): the report hands the next node over; both attempts are kept once done.
SELECT adagio.start_run('{"nodes":[{"name":"up","runtime":"debug"},{"name":"down","runtime":"debug"}],"edges":[{"source":"up","destination":"down"}]}') AS run3 \gset
SELECT pg_temp.claim_names(:agent);
SELECT pg_temp.token_of(:run3, 'up') AS token_up \gset
SELECT adagio.complete_and_claim(:agent, 10, ARRAY[:'token_up']::uuid[], '{success}', '{out-up}');
SELECT pg_temp.token_of(:run3, 'down') AS token_down \gset
SELECT adagio.complete_and_claim(:agent, 10, ARRAY[:'token_down']::uuid[], '{success}', '{out-down}');
SELECT results_eq(
  $$SELECT n.name, t.conclusion::text, t.output, t.claim_token FROM adagio.attempts t JOIN adagio.nodes n ON n.id = t.node_id
    WHERE t.run_id = $$ || :run3 || $$ ORDER BY n.position$$,
  format($$VALUES ('up', 'success', 'out-up', %L::uuid), ('down', 'success', 'out-down', %L::uuid)$$, :'token_up', :'token_down'),
  'complete_and_claim: the reported node and the one handed over, each with its token');

-- A retried node: the failures have their rows, the claim shows them, the success ends the list.
SELECT adagio.start_run('{"nodes":[{"name":"flaky","runtime":"debug","retry":{"error":{"max_attempts":3}}}]}') AS run4 \gset
SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete(pg_temp.token_of(:run4, 'flaky'), 'error', 'e1');
SELECT adagio.claim(:agent, 10) AS again \gset
SELECT is((:'again'::jsonb) -> 0 -> 'attempts' -> 0 ->> 'output', 'e1', 'the next claim carries the earlier, failed attempt');
SELECT is(jsonb_array_length((:'again'::jsonb) -> 0 -> 'attempts'), 1, 'and only it');
SELECT adagio.complete(pg_temp.token_of(:run4, 'flaky'), 'success', 'ok');
SELECT results_eq(
  $$SELECT attempt, conclusion::text, output FROM adagio.attempts WHERE run_id = $$ || :run4 || $$ ORDER BY attempt$$,
  $$VALUES (1, 'error', 'e1'), (2, 'success', 'ok')$$,
  'attempts lists the failed attempt, then the success');

-- purge_runs() takes a run's failed attempts with it (run2 concluded failed an hour ago, say).
UPDATE adagio.runs SET created_at = created_at - interval '1 hour', finished_at = finished_at - interval '1 hour'
WHERE id = :run2;
SELECT adagio.purge_runs(interval '1 minute');
SELECT is((SELECT count(*)::int FROM adagio.attempts WHERE run_id = :run2)
          + (SELECT count(*)::int FROM adagio.failed_attempts WHERE run_id = :run2), 0,
  'purging a run deletes its attempts, failed and successful');

-- The split is enforced, not only followed.
SELECT throws_ok(
  format($$INSERT INTO adagio.failed_attempts (node_id, attempt, run_id, conclusion, claim_token, started_at)
           VALUES (1, 9, %s, 'success', gen_random_uuid(), now())$$, :run),
  '23514', NULL, 'failed_attempts refuses a success without the reason it was run again');
SELECT throws_ok(
  format($$UPDATE adagio.nodes SET success_token = NULL WHERE run_id = %s$$, :run),
  '23514', NULL, 'a succeeded node keeps its attempt''s token');
SELECT throws_ok('INSERT INTO adagio.attempts (node_id, attempt, run_id, conclusion, claim_token, started_at)
                  VALUES (1, 1, 1, ''fail'', gen_random_uuid(), now())',
  '55000', NULL, 'attempts is a view: attempts are written by the engine''s functions only');

SELECT * FROM finish();
ROLLBACK;

-- retry_run(run, from_nodes): nodes that succeeded run again, with everything downstream of them,
-- while the nodes upstream keep their outputs; the successes run again stay in the history.
BEGIN;
\ir helpers.psql
SELECT plan(23);

SELECT adagio.register_agent('rerunner', '{debug}') AS agent \gset
SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"},{"name":"c","runtime":"debug"},{"name":"x","runtime":"debug"}],"edges":[{"source":"a","destination":"b"},{"source":"b","destination":"c"}]}') AS run \gset
-- Runs the run's claimable nodes to success, each with output <NAME><suffix>.
CREATE FUNCTION pg_temp.succeed_all(run bigint, agent bigint, suffix text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE c json; names text := '';
BEGIN
  FOR c IN SELECT * FROM json_array_elements(adagio.claim(agent, 100)) LOOP
    PERFORM adagio.complete((c ->> 'claim_token')::uuid, 'success', upper(c ->> 'name') || suffix);
    names := names || (c ->> 'name');
  END LOOP;
  RETURN names;
END $$;
SELECT is(pg_temp.succeed_all(:run, :agent, '1') || pg_temp.succeed_all(:run, :agent, '1') || pg_temp.succeed_all(:run, :agent, '1'),
          'axbc', 'the run runs to the end');
SELECT is((SELECT status || '/' || conclusion FROM adagio.runs WHERE id = :run), 'completed/success', 'with success');

SELECT throws_ok(format('SELECT adagio.retry_run(%s)', :run), '55000', 'run ' || :run || ' cannot be retried: it is completed with success',
  'without from_nodes a run that succeeded is not retried');
SELECT throws_ok(format('SELECT adagio.retry_run(%s, ''{zz}'')', :run), '42704', 'run ' || :run || ' has no node "zz"',
  'an unknown node is named');
SELECT throws_ok(format('SELECT adagio.retry_run(%s, ARRAY[''b'', NULL])', :run), '22004', 'from_nodes must not hold NULL',
  'a NULL node name');

SELECT success_token AS old_b_token FROM adagio.nodes WHERE run_id = :run AND name = 'b' \gset
SELECT is(adagio.retry_run(:run, '{b}'), format('{"run_id": %s, "nodes_reset": 2, "nodes_ready": 1}', :run)::jsonb,
          'retry from b resets b and c');
SELECT is(pg_temp.node_states(:run), 'a=completed/success b=ready c=waiting x=completed/success',
          'b is ready, c waits for it, a and x keep their success');
SELECT is((SELECT inputs::text || ' ' || coalesce(output, '-') FROM adagio.nodes WHERE run_id = :run AND name = 'b'), '{"a": "A1"} -',
          'b keeps a''s output as its input, and loses its own');
SELECT is((SELECT status || ' ' || nodes_remaining || ' ' || nodes_failed FROM adagio.runs WHERE id = :run), 'running 2 0',
          'the run is running again, with two nodes to go');
SELECT is((SELECT detail -> 'from' FROM adagio.timeline(:run) WHERE kind = 'run_retried'), '["b"]'::jsonb,
          'run_retried names the nodes run again');
SELECT throws_ok(format('SELECT adagio.retry_run(%s, ''{b}'')', :run), '55000', 'run ' || :run || ' cannot be retried: it is running',
  'a running run is not retried');

-- The first success's report sent again (its answer lost) is refused, saying what became of it.
CREATE FUNCTION pg_temp.refusal_detail(token uuid) RETURNS text LANGUAGE plpgsql AS $$
DECLARE detail text;
BEGIN
  PERFORM adagio.complete(token, 'success', 'late');
  RETURN 'accepted';
EXCEPTION WHEN object_not_in_prerequisite_state THEN
  GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
  RETURN detail;
END $$;
SELECT is(pg_temp.refusal_detail(:'old_b_token'),
          format('attempt 1 of node "b" in run %s was already reported (success), then run again: the run was retried from b', :run),
          'a report of the success run again is refused, and says so');
SELECT is((SELECT state::text FROM adagio.nodes WHERE run_id = :run AND name = 'b'), 'ready', 'and changes nothing');
SELECT is(pg_temp.succeed_all(:run, :agent, '2'), 'b', 'b runs again');
SELECT is((SELECT inputs::text FROM adagio.nodes WHERE run_id = :run AND name = 'c'), '{"b": "B2"}', 'c gets b''s new output');
SELECT is(pg_temp.succeed_all(:run, :agent, '2'), 'c', 'then c');
SELECT is((SELECT status || '/' || conclusion FROM adagio.runs WHERE id = :run), 'completed/success', 'the run succeeds again');
SELECT is((SELECT string_agg(a.attempt || ':' || a.conclusion || ':' || a.output, ' ' ORDER BY a.attempt)
           FROM adagio.attempts a JOIN adagio.nodes n ON n.id = a.node_id WHERE n.run_id = :run AND n.name = 'b'),
          '1:success:B1 2:success:B2', 'b''s history keeps both successes');
SELECT is((SELECT a.reason FROM adagio.attempts a JOIN adagio.nodes n ON n.id = a.node_id WHERE n.run_id = :run AND n.name = 'c' AND a.attempt = 1),
          'run again: the run was retried from b', 'a success run again says why');
SELECT is((SELECT jsonb_agg(t -> 'output') FROM jsonb_array_elements(
             (SELECT n -> 'attempts' FROM jsonb_array_elements(adagio.inspect_run(:run) -> 'nodes') n WHERE n ->> 'name' = 'b')) t),
          '["B1", "B2"]'::jsonb, 'and inspect_run() shows them');
SELECT is((SELECT output FROM adagio.nodes WHERE run_id = :run AND name = 'a'), 'A1', 'a was not run again');

-- A failed run retried from a node that succeeded: the failed part and that node start over.
SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"},{"name":"x","runtime":"debug"}],"edges":[{"source":"a","destination":"b"}]}') AS run2 \gset
SELECT is((SELECT string_agg(adagio.complete((c ->> 'claim_token')::uuid, CASE c ->> 'name' WHEN 'a' THEN 'fail' ELSE 'success' END, 'o') ->> 'outcome', ',' ORDER BY c ->> 'name')
           FROM json_array_elements(adagio.claim(:agent, 10)) c), 'failed,succeeded', 'a fails and x succeeds');
SELECT is(adagio.retry_run(:run2, '{x}') ->> 'nodes_reset', '3', 'retrying from x resets a, b (never reached) and x');

SELECT * FROM finish();
ROLLBACK;

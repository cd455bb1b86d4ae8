-- complete_and_claim(): a worker's reports and its next claims in one call. The nodes the reports
-- make ready, of the agent's runtimes, are handed to it first (claimed in the report's own
-- statement); the oldest ready nodes fill the slots left; the timeline reads as if the node had
-- been claimed from the queue; a bad call applies nothing.
BEGIN;
\ir helpers.psql
SELECT plan(26);

SELECT adagio.register_agent('reporter', '{debug}') AS agent \gset
SELECT adagio.register_agent('other', '{other}') AS other_agent \gset
SELECT adagio.start_run(:'example') AS run \gset
SELECT is(pg_temp.claim_names(:agent), 'a,b', 'the roots are claimed');
-- Ready before a and b are reported, so older in the queue than anything they make ready.
SELECT adagio.start_run('{"nodes":[{"name":"x","runtime":"debug"}]}') AS older \gset

SELECT max(id) AS events_before FROM adagio.events \gset
SELECT adagio.complete_and_claim(:agent, 2, ARRAY[pg_temp.token_of(:run, 'a'), pg_temp.token_of(:run, 'b')],
                                 ARRAY['success', 'success'], ARRAY['from a', 'from b']) AS result \gset
SELECT is(:'result'::jsonb - 'claims', '{"succeeded": 2, "retrying": 0, "failed": 0, "not_held": []}'::jsonb,
          'the summary is complete_many()''s');
SELECT is((SELECT string_agg(c ->> 'name', ',' ORDER BY c ->> 'name') FROM jsonb_array_elements(:'result'::jsonb -> 'claims') c),
          'c,d', 'two of the three nodes the reports made ready are handed over, before an older ready node');
SELECT is(pg_temp.node_states(:run),
          'a=completed/success b=completed/success c=running d=running e=waiting f=ready g=waiting',
          'the handed nodes run; the third made ready waits in the queue');
SELECT is((SELECT count(*)::int FROM adagio.nodes n WHERE n.run_id = :run AND n.state = 'running'
             AND n.claimed_by = :agent AND n.attempt_count = 1 AND n.claim_token IS NOT NULL
             AND n.lease_expires_at > now() AND n.ready_at IS NOT NULL),
          2, 'a handed node is claimed as claim() would: agent, token, lease, attempt 1');
SELECT is((SELECT c -> 'inputs' FROM jsonb_array_elements(:'result'::jsonb -> 'claims') c WHERE c ->> 'name' = 'd'),
          '{"a": "from a", "b": "from b"}'::jsonb, 'its claim carries the outputs just reported');
SELECT is((SELECT array_agg(k ORDER BY k) FROM jsonb_array_elements(:'result'::jsonb -> 'claims') c, jsonb_object_keys(c) k
           WHERE c ->> 'name' = 'c'),
          (SELECT array_agg(k ORDER BY k) FROM json_array_elements(adagio.claim(:agent, 1)) c, json_object_keys(c) k),
          'a handed claim has the same fields as one from claim()');
SELECT is((SELECT string_agg(kind || ':' || node, ' ' ORDER BY id) FROM adagio.events
           WHERE run_id = :run AND id > :events_before),
          'attempt_finished:a attempt_finished:b node_ready:f node_claimed:c node_claimed:d',
          'the timeline: the attempts, the node queued, the hand-over claims (handed nodes were never claimable: no node_ready)');
SELECT is((SELECT agent_id FROM adagio.events WHERE run_id = :run AND kind = 'node_claimed' AND node = 'd'), :agent::bigint,
          'the claim event names the agent');
SELECT is((SELECT string_agg(node || ':' || coalesce(detail ->> 'handed_over', 'no'), ' ' ORDER BY node) FROM adagio.events
           WHERE run_id = :run AND kind = 'node_claimed' AND id > :events_before),
          'c:true d:true', 'and says the node was handed over');
-- The claim(1) above took x, the older ready node (f is newer).
SELECT is((SELECT state FROM adagio.nodes WHERE run_id = :older), 'running', 'claim() still serves the queue in age order');
SELECT is(adagio.complete(pg_temp.token_of(:run, 'c'), 'success', 'from c') ->> 'outcome', 'succeeded',
          'a handed claim''s token is good for its report');

-- Slots beyond the hand-over come from the queue: d's report makes e ready (handed), f is queued.
SELECT adagio.complete_and_claim(:agent, 5, ARRAY[pg_temp.token_of(:run, 'd')], ARRAY['success'], NULL) AS result \gset
SELECT is((SELECT string_agg(c ->> 'name', ',') FROM jsonb_array_elements(:'result'::jsonb -> 'claims') c),
          'e,f', 'the handed node first, then the queue''s');

-- Only runtimes the agent runs are handed over; the rest is left ready for others.
SELECT adagio.start_run('{"nodes":[{"name":"p","runtime":"debug"},{"name":"q","runtime":"other"}],
                          "edges":[{"source":"p","destination":"q"}]}') AS mixed \gset
SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete_and_claim(:agent, 5, ARRAY[pg_temp.token_of(:mixed, 'p')], ARRAY['success'], NULL) AS result \gset
SELECT is(jsonb_array_length(:'result'::jsonb -> 'claims'), 0, 'a node of another runtime is not handed over');
SELECT is(pg_temp.claim_names(:other_agent), 'q', 'it is ready for an agent that runs it');

-- max_nodes 0: the reports only (a worker with no free slot); what they make ready is queued.
SELECT adagio.start_run('{"nodes":[{"name":"s","runtime":"debug"},{"name":"t","runtime":"debug"}],
                          "edges":[{"source":"s","destination":"t"}]}') AS pair \gset
SELECT pg_temp.claim_names(:agent, 1) AS first_claimed \gset
SELECT adagio.complete_and_claim(:agent, 0, ARRAY[pg_temp.token_of(:pair, 's')], ARRAY['success'], NULL) AS result \gset
SELECT is((:'result'::jsonb ->> 'succeeded', jsonb_array_length(:'result'::jsonb -> 'claims'),
           (SELECT state FROM adagio.nodes WHERE run_id = :pair AND name = 't')),
          ('1'::text, 0, 'ready'::adagio.node_state), 'with no slots, nothing is handed over and the node is queued');

-- A stale token comes back in not_held; the claims are still made.
SELECT adagio.complete_and_claim(:agent, 1, ARRAY[gen_random_uuid()], ARRAY['success'], NULL) AS result \gset
SELECT is((jsonb_array_length(:'result'::jsonb -> 'not_held'), jsonb_array_length(:'result'::jsonb -> 'claims')),
          (1, 1), 'a claim no longer held is returned, and the free slot is still filled');

-- One report at a time, as a worker with one slot sends them: the hand-off in id order, the
-- timeline, and the run completed by its last report.
SELECT adagio.register_agent('fanner', '{fan}') AS fanner \gset
SELECT adagio.start_run('{"nodes":[{"name":"root","runtime":"fan"},{"name":"x","runtime":"fan"},{"name":"y","runtime":"fan"},
                                   {"name":"z","runtime":"fan"}],
                          "edges":[{"source":"root","destination":"x"},{"source":"root","destination":"y"},
                                   {"source":"root","destination":"z"}]}') AS fan \gset
SELECT pg_temp.claim_names(:fanner);
SELECT max(id) AS fan_events FROM adagio.events \gset
SELECT adagio.complete_and_claim(:fanner, 2, ARRAY[pg_temp.token_of(:fan, 'root')], ARRAY['success'], ARRAY['seed'])
  AS result \gset
SELECT is((SELECT string_agg(c ->> 'name', ',' ORDER BY (c ->> 'node_id')::bigint) FROM jsonb_array_elements(:'result'::jsonb -> 'claims') c),
          (SELECT string_agg(name, ',' ORDER BY id) FROM (SELECT name, id FROM adagio.nodes
             WHERE run_id = :fan AND name <> 'root' ORDER BY id LIMIT 2) first_two),
          'one report: two slots take the two first of the three nodes it made ready, in id order');
SELECT is((SELECT count(*)::int FROM jsonb_array_elements(:'result'::jsonb -> 'claims') c
           WHERE c -> 'inputs' = '{"root": "seed"}' AND c ->> 'attempt' = '1' AND c ->> 'claim_token' IS NOT NULL),
          2, 'their claims carry the output just reported, attempt 1 and a token');
SELECT is((SELECT string_agg(kind || ':' || coalesce(detail ->> 'handed_over', '-'), ' ' ORDER BY id) FROM adagio.events
           WHERE run_id = :fan AND id > :fan_events),
          'attempt_finished:- node_ready:- node_claimed:true node_claimed:true',
          'its timeline: the attempt, the node queued, then the hand-over claims');
SELECT is(:'result'::jsonb - 'claims', '{"succeeded": 1, "retrying": 0, "failed": 0, "not_held": []}'::jsonb,
          'its summary counts the one success');
SELECT adagio.complete_and_claim(:fanner, 1, ARRAY[(c ->> 'claim_token')::uuid], ARRAY['success'], NULL)
FROM jsonb_array_elements(:'result'::jsonb -> 'claims') c;
SELECT adagio.complete_and_claim(:fanner, 0, ARRAY[claim_token], ARRAY['success'], NULL)
FROM adagio.nodes WHERE run_id = :fan AND state = 'running';
SELECT is((SELECT (status, conclusion, nodes_remaining)::text FROM adagio.runs WHERE id = :fan)
            || ' ' || (SELECT kind FROM adagio.events WHERE run_id = :fan ORDER BY id DESC LIMIT 1),
          '(completed,success,0) run_completed', 'the last single report completes the run and logs it');

-- Bad calls apply nothing.
SELECT pg_temp.token_of(:pair, 't') AS tok_t \gset
SELECT throws_ok(format($$SELECT adagio.complete_and_claim(987654, 1, ARRAY[%L]::uuid[], ARRAY['success'])$$, :'tok_t'),
                 '42704', 'agent 987654 is not registered', 'an unknown agent is refused');
SELECT is((SELECT state FROM adagio.nodes WHERE run_id = :pair AND name = 't'), 'running',
          'and the report in that call was not applied');
SELECT throws_ok($$SELECT adagio.complete_and_claim(NULL, 1, ARRAY[gen_random_uuid()], ARRAY['success'])$$,
                 '22004', 'agent_id must not be NULL', 'agent_id is required');
SELECT throws_ok(format($$SELECT adagio.complete_and_claim(%s, -1, ARRAY[gen_random_uuid()], ARRAY['success'])$$, :agent),
                 '22023', 'max_nodes must be between 0 and 10000, got -1', 'max_nodes is bounded');

SELECT * FROM finish();
ROLLBACK;

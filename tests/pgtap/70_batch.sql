-- complete_many(): many reports in one call behave exactly like as many complete() calls:
-- outputs flow downstream, retry rules apply, runs finish, the timeline records it all, and a
-- claim no longer held is returned instead of failing the batch.
BEGIN;
\ir helpers.psql
SELECT plan(27);

SELECT adagio.register_agent('batcher', '{debug}') AS agent \gset
SELECT adagio.start_run(:'example') AS run \gset

-- a and b in one call: their outputs reach d (both) and c, f (one each).
SELECT is(pg_temp.claim_names(:agent), 'a,b', 'the roots are claimed');
SELECT max(id) AS events_before FROM adagio.events \gset
SELECT is(adagio.complete_many(ARRAY[pg_temp.token_of(:run, 'a'), pg_temp.token_of(:run, 'b')],
                               ARRAY['success', 'success'], ARRAY['from a', 'from b']),
          '{"succeeded": 2, "retrying": 0, "failed": 0, "not_held": []}'::jsonb,
          'two successes in one call');
SELECT is(pg_temp.node_states(:run),
          'a=completed/success b=completed/success c=ready d=ready e=waiting f=ready g=waiting',
          'downstream nodes became ready once all their upstream nodes succeeded');
SELECT is((SELECT inputs FROM adagio.nodes WHERE run_id = :run AND name = 'd'),
          '{"a": "from a", "b": "from b"}'::jsonb, 'a node with two upstreams got both outputs in one call');
SELECT is((SELECT count(*)::int FROM adagio.attempts WHERE run_id = :run AND conclusion = 'success'), 2,
          'one attempt row per report');
SELECT is((SELECT string_agg(kind || ':' || node, ' ' ORDER BY id) FROM adagio.events
           WHERE run_id = :run AND id > :events_before AND kind IN ('attempt_finished', 'node_ready')),
          'attempt_finished:a attempt_finished:b node_ready:c node_ready:d node_ready:f',
          'the timeline records the attempts, then the nodes they made ready');

-- A stale token is returned, not raised; the other reports in the call still count.
SELECT is(pg_temp.claim_names(:agent), 'c,d,f', 'the next layer is claimed');
SELECT pg_temp.token_of(:run, 'c') AS tok_c, pg_temp.token_of(:run, 'd') AS tok_d,
       pg_temp.token_of(:run, 'f') AS tok_f \gset
SELECT adagio.complete(:'tok_c', 'success', 'c alone');
SELECT is(adagio.complete_many(ARRAY[:'tok_c', :'tok_f']::uuid[], ARRAY['success', 'success'], NULL),
          jsonb_build_object('succeeded', 1, 'retrying', 0, 'failed', 0, 'not_held', jsonb_build_array(:'tok_c')),
          'a claim already reported comes back in not_held while the rest is applied');
SELECT is((SELECT output FROM adagio.nodes WHERE run_id = :run AND name = 'c'), 'c alone',
          'the stale report changed nothing');

-- Non-success reports follow the retry rules, in the same call as successes.
SELECT adagio.start_run('{"nodes":[{"name":"r","runtime":"debug","retry":{"error":{"max_attempts":2}}},
                                   {"name":"s","runtime":"debug"},
                                   {"name":"t","runtime":"debug"}],
                          "edges":[{"source":"s","destination":"t"}]}') AS run2 \gset
SELECT is(pg_temp.claim_names(:agent), 'r,s', 'a node with a retry policy and one without');
SELECT is(adagio.complete_many(ARRAY[pg_temp.token_of(:run2, 'r'), pg_temp.token_of(:run2, 's')],
                               ARRAY['error', 'fail'], ARRAY['boom', 'no']),
          '{"succeeded": 0, "retrying": 1, "failed": 1, "not_held": []}'::jsonb,
          'an error with an attempt left is retried, a fail without a policy fails the node');
SELECT is(pg_temp.node_states(:run2), 'r=ready s=completed/fail t=completed/never_reached',
          'retry and never_reached exactly as complete() would do');
SELECT is(pg_temp.claim_names(:agent), 'r', 'the retried node can be claimed again');
SELECT is(adagio.complete_many(ARRAY[pg_temp.token_of(:run2, 'r')], ARRAY['success'], ARRAY['second time']) ->> 'succeeded',
          '1', 'and succeeds');
SELECT is((SELECT status || '/' || conclusion FROM adagio.runs WHERE id = :run2), 'completed/failed',
          'the run completes once its last node is reported');

-- The rest of the first run in batches: its timeline ends with the last attempt, then the run.
SELECT adagio.complete_many(ARRAY[:'tok_d', :'tok_f']::uuid[], ARRAY['success', 'success'], NULL);
SELECT is(pg_temp.claim_names(:agent), 'e', 'e became ready once c and d succeeded');
SELECT adagio.complete_many(ARRAY[pg_temp.token_of(:run, 'e')], ARRAY['success'], NULL);
SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete_many(ARRAY[pg_temp.token_of(:run, 'g')], ARRAY['success'], ARRAY['the end']);
SELECT is((SELECT string_agg(kind || coalesce(':' || node, ''), ' ' ORDER BY id) FROM
            (SELECT * FROM adagio.events WHERE run_id = :run ORDER BY id DESC LIMIT 3) last),
          'node_claimed:g attempt_finished:g run_completed', 'a batch that ends a run logs the attempt, then the run''s completion');

-- Bad calls are rejected whole.
SELECT throws_ok($$SELECT adagio.complete_many(ARRAY[gen_random_uuid()], ARRAY['great'])$$, '22023',
                 'unknown conclusion "great"', 'an unknown conclusion rejects the call');
SELECT throws_ok($$SELECT adagio.complete_many(ARRAY[gen_random_uuid(), gen_random_uuid()], ARRAY['success'])$$,
                 '22023', 'claim_tokens, conclusions and outputs differ in length', 'arrays must have one element per report');
SELECT throws_ok($$SELECT adagio.complete_many(ARRAY[gen_random_uuid()], ARRAY['success'], ARRAY['x', 'y'])$$,
                 '22023', 'claim_tokens, conclusions and outputs differ in length', 'outputs, when given, one per report too');
SELECT throws_ok($$SELECT adagio.complete_many(NULL, ARRAY['success'])$$,
                 '22004', 'claim_tokens and conclusions must not be NULL', 'the tokens are required');
SELECT throws_ok($$SELECT adagio.complete_many(ARRAY[NULL::uuid], ARRAY['success'])$$,
                 '22004', 'a claim token must not be NULL', 'each token is required');
SELECT throws_ok($$SELECT adagio.complete_many(ARRAY[gen_random_uuid()], ARRAY[NULL::text])$$,
                 '22004', 'a conclusion must not be NULL', 'each conclusion is required');
SELECT throws_ok($$SELECT adagio.complete_many(ARRAY['b36e1b2c-4b8e-4e7a-9c1d-2f3a4b5c6d7e'::uuid, 'B36E1B2C-4B8E-4E7A-9C1D-2F3A4B5C6D7E'],
                                                ARRAY['success', 'fail'])$$,
                 '22023', 'claim b36e1b2c-4b8e-4e7a-9c1d-2f3a4b5c6d7e is reported twice in one call',
                 'a claim reported twice is refused, named as uuid prints it');
SELECT throws_ok($$SELECT adagio.complete_many(ARRAY(SELECT gen_random_uuid() FROM generate_series(1, 10001)),
                                                array_fill('success'::text, ARRAY[10001]))$$,
                 '22023', 'at most 10000 reports per call, got 10001', 'a call holds at most 10000 reports');
-- Arrays are read in storage order, every dimension counted (as unnest() reads them): a 2x2
-- array is four reports, none of them held; the successes are applied (and answered) first.
SELECT is(adagio.complete_many(ARRAY[['00000000-0000-4000-8000-00000000000A', '00000000-0000-4000-8000-00000000000B'],
                                     ['00000000-0000-4000-8000-00000000000C', '00000000-0000-4000-8000-00000000000D']]::uuid[],
                               ARRAY[['success', 'fail'], ['error', 'success']]) -> 'not_held',
          '["00000000-0000-4000-8000-00000000000a", "00000000-0000-4000-8000-00000000000d",
            "00000000-0000-4000-8000-00000000000b", "00000000-0000-4000-8000-00000000000c"]'::jsonb,
          'a two-dimensional call is four reports, in storage order');

-- Within a batch, the attempts are logged in the run's topological order (positions), not by
-- name: zeta is declared (and placed) before alpha.
SELECT adagio.register_agent('ordered', '{debug}') AS order_agent \gset
SELECT adagio.start_run('{"nodes":[{"name":"zeta","runtime":"debug"},{"name":"alpha","runtime":"debug"}]}') AS order_run \gset
SELECT pg_temp.claim_names(:order_agent);
SELECT adagio.complete_many(ARRAY[pg_temp.token_of(:order_run, 'alpha'), pg_temp.token_of(:order_run, 'zeta')],
                            ARRAY['success', 'success']);
SELECT is((SELECT string_agg(node, ' ' ORDER BY id) FROM adagio.events
           WHERE run_id = :order_run AND kind = 'attempt_finished'),
          'zeta alpha', 'a batch logs its attempts in the run''s topological order');

SELECT * FROM finish();
ROLLBACK;

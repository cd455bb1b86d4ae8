-- Concurrency keys: the runs started with one key run one at a time, in the order they were
-- started. A later run's first nodes wait ("scheduled", without a time) until every run before it
-- finished, failed or was cancelled; then they become ready. Retrying a run queues it again.
BEGIN;
\ir helpers.psql
SELECT plan(44);

SELECT adagio.register_agent('tap', '{debug}') AS agent \gset
\set chain '{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"}],"edges":[{"source":"a","destination":"b"}]}'
SELECT adagio.start_run(:'chain', concurrency_key => 'customer-1') AS first \gset
SELECT adagio.start_run(:'chain', concurrency_key => 'customer-1') AS second \gset
SELECT adagio.start_run(:'chain', concurrency_key => 'customer-2') AS other \gset
SELECT adagio.start_run(:'chain', concurrency_key => 'customer-1') AS third \gset
SELECT is(pg_temp.node_states(:first), 'a=ready b=waiting', 'the first run of a key starts at once');
SELECT is(pg_temp.node_states(:second), 'a=scheduled b=waiting', 'the next one of the key waits');
SELECT is((SELECT ready_at FROM adagio.nodes WHERE run_id = :second AND name = 'a'), NULL, 'with no time: the key, not a clock, starts it');
SELECT is(pg_temp.node_states(:other), 'a=ready b=waiting', 'another key is not held up');
SELECT is((SELECT concurrency_key FROM adagio.runs WHERE id = :third), 'customer-1', 'the run keeps its key');
SELECT is((adagio.inspect_run(:third) ->> 'queued_behind')::int, 2, 'inspect_run() says how many runs are before it');
SELECT is((SELECT detail FROM adagio.events WHERE run_id = :second AND kind = 'run_started'),
          '{"nodes": 2, "queued": true, "concurrency_key": "customer-1"}'::jsonb, 'run_started says it queued');
SELECT is(adagio.sweep() ->> 'timers_fired', '0', 'the sweep does not start it');

-- The first run finishes: the second starts.
SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete(pg_temp.token_of(:first, 'a'), 'success', 'x');
SELECT is(pg_temp.node_states(:second), 'a=scheduled b=waiting', 'not while the first still runs');
SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete(pg_temp.token_of(:first, 'b'), 'success', 'y');
SELECT is(pg_temp.node_states(:second), 'a=ready b=waiting', 'when it finishes, the next run of the key starts');
SELECT is((SELECT detail ->> 'after' FROM adagio.events WHERE run_id = :second AND kind = 'node_ready'), 'concurrency_key',
          'its node_ready says why it waited');
SELECT is(pg_temp.node_states(:third), 'a=scheduled b=waiting', 'the third still waits, behind the second');
SELECT is((adagio.inspect_run(:third) ->> 'queued_behind')::int, 1, 'now behind one');

-- A failure ends a run too.
SELECT pg_temp.claim_names(:agent);
SELECT adagio.complete(pg_temp.token_of(:second, 'a'), 'fail', 'no');
SELECT is((SELECT conclusion::text FROM adagio.runs WHERE id = :second), 'failed', 'the second run failed');
SELECT is(pg_temp.node_states(:third), 'a=ready b=waiting', 'and the third started');

-- Cancelling: a waiting run leaves the line; the running one lets the next start.
SELECT adagio.start_run(:'chain', concurrency_key => 'customer-1') AS fourth \gset
SELECT adagio.start_run(:'chain', concurrency_key => 'customer-1') AS fifth \gset
SELECT adagio.cancel_run(:fourth);
SELECT is(pg_temp.node_states(:fifth), 'a=scheduled b=waiting', 'cancelling a waiting run starts nothing');
SELECT adagio.cancel_run(:third);
SELECT is(pg_temp.node_states(:fifth), 'a=ready b=waiting', 'cancelling the running one starts the next in line');

-- A retry queues the run again, at the end of its key's line.
SELECT adagio.retry_run(:second) AS retried \gset
SELECT is((:'retried'::jsonb) ->> 'nodes_ready', '0', 'a retried run of a busy key makes nothing ready');
SELECT is(pg_temp.node_states(:second), 'a=scheduled b=waiting', 'it waits behind the running one');
SELECT adagio.cancel_run(:fifth);
SELECT is(pg_temp.node_states(:second), 'a=ready b=waiting', 'and starts when that one ends');

-- start_runs(): the runs of one call wait for each other.
SELECT adagio.define_workflow('chain', :'chain');
SELECT adagio.start_runs('chain', ARRAY['{}', '{}', '{}']::jsonb[], concurrency_key => 'batch') AS batch \gset
SELECT is((SELECT array_agg(n.state::text ORDER BY n.run_id) FROM adagio.nodes n
            WHERE n.run_id = ANY (:'batch'::bigint[]) AND n.name = 'a'), ARRAY['ready', 'scheduled', 'scheduled'],
          'start_runs() with a key: the first runs, the others wait their turn');

-- With a start time: the first in line waits for its time, and the key for it.
SELECT adagio.start_run(:'chain', start_at => clock_timestamp() + interval '1 hour', concurrency_key => 'later') AS later \gset
SELECT adagio.start_run(:'chain', concurrency_key => 'later') AS after_later \gset
SELECT ok((SELECT state = 'scheduled' AND ready_at > now() FROM adagio.nodes WHERE run_id = :later AND name = 'a'),
          'a run of a free key with a start time waits for its time');
SELECT is(pg_temp.node_states(:after_later), 'a=scheduled b=waiting', 'and the next of its key waits for it');

-- A limit above one: that many runs of the key go at a time.
SELECT adagio.start_run(:'chain', concurrency_key => 'pool', concurrency_limit => 2) AS p1 \gset
SELECT adagio.start_run(:'chain', concurrency_key => 'pool', concurrency_limit => 2) AS p2 \gset
SELECT adagio.start_run(:'chain', concurrency_key => 'pool', concurrency_limit => 2) AS p3 \gset
SELECT is(pg_temp.node_states(:p1) || ' / ' || pg_temp.node_states(:p2), 'a=ready b=waiting / a=ready b=waiting',
          'with concurrency_limit 2, two runs of the key start');
SELECT is(pg_temp.node_states(:p3), 'a=scheduled b=waiting', 'the third waits');
SELECT is((adagio.inspect_run(:p3) ->> 'queued_behind')::int, 1, 'for one of them to end');
SELECT is((SELECT concurrency_limit FROM adagio.runs WHERE id = :p3), 2, 'the run keeps its limit');
SELECT adagio.cancel_run(:p2);
SELECT is(pg_temp.node_states(:p3), 'a=ready b=waiting', 'when one ends, it starts');
SELECT adagio.start_runs('chain', ARRAY['{}', '{}', '{}']::jsonb[], concurrency_key => 'pool-batch', concurrency_limit => 2) AS pool_batch \gset
SELECT is((SELECT array_agg(n.state::text ORDER BY n.run_id) FROM adagio.nodes n
            WHERE n.run_id = ANY (:'pool_batch'::bigint[]) AND n.name = 'a'), ARRAY['ready', 'ready', 'scheduled'],
          'start_runs() with a limit of 2: two run, the third waits');
SELECT throws_ok(format('SELECT adagio.start_run(%L, concurrency_key => %L, concurrency_limit => 0)', :'chain', 'pool'), '22023',
  'concurrency_limit must be between 1 and 1000, got 0', 'a limit below one is refused');
SELECT throws_ok(format('SELECT adagio.start_run(%L, concurrency_key => %L)', :'chain', 'pool'), '22023',
  'concurrency key "pool" has a limit of 2, not 1', 'a key has one limit: a start that forgets it is refused while runs of the key are in line');
SELECT is((SELECT count(*) FROM adagio.runs WHERE concurrency_key = 'pool'), 3::bigint, 'and leaves no run behind');
SELECT adagio.cancel_run(:p1);
SELECT adagio.cancel_run(:p3);
SELECT ok(adagio.start_run(:'chain', concurrency_key => 'pool', concurrency_limit => 5) > 0, 'once they have ended, a new limit is taken');
SELECT lives_ok(format('SELECT adagio.retry_run(%s)', :p1), 'a run started under the old limit can still be retried');
SELECT is((SELECT concurrency_limit FROM adagio.runs WHERE id = :p1), 5, 'and takes the key''s limit of now');

-- The sweep's backstop: a release that missed the next run (a repeatable-read reporter's snapshot
-- can) leaves it waiting behind nothing; the next sweep starts it.
SELECT adagio.start_run(:'chain', concurrency_key => 'missed') AS ahead \gset
SELECT adagio.start_run(:'chain', concurrency_key => 'missed') AS missed \gset
DELETE FROM adagio.concurrency_queue WHERE run_id = :ahead;  -- as if the run had ended, its release seeing no one
SELECT is(pg_temp.node_states(:missed), 'a=scheduled b=waiting', 'a run left waiting behind nothing');
SELECT is(adagio.sweep() ->> 'concurrency_keys_started', '1', 'the sweep starts it');
SELECT is(pg_temp.node_states(:missed), 'a=ready b=waiting', 'its first node is ready');
SELECT is(adagio.sweep() ->> 'concurrency_keys_started', NULL, 'and the next sweep finds nothing to do');

-- A retried run waiting for its key is not "retrying": its attempts belong to the try before.
SELECT adagio.start_run('{"nodes":[{"name":"x","runtime":"debug"}]}', concurrency_key => 'views') AS v1 \gset
SELECT adagio.cancel_run(:v1);
SELECT adagio.start_run('{"nodes":[{"name":"x","runtime":"debug"}]}', concurrency_key => 'views') AS v2 \gset
SELECT c ->> 'name' FROM json_array_elements(adagio.claim(:agent, 100)) c WHERE (c ->> 'run_id')::bigint <> :v2;
UPDATE adagio.nodes SET attempt_count = attempt_count + 1 WHERE run_id = :v1;  -- as if it had run once
SELECT adagio.retry_run(:v1);
SELECT is((SELECT retrying FROM adagio.node_overview WHERE run_id = :v1), false, 'node_overview says it is not retrying');
SELECT is(adagio.inspect_run(:v1) -> 'nodes' -> 0 ->> 'retrying', 'false', 'nor does inspect_run()');

-- Bad input.
SELECT count(*) AS runs_before FROM adagio.runs \gset
SELECT throws_ok(format('SELECT adagio.start_run(%L, concurrency_key => %L)', :'chain', ''), '22023',
  'concurrency_key must be 1 to 255 bytes, got 0', 'an empty key is refused');
SELECT is((SELECT count(*) FROM adagio.runs), :runs_before::bigint, 'writing nothing');

-- Only the engine moves a key's line.
SELECT throws_ok($$SET LOCAL ROLE adagio_operator; SELECT adagio.release_concurrency_keys(ARRAY[1::bigint])$$, '42501', NULL,
  'release_concurrency_keys() is not for callers');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;

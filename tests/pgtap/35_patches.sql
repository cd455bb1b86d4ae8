-- Patches: nodes, and edges that end at them, added to a run while it runs, by the function a
-- claim runs (patch_run_from_node) or by an operator (patch_run). Reports of nodes written before
-- a patch follow the edges it added.
BEGIN;
\ir helpers.psql
SELECT plan(58);

SELECT adagio.register_agent('fanner', '{debug}') AS agent \gset
SELECT adagio.start_run('{"nodes":[{"name":"fetch","runtime":"debug"},{"name":"split","runtime":"debug"}],"edges":[{"source":"fetch","destination":"split"}]}') AS run \gset
SELECT is(pg_temp.claim_names(:agent), 'fetch', 'the first node is claimed');
SELECT is(adagio.complete(pg_temp.token_of(:run, 'fetch'), 'success', 'f1') ->> 'outcome', 'succeeded', 'and succeeds');
SELECT is(pg_temp.claim_names(:agent), 'split', 'split is claimed');
SELECT pg_temp.token_of(:run, 'split') AS split_token \gset
SELECT graph_id AS first_graph FROM adagio.runs WHERE id = :run \gset

-- split fans out over what it found: two parts after it, and a join after both (and after fetch).
\set fan_out '{"nodes":[{"name":"part-1","runtime":"debug"},{"name":"part-2","runtime":"debug"},{"name":"join","runtime":"debug"}],"edges":[{"source":"split","destination":"part-1"},{"source":"split","destination":"part-2"},{"source":"part-1","destination":"join"},{"source":"part-2","destination":"join"},{"source":"fetch","destination":"join"}]}'
SELECT is(adagio.patch_run_from_node(:'split_token', :'fan_out'),
          format('{"run_id": %s, "patch": 1, "nodes": ["part-1", "part-2", "join"], "already_applied": false}', :run)::jsonb,
          'split patches its own run: patch 1 adds three nodes');
SELECT is(pg_temp.node_states(:run), 'fetch=completed/success join=waiting part-1=waiting part-2=waiting split=running',
          'the added nodes wait for their upstream nodes');
SELECT is((SELECT upstream_pending || ' ' || inputs::text FROM adagio.nodes WHERE run_id = :run AND name = 'join'),
          '2 {"fetch": "f1"}', 'the join has fetch''s output already, and waits for the two parts');
SELECT is((SELECT node_count || '/' || nodes_remaining FROM adagio.runs WHERE id = :run), '5/4', 'the run counts them');
SELECT isnt((SELECT graph_id FROM adagio.runs WHERE id = :run), :first_graph::bigint, 'the run has a new graph');
SELECT is((SELECT count(*)::int FROM adagio.edges WHERE run_id = :run), 6, 'the edges view shows the merged graph');
SELECT is((SELECT string_agg(position::text, ',' ORDER BY position) FROM adagio.nodes WHERE run_id = :run), '0,1,2,3,4',
          'the added nodes take the places after the run''s nodes, in order');
SELECT is((SELECT number || ' ' || node || ' ' || (agent_id = :agent) || ' ' || patched_by FROM adagio.run_patches WHERE run_id = :run),
          '1 split true ' || session_user, 'run_patches records the patch, its node, agent and login');
SELECT is((SELECT detail FROM adagio.timeline(:run) WHERE kind = 'run_patched'),
          jsonb_build_object('patch', 1, 'nodes', jsonb_build_array('part-1', 'part-2', 'join'), 'by', session_user::text),
          'a run_patched event names the patch, its nodes and its sender');
SELECT is((SELECT node FROM adagio.timeline(:run) WHERE kind = 'run_patched'), 'split', 'and the patching node');
SELECT is(((adagio.inspect_run(:run) -> 'patches') -> 0) - 'at' - 'agent_id',
          jsonb_build_object('patch', 1, 'nodes', jsonb_build_array('part-1', 'part-2', 'join'), 'node', 'split', 'by', session_user::text),
          'inspect_run() lists the run''s patches');

-- The same patch from the same node (an attempt run again) is the one already applied.
SELECT is(adagio.patch_run_from_node(:'split_token', :'fan_out') ->> 'already_applied', 'true', 'a repeated patch is no new one');
SELECT is((SELECT count(*)::int FROM adagio.nodes WHERE run_id = :run), 5, 'and adds nothing');

-- split's row was written before the patch; its report follows the edges the patch added.
SELECT is(adagio.complete(:'split_token', 'success', 'list') ->> 'run_status', 'running', 'split succeeds');
SELECT is(pg_temp.node_states(:run), 'fetch=completed/success join=waiting part-1=ready part-2=ready split=completed/success',
          'its added nodes are ready');
SELECT is((SELECT inputs FROM adagio.nodes WHERE run_id = :run AND name = 'part-2'), '{"split": "list"}'::jsonb,
          'with its output');
SELECT is((SELECT string_agg(node, ' ' ORDER BY id) FROM adagio.timeline(:run) WHERE kind = 'node_ready' AND node LIKE 'part-%'),
          'part-1 part-2', 'each with its node_ready event');
SELECT is(pg_temp.claim_names(:agent), 'part-1,part-2', 'workers claim them');
SELECT is(adagio.complete_many(ARRAY[pg_temp.token_of(:run, 'part-1'), pg_temp.token_of(:run, 'part-2')],
                               '{success,success}', '{p1,p2}') ->> 'succeeded', '2', 'both succeed');
SELECT is((SELECT state || ' ' || inputs::text FROM adagio.nodes WHERE run_id = :run AND name = 'join'),
          'ready {"fetch": "f1", "part-1": "p1", "part-2": "p2"}', 'the join is ready with every output');
SELECT is(pg_temp.claim_names(:agent), 'join', 'and claimed');
SELECT is(adagio.complete(pg_temp.token_of(:run, 'join'), 'success') ->> 'run_conclusion', 'success', 'the run succeeds with them');

-- Refusals: nothing is written.
SELECT count(*) AS nodes_before FROM adagio.nodes \gset
SELECT count(*) AS graphs_before FROM adagio.graphs \gset
SELECT throws_ok(format($$SELECT adagio.patch_run(%s, '{"nodes":[{"name":"late","runtime":"debug"}]}')$$, :run), '55000',
  'run ' || :run || ' is completed', 'a finished run takes no patch');
SELECT throws_ok($$SELECT adagio.patch_run(0, '{"nodes":[{"name":"x","runtime":"debug"}]}')$$, '42704', 'run 0 does not exist',
  'an unknown run');
SELECT throws_ok(format('SELECT adagio.patch_run(%s, NULL)', :run), '22004', 'patch must not be NULL', 'a NULL patch');
SELECT throws_ok(format('SELECT adagio.patch_run_from_node(%L, %L)', :'split_token', '{"nodes":[{"name":"more","runtime":"debug"}]}'),
  '55000', 'claim ' || :'split_token' || ' is no longer held', 'a claim no longer held cannot patch');

SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"},{"name":"b","runtime":"debug"}],"edges":[{"source":"a","destination":"b"}]}') AS run2 \gset
SELECT throws_ok(format($$SELECT adagio.patch_run(%s, '{"nodes":[{"name":"b","runtime":"debug"}]}')$$, :run2), '22023',
  'invalid patch: nodes[0]: the run already has a node "b"', 'a name the run has');
SELECT throws_ok(format($$SELECT adagio.patch_run(%s, '{"nodes":[{"name":"c","runtime":"debug"}],"edges":[{"source":"c","destination":"b"}]}')$$, :run2),
  '22023', 'invalid patch: edges[0] c -> b: destination "b" is already in the run (a patch adds edges only to the nodes it adds)',
  'an edge into a node the run has');
SELECT throws_ok(format($$SELECT adagio.patch_run(%s, '{"nodes":[{"name":"c","runtime":"debug"}],"edges":[{"source":"zz","destination":"c"}]}')$$, :run2),
  '22023', 'invalid patch: edges[0] zz -> c: source "zz" is not a node', 'an edge from nowhere');
SELECT throws_ok(format($$SELECT adagio.patch_run(%s, '{"nodes":[{"name":"c","runtime":"debug"}],"what":1}')$$, :run2),
  '22023', NULL, 'a field GraphPatch does not have');
SELECT throws_ok(format('SELECT adagio.patch_run(%s, %L)', :run2,
  jsonb_build_object('nodes', (SELECT jsonb_agg(jsonb_build_object('name', 'n' || i, 'runtime', 'debug')) FROM generate_series(1, 10001) i))),
  '54000', 'at most 10000 nodes per patch, got 10001', 'a patch has at most 10,000 nodes');
SELECT is((SELECT count(*) FROM adagio.nodes) || ' ' || (SELECT count(*) FROM adagio.graphs), :nodes_before + 2 || ' ' || :graphs_before + 1,
          'refused patches left no nodes and no graphs behind');

-- A node added without edges is ready at once; an operator's patch names no node.
SELECT is(adagio.patch_run(:run2, '{"nodes":[{"name":"audit","runtime":"debug"},{"name":"sign-off","runtime":"approval"}]}') ->> 'patch', '1',
          'an operator patches a run');
SELECT is(pg_temp.node_states(:run2), 'a=ready audit=ready b=waiting sign-off=ready', 'nodes without edges are ready');
SELECT is((SELECT count(*)::int FROM adagio.open_gates WHERE run_id = :run2 AND node = 'sign-off'), 1, 'an added gate is open');
SELECT is((SELECT node IS NULL AND agent_id IS NULL FROM adagio.run_patches WHERE run_id = :run2), true, 'no node, no agent');

-- A node that failed for good never runs what a patch put after it: refused once it failed,
-- never reached if it fails after the patch.
SELECT is(pg_temp.claim_names(:agent), 'a,audit', 'a and audit are claimed');
SELECT is(adagio.patch_run(:run2, '{"nodes":[{"name":"c","runtime":"debug"},{"name":"d","runtime":"debug"}],"edges":[{"source":"a","destination":"c"},{"source":"c","destination":"d"}]}') ->> 'patch',
          '2', 'a patch adds c after the running a, and d after c');
SELECT is(adagio.complete(pg_temp.token_of(:run2, 'a'), 'fail', 'broken') ->> 'outcome', 'failed', 'a fails, with no retry');
SELECT is(pg_temp.node_states(:run2), 'a=completed/fail audit=running b=completed/never_reached c=completed/never_reached d=completed/never_reached sign-off=ready',
          'what the patch put after it is never reached too');
SELECT is((SELECT nodes_remaining || '/' || nodes_failed FROM adagio.runs WHERE id = :run2), '2/4', 'and counted');
SELECT throws_ok(format($$SELECT adagio.patch_run(%s, '{"nodes":[{"name":"e","runtime":"debug"}],"edges":[{"source":"a","destination":"e"}]}')$$, :run2),
  '55000', 'node "a" of run ' || :run2 || ' concluded fail', 'no edge from a node that failed');

-- JSON Patch operations: the same additions, stored in the GraphPatch form.
SELECT is(adagio.patch_run(:run2, '[{"op":"add","path":"/nodes/-","value":{"name":"audit-2","runtime":"debug"}},{"op":"add","path":"/edges/-","value":{"source":"audit","destination":"audit-2"}}]') ->> 'patch',
          '3', 'a patch as JSON Patch operations is applied');
SELECT is((SELECT patch FROM adagio.run_patches WHERE run_id = :run2 AND number = 3),
          '{"nodes":[{"name":"audit-2","runtime":"debug","metadata":{},"retry":{}}],"edges":[{"source":"audit","destination":"audit-2"}]}'::jsonb,
          'and stored as nodes and edges');
SELECT is(pg_temp.node_states(:run2) ~ 'audit-2=waiting', true, 'the added node waits for audit');
SELECT throws_ok(format($$SELECT adagio.patch_run(%s, '{"operations":[{"op":"replace","path":"/nodes/0/runtime","value":"exec"}]}')$$, :run2),
  '22023', 'invalid patch: operations[0]: op "replace" is not supported: a patch only adds (op "add", path "/nodes/-" or "/edges/-")',
  'an operation other than add is refused, naming it');

-- A retried run keeps its patches: the added nodes are part of its graph, and run again.
SELECT adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"}]}') AS run3 \gset
SELECT is(pg_temp.claim_names(:agent), 'a', 'run3''s a is claimed');
SELECT is(adagio.patch_run(:run3, '{"nodes":[{"name":"c","runtime":"debug"}],"edges":[{"source":"a","destination":"c"}]}') ->> 'patch', '1',
          'c is added after it');
SELECT is(adagio.complete(pg_temp.token_of(:run3, 'a'), 'fail', 'x') ->> 'run_conclusion', 'failed', 'a fails, and the run with it');
SELECT is(adagio.retry_run(:run3)::text || ' ' || pg_temp.node_states(:run3),
          format('{"run_id": %s, "nodes_ready": 1, "nodes_reset": 2} a=ready c=waiting', :run3),
          'retry_run() resets the added node too, waiting for a again');

-- The spawn limit: nodes added to one run by all its patches (run2 has 5 so far).
SET LOCAL adagio.max_patch_nodes_per_run = 6;
SELECT throws_ok(format($$SELECT adagio.patch_run(%s, '{"nodes":[{"name":"e1","runtime":"debug"},{"name":"e2","runtime":"debug"}]}')$$, :run2),
  '54000', 'run ' || :run2 || ' would have 7 nodes added by patches, more than adagio.max_patch_nodes_per_run (6)',
  'a patch beyond the run''s bound is refused');
SELECT is(adagio.patch_run(:run2, '{"nodes":[{"name":"e1","runtime":"debug"}]}') ->> 'patch', '4', 'one within it is applied');
SET LOCAL adagio.max_patch_nodes_per_run = 0;
SELECT throws_ok(format($$SELECT adagio.patch_run(%s, '{"nodes":[{"name":"x","runtime":"debug"}]}')$$,
                        adagio.start_run('{"nodes":[{"name":"a","runtime":"debug"}]}')),
  '54000', NULL, '0 allows no patches');
SET LOCAL ROLE adagio_worker;
SELECT throws_ok('SET adagio.max_patch_nodes_per_run = 100000', '42501', NULL, 'a worker''s login cannot raise the bound');
RESET ROLE;
SELECT is(current_setting('adagio.max_patch_nodes_per_run'), '0', 'which stays as the superuser set it');

SELECT * FROM finish();
ROLLBACK;

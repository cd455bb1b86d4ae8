// API tests against a real cluster with two real workers (see suite.sh).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import {
  assertError, base, call, debugNode, disabledBase, get, openBase, post, sql, token, waitFor, waitRun,
} from './lib.mjs';

const quickGraph = (tag) => ({
  nodes: [debugNode(`${tag}-a`, { output: `out-${tag}` }), debugNode(`${tag}-b`)],
  edges: [{ source: `${tag}-a`, destination: `${tag}-b` }],
});
// A run no worker can claim: it stays running until cancelled.
const stuckGraph = { nodes: [{ name: 'nobody', runtime: 'no-such-runtime', metadata: {} }], edges: [] };

test('listens on loopback by default and reports its action mode', async () => {
  assert.match(readFileSync(process.env.DASHBOARD_STDOUT, 'utf8'), /listening on http:\/\/127\.0\.0\.1:\d+\//);
  assert.equal((await get('/api/config')).body.actions, 'token');
  assert.equal((await get('/api/config', { url: openBase })).body.actions, 'open');
  assert.equal((await get('/api/config', { url: disabledBase })).body.actions, 'disabled');
});

test('OpenAPI document describes every endpoint', async () => {
  const r = await get('/api/openapi.json');
  assert.equal(r.status, 200);
  assert.equal(r.body.openapi, '3.0.3');
  for (const path of ['/api/stats', '/api/runs', '/api/runs/{id}', '/api/runs/{id}/timeline', '/api/runs/{id}/cancel',
    '/api/runs/{id}/retry', '/api/runs/{id}/patch', '/api/runs/{id}/logs', '/api/runs/{id}/approve', '/api/runs/{id}/reject', '/api/gates', '/api/agents', '/api/workflows', '/api/events', '/api/live', '/metrics'])
    assert.ok(r.body.paths[path], `${path} missing from the OpenAPI document`);
  assert.ok(r.body.paths['/api/runs'].post, 'starting a run is described');
});

test('stats and agents show the two workers', async () => {
  await waitFor('two active agents', async () => (await get('/api/stats')).body.agents.active === 2);
  const agents = (await get('/api/agents')).body;
  assert.deepEqual(agents.map((a) => a.name).sort(), ['worker-a', 'worker-b']);
  for (const a of agents) assert.deepEqual([...a.runtimes].sort(), ['debug', 'exec']);
  assert.equal((await get('/api/agents?status=active')).body.length, 2);
  assert.equal((await get('/api/agents?status=gone')).body.length, 0);
  assertError(await get('/api/agents?status=asleep'), 400, /status must be one of active, stopped, gone/);
});

test('starting a run needs the token; a started run completes with attempts and a timeline', async () => {
  assertError(await post('/api/runs', { graph: quickGraph('t0') }, { token: '' }), 401, /token/);
  assertError(await post('/api/runs', { graph: quickGraph('t0') }, { token: `${token}x` }), 401, /wrong/);
  assertError(await post('/api/runs', { graph: quickGraph('t0') }, { token: token.slice(0, -1) }), 401, /wrong/);
  const started = await post('/api/runs', { graph: quickGraph('t1'), inputs: { day: 'mon' } });
  assert.equal(started.status, 201, started.text);
  assert.equal(started.headers.get('location'), `/api/runs/${started.body.id}`);
  // The X-Adagio-Token header works as well as Bearer.
  const second = await call('POST', '/api/runs', { body: { graph: quickGraph('t2') }, headers: { 'X-Adagio-Token': token } });
  assert.equal(second.status, 201, second.text);

  const run = await waitRun(started.body.id);
  assert.equal(run.conclusion, 'success');
  assert.deepEqual(run.inputs, { day: 'mon' });
  assert.deepEqual(run.edges, [{ source: 't1-a', destination: 't1-b' }]);
  const [a, b] = run.nodes;
  assert.equal(a.state, 'completed');
  assert.equal(a.output, 'out-t1');
  assert.equal(a.attempts.length, 1);
  assert.match(a.attempts[0].agent, /^worker-[ab]$/);
  assert.ok(a.attempts[0].ready_at && a.attempts[0].started_at && a.attempts[0].finished_at, 'attempt timing');
  assert.ok(new Date(a.attempts[0].ready_at) <= new Date(a.attempts[0].started_at), 'ready before started');
  assert.deepEqual(b.inputs, { 't1-a': 'out-t1' });
  assert.equal(a.spec.runtime, 'debug');
  assert.equal(a.retrying, false);

  const timeline = await get(`/api/runs/${run.id}/timeline`);
  assert.equal(timeline.status, 200);
  const kinds = timeline.body.map((e) => e.kind);
  assert.equal(kinds[0], 'run_started');
  assert.equal(kinds.at(-1), 'run_completed');
  assert.ok(kinds.includes('node_claimed') && kinds.includes('attempt_finished'));
  assert.ok(timeline.body.find((e) => e.kind === 'node_claimed').agent.startsWith('worker-'));

  const events = await get(`/api/events?run=${run.id}&after=0&limit=3`);
  assert.equal(events.status, 200);
  assert.equal(events.body.length, 3);
  const rest = await get(`/api/events?run=${run.id}&after=${events.body[2].id}`);
  assert.equal(rest.body.length, timeline.body.length - 3);
  await waitRun(second.body.id);
});

test('bad ids are 400 with a message, unknown runs 404', async () => {
  for (const id of ['abc', '0', '-1', '1.5', '1e3', '99999999999999999999', '%20', '1;DROP']) {
    assertError(await get(`/api/runs/${id}`), 400, /run id must be a positive integer/);
    assertError(await get(`/api/runs/${id}/timeline`), 400, /run id/);
    assertError(await post(`/api/runs/${id}/cancel`), 400, /run id/);
  }
  assertError(await get('/api/runs/987654321'), 404, /run 987654321 does not exist/);
  assertError(await get('/api/runs/987654321/timeline'), 404, /does not exist/);
  assertError(await post('/api/runs/987654321/cancel'), 404, /does not exist/);
  assertError(await post('/api/runs/987654321/retry'), 404, /does not exist/);
  assertError(await get('/api/nothing-here'), 404, /no such endpoint/);
  assertError(await get('/api/runs/1?verbose=1'), 400, /unknown query parameter "verbose"/);
  assertError(await get('/api/events?after=x'), 400, /after must be an integer/);
  assertError(await get('/api/events?run=x'), 400, /run must be a positive integer/);
  assertError(await get('/api/events?limit=100000'), 400, /limit must be an integer from 1 to 1000/);
});

test('invalid bodies and graphs are 400 with the reason', async () => {
  assertError(await post('/api/runs', undefined, { rawBody: '{"graph": ' }), 400, /malformed JSON body/);
  assertError(await post('/api/runs', undefined, { rawBody: '[1]' }), 400, /must be a JSON object/);
  assertError(await post('/api/runs', {}), 400, /either "graph".*or "workflow"/);
  assertError(await post('/api/runs', { graph: quickGraph('x'), workflow: 'w' }), 400, /either/);
  assertError(await post('/api/runs', { graph: quickGraph('x'), retries: 3 }), 400, /unknown field "retries"/);
  assertError(await post('/api/runs', { graph: quickGraph('x'), inputs: [1] }), 400, /"inputs" must be a JSON object/);
  assertError(await post('/api/runs', { graph: 'nodes' }), 400, /"graph" must be a JSON object/);
  assertError(await post('/api/runs', { graph: { nodes: [] } }), 400, /invalid graph/);
  const cycle = {
    nodes: [debugNode('x'), debugNode('y')],
    edges: [{ source: 'x', destination: 'y' }, { source: 'y', destination: 'x' }],
  };
  const r = await post('/api/runs', { graph: cycle });
  assertError(r, 400, /cycle/);
  assert.equal(r.body.sqlstate, '22023');
  assertError(await post('/api/runs', { graph: { nodes: [{ name: 'a', runtime: 'debug', retires: {} }] } }), 400, /invalid graph/);
  assertError(await post('/api/runs', { workflow: 'no-such-workflow' }), 404, /does not exist/);
  assertError(await post('/api/runs', { workflow: 'w', version: 0 }), 400, /"version" must be a positive integer/);
  // A form post from another site cannot be JSON without a CORS preflight: refused.
  assertError(await post('/api/runs', undefined, { rawBody: 'graph=x', headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }), 415);
  assertError(await post('/api/validate', { graph: cycle }), 400, /cycle/);
  const valid = await post('/api/validate', { graph: { nodes: [{ name: 'v', runtime: 'exec', metadata: { command: 'true' } }] } });
  assert.equal(valid.status, 200);
  assert.deepEqual(valid.body.graph.nodes[0].metadata.command, { values: ['true'] });
});

test('stored workflows: list, show and start by name and version', async () => {
  const graph = JSON.stringify(quickGraph('wf')).replaceAll("'", "''");
  sql(`SELECT adagio.define_workflow('nightly-report', '${graph}')`);
  sql(`SELECT adagio.define_workflow('nightly-report', '${graph}')`);
  const list = (await get('/api/workflows')).body;
  const wf = list.find((w) => w.name === 'nightly-report');
  assert.equal(wf.latest_version, 2);
  const shown = await get('/api/workflows/nightly-report?version=1');
  assert.equal(shown.status, 200);
  assert.equal(shown.body.version, 1);
  assert.equal(shown.body.graph.nodes.length, 2);
  assertError(await get('/api/workflows/nightly-report?version=9'), 404, /does not exist/);
  assertError(await get('/api/workflows/nightly-report?version=zero'), 400, /version must be an integer/);

  const started = await post('/api/runs', { workflow: 'nightly-report', version: 1, inputs: { k: 'v' } });
  assert.equal(started.status, 201, started.text);
  const run = await waitRun(started.body.id);
  assert.equal(run.workflow, 'nightly-report');
  assert.equal(run.workflow_version, 1);
  assertError(await post('/api/runs', { workflow: 'nightly-report', version: 7 }), 404, /version/);
  const filtered = await get('/api/runs?workflow=nightly-report');
  assert.deepEqual(filtered.body.runs.map((r) => r.id), [started.body.id]);
});

test('a node is concluded by hand: success goes downstream; bad requests and wrong states are refused', async () => {
  const graph = { nodes: [{ name: 'nobody', runtime: 'no-such-runtime', metadata: {} },
    { name: 'after', runtime: 'no-such-runtime', metadata: {} }], edges: [{ source: 'nobody', destination: 'after' }] };
  const started = await post('/api/runs', { graph });
  assert.equal(started.status, 201, started.text);
  const id = started.body.id;
  assertError(await post(`/api/runs/${id}/conclude`, { node: 'after', conclusion: 'success' }), 409, /cannot be concluded now/);
  assertError(await post(`/api/runs/${id}/conclude`, { node: 'nobody', conclusion: 'maybe' }), 400, /conclusion must be success, fail or error/);
  assertError(await post(`/api/runs/${id}/conclude`, { node: 'nope', conclusion: 'success' }), 404, /has no node "nope"/);
  assertError(await post(`/api/runs/${id}/conclude`, { conclusion: 'success' }), 400, /"node" is required/);
  assertError(await post(`/api/runs/${id}/conclude`, { node: 'nobody' }), 400, /"conclusion" is required/);
  assertError(await post(`/api/runs/${id}/conclude`, { node: 'nobody', conclusion: 'success', by: 'me' }), 400, /by/);
  const done = await post(`/api/runs/${id}/conclude`, { node: 'nobody', conclusion: 'success', output: 'by hand' });
  assert.equal(done.status, 200, done.text);
  assert.equal(done.body.outcome, 'succeeded');
  const run = (await get(`/api/runs/${id}`)).body;
  assert.equal(run.nodes[1].state, 'ready', 'the node after it is ready');
  assert.equal(run.nodes[1].inputs.nobody, 'by hand', 'with the output given');
  const timeline = (await get(`/api/runs/${id}/timeline`)).body;
  assert.equal(timeline.find((e) => e.kind === 'node_concluded').detail.conclusion, 'success');
  assert.equal((await post(`/api/runs/${id}/cancel`)).status, 200);
});

test('cancel and retry: states are enforced (409) and the actions work', async () => {
  const stuck = await post('/api/runs', { graph: stuckGraph });
  assert.equal(stuck.status, 201, stuck.text);
  const id = stuck.body.id;
  assertError(await post(`/api/runs/${id}/retry`), 409, /cannot be retried/);
  const cancelled = await post(`/api/runs/${id}/cancel`);
  assert.equal(cancelled.status, 200, cancelled.text);
  assert.equal(cancelled.body.nodes_cancelled, 1);
  const again = await post(`/api/runs/${id}/cancel`);
  assertError(again, 409, /already cancelled/);
  assert.equal(again.body.sqlstate, '55000');
  assert.equal((await get(`/api/runs/${id}`)).body.nodes[0].state, 'cancelled');
  const retried = await post(`/api/runs/${id}/retry`);
  assert.equal(retried.status, 200, retried.text);
  assert.equal(retried.body.nodes_ready, 1);
  assert.equal((await get(`/api/runs/${id}`)).body.status, 'running');
  assert.equal((await post(`/api/runs/${id}/cancel`)).status, 200);

  // A run that succeeded cannot be retried.
  const done = await post('/api/runs', { graph: quickGraph('t3') });
  await waitRun(done.body.id);
  const refused = await post(`/api/runs/${done.body.id}/retry`);
  assertError(refused, 409, /completed with success/);
  assert.match(refused.body.hint, /only a run that failed or was cancelled/);

  // Unless nodes to run again are named: those and what follows them run again.
  assertError(await post(`/api/runs/${done.body.id}/retry`, { from: 't3-b' }), 400, /"from" must be an array of node names/);
  assertError(await post(`/api/runs/${done.body.id}/retry`, { from: ['nope'] }), 404, /has no node "nope"/);
  const rerun = await post(`/api/runs/${done.body.id}/retry`, { from: ['t3-a'] });
  assert.equal(rerun.status, 200, rerun.text);
  assert.deepEqual([rerun.body.nodes_reset, rerun.body.nodes_ready], [2, 1]);
  const rerunDone = await waitRun(done.body.id);
  assert.equal(rerunDone.conclusion, 'success');
  assert.deepEqual(rerunDone.nodes.map((n) => [n.name, n.attempts.map((a) => a.conclusion)]),
    [['t3-a', ['success', 'success']], ['t3-b', ['success', 'success']]], 'both ran twice, and both successes are kept');
});

test('approval gates: listed while open, decided through the API, the workers run what follows', async () => {
  const graph = {
    nodes: [debugNode('build', { output: 'v7' }), { name: 'sign/off', runtime: 'approval', metadata: { message: 'ship v7?' } },
      debugNode('deploy')],
    edges: [{ source: 'build', destination: 'sign/off' }, { source: 'sign/off', destination: 'deploy' }],
  };
  const started = await post('/api/runs', { graph });
  assert.equal(started.status, 201, started.text);
  const id = started.body.id;
  await waitFor('the gate to open', async () => (await get('/api/gates')).body.some((g) => g.run_id === id));
  const gate = (await get('/api/gates')).body.find((g) => g.run_id === id);
  assert.equal(gate.node, 'sign/off');
  assert.deepEqual(gate.inputs, { build: 'v7' }, 'the decider sees what the build produced');
  assert.deepEqual(gate.metadata.message.values, ['ship v7?']);
  assert.ok((await get('/api/stats')).body.approval_gates_open >= 1);
  await new Promise((resolve) => setTimeout(resolve, 1000));  // two workers poll every 0.3 s: none takes it
  assert.equal((await get(`/api/runs/${id}`)).body.nodes.find((n) => n.name === 'sign/off').state, 'ready');

  assertError(await post(`/api/runs/${id}/approve`, { node: 'sign/off' }, { token: '' }), 401, /token/);
  assertError(await post(`/api/runs/${id}/approve`, {}), 400, /"node" is required/);
  assertError(await post(`/api/runs/${id}/approve`, { node: 'sign/off', reason: 'x' }), 400, /unknown field "reason"/);
  assertError(await post(`/api/runs/${id}/approve`, { node: 'deploy' }), 409, /not an approval gate/);
  assertError(await post(`/api/runs/${id}/reject`, { node: 'nope' }), 404, /has no node "nope"/);
  assertError(await post(`/api/runs/${id}/approve`, { node: 'sign/off', attempt: 2 }), 409, /is open for attempt 1, not 2/);
  assertError(await post(`/api/runs/${id}/approve`, { node: 'sign/off', attempt: 'one' }), 400, /"attempt" must be an integer/);
  const approved = await post(`/api/runs/${id}/approve`, { node: 'sign/off', output: 'go' });
  assert.equal(approved.status, 200, approved.text);
  assert.equal(approved.body.outcome, 'succeeded');
  assertError(await post(`/api/runs/${id}/approve`, { node: 'sign/off' }), 409, /is not open/);
  const run = await waitRun(id);
  assert.equal(run.conclusion, 'success', 'a worker ran deploy after the approval');
  assert.deepEqual(run.nodes.find((n) => n.name === 'deploy').inputs, { 'sign/off': 'go' });
  const decided = (await get(`/api/runs/${id}/timeline`)).body.find((e) => e.kind === 'node_decided');
  assert.equal(decided.detail.decision, 'approved');

  const rejectedRun = await post('/api/runs', { graph: { nodes: [{ name: 'gate', runtime: 'approval' }, debugNode('after')],
    edges: [{ source: 'gate', destination: 'after' }] } });
  const rejected = await post(`/api/runs/${rejectedRun.body.id}/reject`, { node: 'gate', reason: 'not today' });
  assert.equal(rejected.status, 200, rejected.text);
  assert.equal(rejected.body.run_conclusion, 'failed');
  assert.deepEqual((await get(`/api/runs/${rejectedRun.body.id}`)).body.nodes.map((n) => n.conclusion), ['fail', 'never_reached']);
});

test('an operator patches a running run: nodes after an open gate, run by the workers once it is approved', async () => {
  const started = await post('/api/runs', { graph: { nodes: [{ name: 'hold', runtime: 'approval' }] } });
  assert.equal(started.status, 201, started.text);
  const id = started.body.id;
  const patch = { nodes: [debugNode('notify')], edges: [{ source: 'hold', destination: 'notify' }] };
  assertError(await post(`/api/runs/${id}/patch`, { patch }, { token: '' }), 401, /token/);
  assertError(await post(`/api/runs/${id}/patch`, {}), 400, /"patch" is required/);
  assertError(await post(`/api/runs/${id}/patch`, { patch, why: 'x' }), 400, /unknown field "why"/);
  assertError(await post(`/api/runs/${id}/patch`, { patch: { nodes: [debugNode('hold')] } }), 400,
    /invalid patch: nodes\[0\]: the run already has a node "hold"/);
  assertError(await post(`/api/runs/${id}/patch`, { patch: [{ op: 'remove', path: '/nodes/0' }] }), 400, /op "remove" is not supported/);
  assertError(await post('/api/runs/999999999/patch', { patch }), 404, /does not exist/);
  const patched = await post(`/api/runs/${id}/patch`, { patch });
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(patched.body, { run_id: id, patch: 1, nodes: ['notify'], already_applied: false });
  const operations = await post(`/api/runs/${id}/patch`, { patch: [
    { op: 'add', path: '/nodes/-', value: debugNode('archive') }, { op: 'add', path: '/edges/-', value: { source: 'notify', destination: 'archive' } }] });
  assert.equal(operations.status, 200, operations.text);
  assert.equal(operations.body.patch, 2, 'JSON Patch operations are a patch too');
  const shown = (await get(`/api/runs/${id}`)).body;
  assert.deepEqual(shown.patches.map((p) => [p.patch, p.nodes, p.node ?? null]), [[1, ['notify'], null], [2, ['archive'], null]]);
  assert.equal((await post(`/api/runs/${id}/approve`, { node: 'hold', output: 'go' })).status, 200);
  const run = await waitRun(id);
  assert.equal(run.conclusion, 'success', 'the workers ran the added nodes');
  assert.deepEqual(run.nodes.find((n) => n.name === 'archive').inputs, { notify: run.nodes.find((n) => n.name === 'notify').output });
  assertError(await post(`/api/runs/${id}/patch`, { patch: { nodes: [debugNode('late')] } }), 409, /is completed/);
});

test("a run's logs: what its nodes printed, per node, after an id", async () => {
  const echo = (name, text) => ({ name, runtime: 'exec', metadata: { command: 'sh', args: ['-c', `echo ${text}; echo ${text}-err >&2`] } });
  const started = await post('/api/runs', { graph: { nodes: [echo('say-a', 'A'), echo('say-b', 'B')],
    edges: [{ source: 'say-a', destination: 'say-b' }] } });
  assert.equal(started.status, 201, started.text);
  const id = started.body.id;
  assert.equal((await waitRun(id)).conclusion, 'success');
  const all = (await get(`/api/runs/${id}/logs`)).body;
  assert.deepEqual(all.map((c) => c.node), all.map((c) => c.node).sort(), 'oldest first: say-a before say-b');
  assert.equal(all.filter((c) => c.node === 'say-a').map((c) => c.text).join(''), 'A\nA-err\n');
  assert.ok(all.every((c) => c.attempt === 1 && c.at), 'each chunk has its attempt and time');
  const onlyB = (await get(`/api/runs/${id}/logs?node=say-b`)).body;
  assert.equal(onlyB.map((c) => c.text).join(''), 'B\nB-err\n', 'one node\'s');
  const lastOfA = Math.max(...all.filter((c) => c.node === 'say-a').map((c) => c.id));
  assert.deepEqual((await get(`/api/runs/${id}/logs?after=${lastOfA}`)).body.map((c) => c.node), onlyB.map(() => 'say-b'),
    'what came after an id');
  assertError(await get(`/api/runs/${id}/logs?after=x`), 400, /after must be an integer/);
  assertError(await get(`/api/runs/${id}/logs?what=1`), 400, /unknown query parameter "what" \(known: node, after, limit\)/);
});

test('a start retried with its idempotency key gets the first run back; other inputs under it are a 400', async () => {
  const body = { graph: quickGraph('idem'), inputs: { batch: 7 }, idempotency_key: 'dashboard-batch-7' };
  const first = await post('/api/runs', body);
  assert.equal(first.status, 201, first.text);
  const again = await post('/api/runs', body);
  assert.equal(again.status, 201, again.text);
  assert.equal(again.body.id, first.body.id, 'the same run');
  assert.equal(sql("SELECT count(*) FROM adagio.runs WHERE idempotency_key = 'dashboard-batch-7'"), '1');
  assert.equal((await get(`/api/runs/${first.body.id}`)).body.idempotency_key, 'dashboard-batch-7', 'the run shows its key');
  const other = await post('/api/runs', { ...body, inputs: { batch: 8 } });
  assertError(other, 400, new RegExp(`idempotency key "dashboard-batch-7" already started run ${first.body.id} with a different graph or inputs`));
  assert.match(other.body.hint, /use a new key/);
  assertError(await post('/api/runs', { ...body, idempotency_key: 7 }), 400, /"idempotency_key" must be a string/);
  assertError(await post('/api/runs', { ...body, idempotency_key: '' }), 400, /idempotency_key must be 1 to 255 bytes, got 0/);
});

test('a run started with start_at waits, scheduled; the runs page and the run show its start time', async () => {
  const at = new Date(Date.now() + 3600_000).toISOString();
  const started = await post('/api/runs', { graph: quickGraph('later'), start_at: at });
  assert.equal(started.status, 201, started.text);
  const run = (await get(`/api/runs/${started.body.id}`)).body;
  assert.equal(Date.parse(run.start_at), Date.parse(at), 'the run shows its start time');
  assert.deepEqual(run.nodes.map((n) => n.state), ['scheduled', 'waiting'], 'its first node waits, scheduled');
  const listed = (await get('/api/runs?limit=500')).body.runs.find((r) => r.id === started.body.id);
  assert.equal(Date.parse(listed.start_at), Date.parse(at), 'and so does the list');
  assert.equal((await post(`/api/runs/${started.body.id}/cancel`, {})).status, 200);
  assertError(await post('/api/runs', { graph: quickGraph('later'), start_at: 12 }), 400, /"start_at" must be a timestamp/);
  assertError(await post('/api/runs', { graph: quickGraph('later'), start_at: 'tomorrow-ish' }), 400, /tomorrow-ish/);
  assertError(await post('/api/runs', { graph: quickGraph('later'), start_at: 'infinity' }), 400, /start_at must be a finite time/);
});

test('a run started with a priority keeps it; one out of range is a 400 naming it', async () => {
  const started = await post('/api/runs', { graph: quickGraph('urgent'), priority: 7, start_at: new Date(Date.now() + 3600_000).toISOString() });
  assert.equal(started.status, 201, started.text);
  assert.equal((await get(`/api/runs/${started.body.id}`)).body.priority, 7);
  assert.equal((await get('/api/runs?limit=500')).body.runs.find((r) => r.id === started.body.id).priority, 7);
  await post(`/api/runs/${started.body.id}/cancel`, {});
  assertError(await post('/api/runs', { graph: quickGraph('urgent'), priority: 1001 }), 400, /priority must be between -1000 and 1000, got 1001/);
  assertError(await post('/api/runs', { graph: quickGraph('urgent'), priority: 'high' }), 400, /"priority" must be an integer/);
});

test('runs of one concurrency key wait for each other; the run shows its key and its place', async () => {
  const first = await post('/api/runs', { graph: stuckGraph, concurrency_key: 'dashboard-key' });
  const second = await post('/api/runs', { graph: quickGraph('keyed'), concurrency_key: 'dashboard-key' });
  assert.equal(second.status, 201, second.text);
  const waiting = (await get(`/api/runs/${second.body.id}`)).body;
  assert.equal(waiting.concurrency_key, 'dashboard-key');
  assert.equal(waiting.queued_behind, 1, 'one run before it');
  assert.deepEqual(waiting.nodes.map((n) => n.state), ['scheduled', 'waiting'], 'its first node waits');
  const listed = (await get('/api/runs?limit=500')).body.runs.find((r) => r.id === second.body.id);
  assert.equal(listed.concurrency_key, 'dashboard-key');
  assert.equal(listed.queued_behind, 1, 'the list says it waits (the runs page shows it scheduled)');
  await post(`/api/runs/${first.body.id}/cancel`, {});
  assert.equal((await waitRun(second.body.id)).conclusion, 'success', 'cancelling the first lets the second run');
  assertError(await post('/api/runs', { graph: stuckGraph, concurrency_key: 5 }), 400, /"concurrency_key" must be a string/);
  assertError(await post('/api/runs', { graph: stuckGraph, concurrency_key: '' }), 400, /concurrency_key must be 1 to 255 bytes/);
  const pooled = await post('/api/runs', { graph: stuckGraph, concurrency_key: 'dashboard-pool', concurrency_limit: 3 });
  assert.equal((await get(`/api/runs/${pooled.body.id}`)).body.concurrency_limit, 3, 'a run keeps its concurrency limit');
  await post(`/api/runs/${pooled.body.id}/cancel`, {});
  assertError(await post('/api/runs', { graph: stuckGraph, concurrency_key: 'k', concurrency_limit: 0 }), 400,
    /concurrency_limit must be between 1 and 1000, got 0/);
});

// Reads a server-sent event stream until `done(events)` or the time runs out; returns the events.
async function readEvents(path, done, timeout = 10000) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  const events = [];
  try {
    const response = await fetch(`${base}${path}`, { signal: controller.signal });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type'), /^text\/event-stream/);
    const decoder = new TextDecoder();
    let text = '';
    for await (const chunk of response.body) {
      text += decoder.decode(chunk, { stream: true });
      let end;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const event = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (event) events.push({ event, data: JSON.parse(data) });
      }
      if (done(events)) break;
    }
  } catch (e) {
    if (e.name !== 'AbortError') throw e;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return events;
}

test('GET /api/live streams the runs that change, for one run or all', async () => {
  const watched = (await post('/api/runs', { graph: stuckGraph })).body.id;
  const other = (await post('/api/runs', { graph: stuckGraph })).body.id;
  const changedRun = (id) => (events) => events.some((e) => e.event === 'changed' && e.data.runs.includes(id));
  const one = readEvents(`/api/live?run=${watched}`, changedRun(watched));
  const all = readEvents('/api/live', (events) => changedRun(watched)(events) && changedRun(other)(events));
  await new Promise((resolve) => setTimeout(resolve, 500));  // both streams open
  assert.equal((await post(`/api/runs/${other}/cancel`)).status, 200);
  assert.equal((await post(`/api/runs/${watched}/cancel`)).status, 200);
  const [oneEvents, allEvents] = await Promise.all([one, all]);
  assert.ok(changedRun(watched)(oneEvents), `the run's stream said it changed: ${JSON.stringify(oneEvents)}`);
  assert.ok(oneEvents.every((e) => e.event !== 'changed' || e.data.runs.every((r) => r === watched)),
    `and nothing about other runs: ${JSON.stringify(oneEvents)}`);
  assert.ok(changedRun(other)(allEvents) && changedRun(watched)(allEvents), `the stream of all runs saw both: ${JSON.stringify(allEvents)}`);
  assertError(await get('/api/live?run=abc'), 400, /run must be an integer/);
  assertError(await get('/api/live?runs=1'), 400, /runs/);
});

test('live streams are capped (each holds a server thread), and a closed one frees its place', async () => {
  const open = [];
  let refused;
  for (let i = 0; i < 40 && !refused; i++) {
    const controller = new AbortController();
    const response = await fetch(`${base}/api/live`, { signal: controller.signal });
    if (response.status === 503) refused = await response.json();
    else open.push(controller);
  }
  assert.ok(refused, 'the 41st stream at the latest is refused');
  assert.ok(open.length <= 32, `at most 32 streams: ${open.length} were open`);
  assert.match(refused.error, /too many live streams/);
  assert.equal((await get('/api/stats')).status, 200, 'the API still answers');
  for (const controller of open) controller.abort();
  await waitFor('a stream to be accepted again', async () => {
    const controller = new AbortController();
    const response = await fetch(`${base}/api/live`, { signal: controller.signal });
    controller.abort();
    return response.status === 200;
  }, { timeout: 10000, interval: 500 });
});

test('an action rolled back by a deadlock is a 503 with its SQLSTATE and Retry-After, not a 500', async () => {
  // A trigger stands in for the other transaction: the server's own SQLSTATE, on this run only.
  sql(`CREATE FUNCTION public.inject_deadlock() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN RAISE EXCEPTION 'deadlock detected (injected)' USING ERRCODE = '40P01'; END $$`);
  sql(`CREATE TRIGGER inject_deadlock BEFORE UPDATE ON adagio.runs FOR EACH ROW
       WHEN (NEW.status = 'cancelled' AND OLD.inputs ? 'inject_deadlock') EXECUTE FUNCTION public.inject_deadlock()`);
  try {
    const started = await post('/api/runs', { graph: stuckGraph, inputs: { inject_deadlock: true } });
    assert.equal(started.status, 201, started.text);
    const refused = await post(`/api/runs/${started.body.id}/cancel`);
    assertError(refused, 503, /deadlock detected \(injected\)/);
    assert.equal(refused.body.sqlstate, '40P01');
    assert.match(refused.body.hint, /changed nothing: send it again/);
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.equal((await get(`/api/runs/${started.body.id}`)).body.status, 'running', 'nothing was changed');
    sql('DROP TRIGGER inject_deadlock ON adagio.runs');
    assert.equal((await post(`/api/runs/${started.body.id}/cancel`)).status, 200, 'sent again, it passes');
  } finally {
    sql('SET client_min_messages = warning; DROP TRIGGER IF EXISTS inject_deadlock ON adagio.runs');
    sql('DROP FUNCTION public.inject_deadlock()');
  }
});

test('actions are refused without a token or the flag, and open with --allow-actions', async () => {
  const refused = await call('POST', '/api/runs', { url: disabledBase, body: { graph: quickGraph('d') } });
  assertError(refused, 403, /actions are disabled.*--token or --allow-actions/);
  assertError(await call('POST', '/api/runs/1/cancel', { url: disabledBase, body: {} }), 403);
  assert.equal((await get('/api/stats', { url: disabledBase })).status, 200, 'reads still work');
  const open = await call('POST', '/api/runs', { url: openBase, body: { graph: stuckGraph } });
  assert.equal(open.status, 201, open.text);
  assert.equal((await call('POST', `/api/runs/${open.body.id}/cancel`, { url: openBase, body: {} })).status, 200);
});

test("an action the dashboard's database role may not take is a 403 naming the role it needs", async () => {
  const refused = await call('POST', '/api/runs', { url: process.env.DASHBOARD_READER_URL, body: { graph: quickGraph('r') } });
  assertError(refused, 403, /permission denied for function start_run/);
  assert.equal(refused.body.sqlstate, '42501');
  assert.match(refused.body.hint, /adagio_operator/);
  assert.equal((await get('/api/stats', { url: process.env.DASHBOARD_READER_URL })).status, 200, 'reads work');
});

test('runs: filters are validated, pages are disjoint and complete', async () => {
  const ids = [];
  for (let i = 0; i < 7; i++) {
    const r = await post('/api/runs', { graph: stuckGraph });
    assert.equal(r.status, 201);
    ids.push(r.body.id);
  }
  const all = (await get('/api/runs?limit=500')).body;
  assert.equal(all.total, all.runs.length);
  const pages = [];
  for (let offset = 0; offset < all.total; offset += 3) {
    const page = await get(`/api/runs?limit=3&offset=${offset}`);
    assert.equal(page.status, 200);
    assert.equal(page.body.total, all.total);
    assert.equal(page.body.limit, 3);
    assert.equal(page.body.offset, offset);
    assert.ok(page.body.runs.length <= 3);
    pages.push(...page.body.runs.map((r) => r.id));
  }
  assert.deepEqual(pages, all.runs.map((r) => r.id), 'pages concatenate to the whole list, newest first');
  assert.equal(new Set(pages).size, pages.length, 'no run on two pages');
  for (const id of ids) assert.ok(pages.includes(id));
  const created = all.runs.map((r) => Date.parse(r.created_at));
  assert.deepEqual([...created].sort((x, y) => y - x), created, 'newest first');
  assert.equal((await get(`/api/runs?limit=3&offset=${all.total}`)).body.runs.length, 0);

  const running = (await get('/api/runs?status=running&limit=500')).body;
  for (const id of ids) assert.ok(running.runs.some((r) => r.id === id));
  assert.ok(running.runs.every((r) => r.status === 'running'));
  await post(`/api/runs/${ids[0]}/cancel`);
  const cancelled = (await get('/api/runs?status=cancelled&limit=500')).body.runs;
  assert.ok(cancelled.some((r) => r.id === ids[0]));
  assert.ok(cancelled.every((r) => r.status === 'cancelled'));
  const succeeded = (await get('/api/runs?conclusion=success&limit=500')).body.runs;
  assert.ok(succeeded.length > 0 && succeeded.every((r) => r.conclusion === 'success'));

  const future = new Date(Date.now() + 3600e3).toISOString();
  assert.equal((await get(`/api/runs?since=${encodeURIComponent(future)}`)).body.total, 0);
  assert.equal((await get(`/api/runs?until=${encodeURIComponent(future)}`)).body.total, all.total);
  assert.equal((await get('/api/runs?since=2000-01-01')).body.total, all.total);

  assertError(await get('/api/runs?status=finished'), 400, /status must be one of running, completed, cancelled/);
  assertError(await get('/api/runs?conclusion=fail'), 400, /conclusion must be one of success, failed/);
  for (const limit of ['0', '501', '-3', 'ten', '1.5', '99999999999999999999'])
    assertError(await get(`/api/runs?limit=${limit}`), 400, /limit must be an integer from 1 to 500/);
  assertError(await get('/api/runs?offset=-1'), 400, /offset must be an integer/);
  assertError(await get('/api/runs?since=yesterday'), 400, /since must be an ISO 8601 timestamp/);
  assertError(await get('/api/runs?since=2026-13-45'), 400, /since|date|range/);
  assertError(await get("/api/runs?until=2026-01-01'--"), 400, /until must be an ISO 8601 timestamp/);
  assertError(await get('/api/runs?sort=id'), 400, /unknown query parameter "sort"/);
  assertError(await get('/api/runs?status=waiting&status=running'), 400, /more than once/);
  for (const id of ids.slice(1)) await post(`/api/runs/${id}/cancel`);
});

test('metrics: runs and nodes by state, claims, completions, queue wait, agents', async () => {
  const r = await get('/metrics');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  const value = (series) => {
    const line = r.text.split('\n').find((l) => l.startsWith(`${series} `));
    assert.ok(line, `${series} missing from /metrics`);
    return Number(line.slice(series.length + 1));
  };
  const stats = (await get('/api/stats')).body;
  assert.equal(value('adagio_runs{status="completed",conclusion="success"}'), stats.runs.succeeded);
  assert.equal(value('adagio_runs{status="cancelled",conclusion=""}'), stats.runs.cancelled);
  assert.equal(value('adagio_nodes{state="completed",conclusion="success"}'), stats.node_conclusions.success);
  assert.equal(value('adagio_agents{status="active"}'), 2);
  // Claims handed to workers: not the engine's own (gates decided, timers ended; they have no agent).
  const workerClaims = Number(sql('SELECT (SELECT count(*) FROM adagio.attempts WHERE agent_id IS NOT NULL)'
    + " + (SELECT count(*) FROM adagio.nodes WHERE state = 'running' AND claimed_by IS NOT NULL)"));
  assert.equal(value('adagio_claims_total'), workerClaims);
  assert.ok(workerClaims < Number(sql('SELECT count(*) FROM adagio.attempts')) + stats.nodes.running,
    'the engine\'s own attempts are left out');
  assert.equal(value('adagio_attempts_finished_total{conclusion="success"}'), Number(sql("SELECT count(*) FROM adagio.attempts WHERE conclusion = 'success'")));
  assert.equal(value('adagio_orphaned_claims_total'), 0);
  // Attempts that waited for a worker: the engine's own (approval gates, timers; no agent) waited for none.
  const waited = Number(sql('SELECT count(*) FROM adagio.attempts WHERE ready_at IS NOT NULL AND agent_id IS NOT NULL'));
  assert.ok(waited > 0);
  assert.ok(Number(sql('SELECT count(*) FROM adagio.attempts WHERE agent_id IS NULL')) > 0, 'the approval test decided gates');
  assert.equal(value('adagio_queue_wait_seconds_count'), waited);
  assert.equal(value('adagio_queue_wait_seconds_bucket{le="+Inf"}'), waited);
  assert.ok(value('adagio_queue_wait_seconds_bucket{le="0.005"}') <= value('adagio_queue_wait_seconds_bucket{le="1800"}'));
  assert.ok(value('adagio_queue_wait_seconds_sum') >= 0);
  assert.match(r.text, /# TYPE adagio_queue_wait_seconds histogram/);
});

test('a loopback dashboard answers only to a local Host (DNS rebinding)', async () => {
  const withHost = (host) => new Promise((resolve, reject) => {
    const req = http.get(`${base}/api/stats`, { headers: { Host: host } }, (res) => {
      let text = '';
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(text), text }));
    });
    req.on('error', reject);
  });
  assertError(await withHost('evil.example:8080'), 403, /answers only to a local Host/);
  assertError(await withHost('127.0.0.1.evil.example'), 403, /local Host/);
  for (const host of ['localhost:9999', '127.0.0.1', '[::1]:8080']) assert.equal((await withHost(host)).status, 200, host);
});

test('without a database every data call is a 503, not a crash', async () => {
  const url = process.env.DASHBOARD_NODB_URL;
  assertError(await get('/api/stats', { url }), 503, /database unavailable/);
  assertError(await get('/api/runs/1', { url }), 503, /database unavailable/);
  assertError(await get('/metrics', { url }), 503, /database unavailable/);
  assertError(await get('/api/runs/abc', { url }), 400, /run id/);  // validation needs no database
  assert.equal((await get('/api/config', { url })).status, 200);
  assert.equal((await get('/', { url })).status, 200, 'the UI is still served');
});

// Last: it restarts the server under everyone's feet.
test('after a database restart the next read works (dead pooled connections are replaced)', async () => {
  for (let i = 0; i < 6; i++) assert.equal((await get('/api/stats')).status, 200);  // fill the pool
  const as = (process.env.ADAGIO_SERVER_AS ?? '').split(' ').filter(Boolean);
  const sandbox = process.env.ADAGIO_SANDBOX_DIR;
  const pgCtl = [`${process.env.ADAGIO_PG_BIN}/pg_ctl`, '-D', `${sandbox}/data`, '-l', `${sandbox}/server.log`, '-w', '-t', '60', '-m', 'fast', 'restart'];
  const [cmd, ...args] = as.length ? [...as, ...pgCtl] : pgCtl;
  execFileSync(cmd, args, { stdio: 'ignore' });
  for (let i = 0; i < 6; i++) {
    const r = await get('/api/stats');
    assert.equal(r.status, 200, r.text);
  }
  // The workers reconnect too: a run completes (the browser tests need them).
  const started = await post('/api/runs', { graph: quickGraph('after-restart') });
  assert.equal(started.status, 201, started.text);
  assert.equal((await waitRun(started.body.id, 30000)).conclusion, 'success');
});

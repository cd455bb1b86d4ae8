// Browser tests in headless Chromium (Debian's, driven by playwright-core) against the dashboard
// with real workers. Screenshots go to $ADAGIO_ARTIFACTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { base, get, post, token, waitFor } from './lib.mjs';

const artifacts = process.env.ADAGIO_ARTIFACTS;
let browser;
let page;
const pageErrors = [];

// A CI-like pipeline whose nodes end in every colour: success, fail, error after a retry (with a
// backoff long enough to see the node "retrying"), never reached.
const pipeline = {
  nodes: [
    { name: 'checkout', runtime: 'debug', metadata: { sleep: '1500ms', output: 'rev 4f2a9c1' } },
    { name: 'build', runtime: 'debug', metadata: { sleep: '2s', output: 'built 12 targets' } },
    { name: 'unit-tests', runtime: 'debug', metadata: { sleep: '1500ms', output: '214 passed' } },
    { name: 'integration-tests', runtime: 'debug', metadata: { sleep: '300ms', conclusion: 'error', output: 'connection reset' },
      retry: { error: { max_attempts: 2, backoff: { initial_delay_seconds: 2 } } } },
    { name: 'lint-docs', runtime: 'debug', metadata: { sleep: '1s', conclusion: 'fail', output: '3 broken links' } },
    { name: 'publish', runtime: 'exec', metadata: { command: 'sh', args: ['-c', 'echo published'] } },
  ],
  edges: [
    { source: 'checkout', destination: 'build' },
    { source: 'checkout', destination: 'lint-docs' },
    { source: 'build', destination: 'unit-tests' },
    { source: 'build', destination: 'integration-tests' },
    { source: 'unit-tests', destination: 'publish' },
    { source: 'integration-tests', destination: 'publish' },
  ],
};

const node = (name) => page.locator(`g.dag-node[data-node="${name}"]`);
const fillOf = (name) => node(name).locator('rect.box').evaluate((el) => getComputedStyle(el).fill);
const green = 'rgb(34, 197, 94)', blue = 'rgb(59, 130, 246)', white = 'rgb(255, 255, 255)', red = 'rgb(239, 68, 68)';
const orange = 'rgb(249, 115, 22)', yellow = 'rgb(250, 204, 21)', grey = 'rgb(229, 231, 235)';

async function waitStatus(name, status, timeout = 20000) {
  await page.waitForSelector(`g.dag-node[data-node="${name}"][data-status="${status}"]`, { timeout });
}
async function shot(name) {
  await page.screenshot({ path: `${artifacts}/${name}.png` });
}

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.ADAGIO_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  // The start test's invalid graph is answered 400 on purpose; any other console error is a bug.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 400/.test(m.text())) pageErrors.push(m.text());
  });
});

after(async () => {
  await browser?.close();
});

test('home page shows live counts', async () => {
  const done = await post('/api/runs', { graph: { nodes: [{ name: 'warm-up', runtime: 'debug', metadata: {} }] } });
  assert.equal(done.status, 201);
  await page.goto(`${base}/`);
  await page.waitForSelector('[data-card="runs"] [data-stat="succeeded"]');
  const agents = page.locator('[data-card="agents"] [data-stat="active"] .stat-value');
  assert.equal(await agents.textContent(), '2');
  // Counts follow the database without a reload.
  const stats = (await get('/api/stats')).body;
  await page.waitForFunction((n) => document.querySelector('[data-card="runs"] h2 small')?.textContent === `${n} in all`,
    stats.runs.total, { timeout: 5000 });
  const before = Number(await page.locator('[data-card="runs"] [data-stat="running"] .stat-value').textContent());
  await post('/api/runs', { graph: { nodes: [{ name: 'unclaimable', runtime: 'nobody-serves-this' }] } });
  await page.waitForFunction((n) => document.querySelector('[data-card="runs"] [data-stat="running"] .stat-value')?.textContent === String(n),
    before + 1, { timeout: 5000 });
  assert.ok(await page.locator('.runs-table tbody tr').count() >= 2, 'latest runs listed');
  await shot('home');
});

let runId;
test('start a run from the UI (graph JSON, validated and previewed)', async () => {
  await page.goto(`${base}/#/start`);
  await page.fill('#token', token);
  await page.fill('#graph-json', '{"nodes": [');
  await page.click('#validate-graph');
  await page.waitForSelector('.error:has-text("not valid JSON")');
  await page.fill('#graph-json', JSON.stringify({ nodes: [{ name: 'a', runtime: 'debug' }], edges: [{ source: 'a', destination: 'zz' }] }));
  await page.click('#validate-graph');
  await page.waitForSelector('.error:has-text("invalid graph")');
  await page.fill('#graph-json', JSON.stringify(pipeline, null, 2));
  await page.fill('#run-inputs', '{"branch": "main"}');
  await page.click('#validate-graph');
  await page.waitForSelector('#start-json g.dag-node[data-node="publish"]');
  await shot('start');
  await page.click('#start-graph');
  await page.waitForURL(/#\/runs\/\d+$/);
  runId = Number(page.url().match(/#\/runs\/(\d+)$/)[1]);
  const run = (await get(`/api/runs/${runId}`)).body;
  assert.deepEqual(run.inputs, { branch: 'main' });
  assert.equal(run.nodes.length, 6);
});

test('the run page colours nodes as real workers execute the run', async () => {
  await page.waitForSelector('g.dag-node[data-node="checkout"]');
  assert.equal(await page.locator('g.dag-node').count(), 6);
  assert.equal(await page.locator('path.dag-edge').count(), 6);
  await waitStatus('checkout', 'running', 10000);
  assert.equal(await fillOf('checkout'), blue);
  assert.equal(await fillOf('publish'), white, 'a waiting node is white');
  await shot('run-running');
  await waitStatus('checkout', 'success');
  await page.waitForFunction(() => getComputedStyle(document.querySelector('g.dag-node[data-node="checkout"] rect')).fill === 'rgb(34, 197, 94)');
  assert.equal(await fillOf('checkout'), green, 'the same node turned green without a reload');
  await waitStatus('integration-tests', 'retrying');
  await page.waitForTimeout(400);  // the colour transition
  assert.equal(await fillOf('integration-tests'), yellow);
  await shot('run-retrying');
  await page.waitForSelector('.page-head .badge.look-failed', { timeout: 20000 });
  await waitStatus('integration-tests', 'error');
  await waitStatus('lint-docs', 'fail');
  await waitStatus('unit-tests', 'success');
  await waitStatus('publish', 'never_reached');
  await page.waitForTimeout(1500);  // the colour transition, and a few more polls
  assert.equal(await page.locator('.page-head .badge').count(), 1, 'one status badge, however many polls');
  assert.equal(await fillOf('integration-tests'), orange);
  assert.equal(await fillOf('lint-docs'), red);
  assert.equal(await fillOf('publish'), grey);
  assert.ok(await page.locator('.timeline tr[data-kind="run_completed"]').count() === 1, 'timeline shows the end');
  assert.ok(await page.locator('.timeline tr[data-kind="node_retried"]').count() >= 1, 'timeline shows the retry');
  await shot('run-finished');
});

test("a node's panel shows its spec, inputs and every attempt", async () => {
  await node('integration-tests').click();
  const panel = page.locator('[data-node-panel="integration-tests"]');
  await panel.waitFor();
  assert.equal(await panel.locator('li.attempt').count(), 2);
  for (const attempt of ['1', '2']) {
    const item = panel.locator(`li.attempt[data-attempt="${attempt}"]`);
    assert.match(await item.locator('.badge').textContent(), /error/);
    assert.match(await item.locator('pre.output').textContent(), /connection reset/);
    assert.match(await item.textContent(), /worker-[ab]/);
    assert.match(await item.locator('.attempt-times').textContent(), /queued .+ran .+/);
  }
  assert.match(await panel.locator('details:has(summary:text("Inputs")) pre').textContent(), /built 12 targets/);
  await panel.locator('summary:text("Spec")').click();
  assert.match(await panel.locator('details:has(summary:text("Spec")) pre').textContent(), /"max_attempts": 2/);
  assert.match(page.url(), /node=integration-tests/);
  assert.match(await panel.locator('table.metadata').textContent(), /conclusionerror.*sleep300ms/s);
  await shot('node-attempts');
  // The timeline's node names open their panels too.
  await page.locator('.timeline button[data-node-link="lint-docs"]').first().click();
  await page.locator('[data-node-panel="lint-docs"]').waitFor();
  assert.match(await page.locator('[data-node-panel="lint-docs"] li.attempt').textContent(), /fail.*3 broken links/s);
  await node('integration-tests').click();
  await panel.waitFor();
  // The picture in docs/dashboard.md: the graph and the node panel.
  await panel.locator('summary:text("Spec")').click();
  await page.screenshot({ path: `${artifacts}/dashboard-run.png`, clip: { x: 0, y: 0, width: 1440, height: 600 } });
});

test('cancel and retry from the run page', async () => {
  const started = await post('/api/runs', { graph: { nodes: [
    { name: 'long-step', runtime: 'debug', metadata: { sleep: '60s' } },
    { name: 'after-it', runtime: 'debug', metadata: {} }], edges: [{ source: 'long-step', destination: 'after-it' }] } });
  await page.goto(`${base}/#/runs/${started.body.id}`);
  await waitStatus('long-step', 'running');
  await page.fill('#token', token);
  await page.click('#cancel-run');
  await waitStatus('long-step', 'cancelled');
  await waitStatus('after-it', 'cancelled');
  await page.waitForSelector('.page-head .badge.look-cancelled');
  await page.waitForSelector('#retry-run');
  await page.click('#retry-run');
  await waitStatus('long-step', 'running');
  assert.equal((await get(`/api/runs/${started.body.id}`)).body.status, 'running');
  await post(`/api/runs/${started.body.id}/cancel`);
});

test('a running node is concluded by hand from its panel, and the run goes on', async () => {
  const started = await post('/api/runs', { graph: { nodes: [
    { name: 'stuck-step', runtime: 'debug', metadata: { sleep: '60s' } },
    { name: 'then-this', runtime: 'debug', metadata: {} }], edges: [{ source: 'stuck-step', destination: 'then-this' }] } });
  await page.goto(`${base}/#/runs/${started.body.id}`);
  await waitStatus('stuck-step', 'running');
  await node('stuck-step').click();
  const panel = page.locator('[data-node-panel="stuck-step"]');
  await panel.locator('summary:text("Conclude by hand")').click();
  await page.fill('#token', token);
  await page.selectOption('#conclude-as', 'success');
  await page.fill('#conclude-output', 'done outside');
  await shot('node-conclude');
  await page.click('#conclude-node');
  await waitStatus('stuck-step', 'success');
  await waitStatus('then-this', 'success', 30000);
  const run = (await get(`/api/runs/${started.body.id}`)).body;
  assert.equal(run.nodes[0].output, 'done outside');
  assert.equal(run.nodes[1].inputs['stuck-step'], 'done outside', 'the output given went downstream');
  assert.match(await page.locator('.timeline').textContent(), /concluded success by/);
});

test('an approval gate awaits a decision, and approving it from its panel lets the run go on', async () => {
  const started = await post('/api/runs', { graph: { nodes: [
    { name: 'stage', runtime: 'debug', metadata: { output: 'staged build 9' } },
    { name: 'release-approval', runtime: 'approval', metadata: { message: 'Release build 9?' } },
    { name: 'release', runtime: 'debug', metadata: {} }],
  edges: [{ source: 'stage', destination: 'release-approval' }, { source: 'release-approval', destination: 'release' }] } });
  await page.goto(`${base}/#/runs/${started.body.id}?node=release-approval`);
  await waitStatus('release-approval', 'awaiting');
  let fill = '';
  for (let i = 0; i < 20 && fill !== 'rgb(243, 232, 255)'; i++) {  // past the fill's transition
    fill = await fillOf('release-approval');
    if (fill !== 'rgb(243, 232, 255)') await page.waitForTimeout(100);
  }
  assert.equal(fill, 'rgb(243, 232, 255)', 'an open gate has a colour of its own');
  const panel = page.locator('[data-node-panel="release-approval"]');
  await panel.locator('table.metadata td', { hasText: 'Release build 9?' }).waitFor();  // the gate's message
  await page.fill('#token', token);
  await page.fill('[data-node-panel="release-approval"] .gate-text', 'approved in the browser');
  await shot('approval-gate');
  await page.click('[data-node-panel="release-approval"] .approve-gate');
  await waitStatus('release-approval', 'success');
  await waitStatus('release', 'success');
  await page.locator('.timeline [data-kind="node_decided"]').waitFor();
  const run = (await get(`/api/runs/${started.body.id}`)).body;
  assert.deepEqual(run.nodes.find((n) => n.name === 'release').inputs, { 'release-approval': 'approved in the browser' });
});

test('the approvals page lists open gates and decides them', async () => {
  const gated = (tag) => ({ nodes: [
    { name: `${tag}-build`, runtime: 'debug', metadata: { output: `${tag} artifact` } },
    { name: `${tag}-gate`, runtime: 'approval', metadata: { message: `Ship ${tag}?` } },
    { name: `${tag}-ship`, runtime: 'debug', metadata: {} }],
  edges: [{ source: `${tag}-build`, destination: `${tag}-gate` }, { source: `${tag}-gate`, destination: `${tag}-ship` }] });
  const yes = (await post('/api/runs', { graph: gated('yes') })).body.id;
  const no = (await post('/api/runs', { graph: gated('no') })).body.id;
  await page.goto(`${base}/#/approvals`);
  const rowOf = (id, tag) => page.locator(`tr[data-gate="${id}/${tag}-gate"]`);
  await rowOf(yes, 'yes').waitFor();
  await rowOf(no, 'no').waitFor();
  assert.match(await rowOf(yes, 'yes').textContent(), /Ship yes\?/, 'the gate says what it asks');
  assert.match(await rowOf(yes, 'yes').locator('pre').textContent(), /yes artifact/, 'and shows what came before it');
  await page.fill('#token', token);
  await shot('approvals');
  await rowOf(yes, 'yes').locator('.gate-text').fill('go ahead');
  await rowOf(yes, 'yes').locator('.approve-gate').click();
  await rowOf(yes, 'yes').waitFor({ state: 'detached' });
  await rowOf(no, 'no').locator('.reject-gate').click();
  await rowOf(no, 'no').waitFor({ state: 'detached' });
  const waitConclusion = async (id) => {
    for (let i = 0; i < 100; i++) {
      const run = (await get(`/api/runs/${id}`)).body;
      if (run.status === 'completed') return run;
      await page.waitForTimeout(100);
    }
    throw new Error(`run ${id} did not finish`);
  };
  const approved = await waitConclusion(yes);
  assert.equal(approved.conclusion, 'success');
  assert.deepEqual(approved.nodes.find((n) => n.name === 'yes-ship').inputs, { 'yes-gate': 'go ahead' });
  assert.equal((await waitConclusion(no)).conclusion, 'failed', 'a rejection without retries fails the run');
  await page.locator('p.empty:has-text("No approval gate is waiting")').waitFor();
});

test('an operator adds nodes to a running run from its page; the graph marks them and a card lists the patch', async () => {
  const started = await post('/api/runs', { graph: { nodes: [{ name: 'wait-here', runtime: 'approval' }] } });
  const id = started.body.id;
  await page.goto(`${base}/#/runs/${id}`);
  await waitStatus('wait-here', 'awaiting');
  assert.equal(await page.locator('#patches').count(), 0, 'no patches card before a patch');
  await page.fill('#token', token);
  await page.click('#patch-run');
  await page.fill('#patch-json', JSON.stringify({ nodes: [{ name: 'wait-here', runtime: 'debug' }] }));
  await page.click('#apply-patch');
  await page.locator('.patch-form .error', { hasText: 'the run already has a node "wait-here"' }).waitFor();
  await page.fill('#patch-json', JSON.stringify([
    { op: 'add', path: '/nodes/-', value: { name: 'after-gate', runtime: 'debug', metadata: { output: 'done' } } },
    { op: 'add', path: '/edges/-', value: { source: 'wait-here', destination: 'after-gate' } }]));
  await page.click('#apply-patch');
  await page.waitForSelector('g.dag-node[data-node="after-gate"][data-patch="1"]');
  assert.equal(await node('after-gate').locator('.patch-mark').textContent(), '+1', 'the graph marks the added node');
  assert.equal(await page.locator('#patch-json').count(), 0, 'the form closed');
  const row = page.locator('#patches tr[data-patch="1"]');
  assert.equal(await row.locator('[data-node-link="after-gate"]').count(), 1, 'the card lists the patch and its node');
  assert.match(await row.textContent(), /an operator/);
  await shot('run-patched');
  await row.locator('[data-node-link="after-gate"]').click();
  await page.locator('[data-node-panel="after-gate"]').waitFor();
  assert.equal((await post(`/api/runs/${id}/approve`, { node: 'wait-here' })).status, 200);
  await waitStatus('after-gate', 'success');
  await page.waitForSelector('#patch-run', { state: 'detached' });
});

test("a finished run's node runs again from its panel, with the nodes after it", async () => {
  const started = await post('/api/runs', { graph: { nodes: [
    { name: 'fetch', runtime: 'debug', metadata: { output: 'data' } },
    { name: 'transform', runtime: 'debug', metadata: { output: 'shaped' } },
    { name: 'load', runtime: 'debug', metadata: {} }],
  edges: [{ source: 'fetch', destination: 'transform' }, { source: 'transform', destination: 'load' }] } });
  const id = started.body.id;
  await page.goto(`${base}/#/runs/${id}?node=transform`);
  await waitStatus('load', 'success');
  await page.waitForSelector('.page-head .badge.look-success');
  await page.fill('#token', token);
  await page.locator('[data-node-panel="transform"] #rerun-from').click();
  const run = await waitFor('transform and load to run again', async () => {
    const r = (await get(`/api/runs/${id}`)).body;
    return r.status === 'completed' && r.nodes.find((n) => n.name === 'load').attempts.length === 2 ? r : null;
  }, { timeout: 20000 });
  assert.deepEqual(run.nodes.map((n) => [n.name, n.attempts.length]), [['fetch', 1], ['transform', 2], ['load', 2]],
    'transform and load ran again, fetch did not');
  await page.locator('.timeline [data-kind="run_retried"]').waitFor();
  await page.locator('[data-node-panel="transform"] .attempt[data-attempt="2"]').waitFor();
});

test("a running node's panel streams what it prints", async () => {
  // The program prints a line, then waits for a file the test writes once the line is on the page.
  const marker = join(artifacts, `logs-go-${Date.now()}`);
  const started = await post('/api/runs', { graph: { nodes: [{ name: 'talker', runtime: 'exec', metadata: {
    command: 'sh', args: ['-c', 'echo "first line"; while [ ! -f "$1" ]; do sleep 0.05; done; echo "second line"', 'sh', marker] } }] } });
  const id = started.body.id;
  await page.goto(`${base}/#/runs/${id}?node=talker`);
  const logs = page.locator('[data-node-panel="talker"] pre.logs');
  await logs.filter({ hasText: 'first line' }).waitFor();
  assert.equal((await get(`/api/runs/${id}`)).body.nodes[0].state, 'running', 'the line shows while the node runs');
  await shot('node-logs');
  writeFileSync(marker, '');
  await logs.filter({ hasText: 'second line' }).waitFor();
  await waitStatus('talker', 'success');
  assert.equal(await logs.textContent(), 'first line\nsecond line\n', 'each line once, in order');
});

test('a timer sleeps, counting down, then the run goes on by itself', async () => {
  const started = await post('/api/runs', { graph: { nodes: [
    { name: 'before', runtime: 'debug', metadata: {} },
    { name: 'pause', runtime: 'timer', metadata: { seconds: '4' } },
    { name: 'after', runtime: 'debug', metadata: {} }],
  edges: [{ source: 'before', destination: 'pause' }, { source: 'pause', destination: 'after' }] } });
  await page.goto(`${base}/#/runs/${started.body.id}`);
  await waitStatus('pause', 'sleeping');
  assert.match(await node('pause').locator('.sub').textContent(), /^sleeping · (\d+(\.\d)? s|\d+ ms) left$/);
  await waitStatus('after', 'success', 20000);
  await waitStatus('pause', 'success');
});

test('a run started for later shows scheduled until its time, then runs', async () => {
  const graph = { nodes: [{ name: 'first', runtime: 'debug', metadata: {} }, { name: 'second', runtime: 'debug', metadata: {} }],
    edges: [{ source: 'first', destination: 'second' }] };
  const later = await post('/api/runs', { graph, start_at: new Date(Date.now() + 3600_000).toISOString() });
  await page.goto(`${base}/#/runs`);
  await page.waitForSelector(`.runs-table tr[data-run="${later.body.id}"] .badge.look-scheduled`);
  await post(`/api/runs/${later.body.id}/cancel`);

  // From the start page: "start at" is the browser's local time (Chromium and this process share a zone).
  const at = new Date(Date.now() + 5000);
  const pad = (n) => String(n).padStart(2, '0');
  const local = `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  await page.goto(`${base}/#/start`);
  await page.fill('#token', token);
  await page.fill('#graph-json', JSON.stringify(graph));
  await page.fill('#graph-start-at', local);
  await page.fill('#graph-priority', '4');
  await page.fill('#graph-concurrency-key', 'browser-key');
  await page.fill('#graph-concurrency-limit', '3');
  await page.click('#start-graph');
  await page.waitForURL(/#\/runs\/\d+$/);
  const soon = { body: { id: Number(page.url().match(/#\/runs\/(\d+)$/)[1]) } };
  assert.equal(Date.parse((await get(`/api/runs/${soon.body.id}`)).body.start_at), Math.floor(at.getTime() / 1000) * 1000,
    'the run starts at the local time given, to the second');
  assert.equal((await get(`/api/runs/${soon.body.id}`)).body.priority, 4, 'at the priority given');
  assert.equal((await get(`/api/runs/${soon.body.id}`)).body.concurrency_key, 'browser-key', 'under the key given');
  assert.equal((await get(`/api/runs/${soon.body.id}`)).body.concurrency_limit, 3, 'with the limit given');
  await waitStatus('first', 'scheduled');
  assert.match(await node('first').locator('.sub').textContent(), /^scheduled · in \d/);
  assert.ok(await page.getByText('start at', { exact: true }).isVisible(), 'the summary gives the start time');
  await shot('run-scheduled');
  await waitStatus('second', 'success', 30000);
  const run = (await get(`/api/runs/${soon.body.id}`)).body;
  assert.ok(Date.parse(run.nodes[0].claimed_at) >= Date.parse(run.start_at), 'nothing ran before its time');
});

test("a run past its graph's timeout is cancelled by the sweeper, and its page says what the timeout was", async () => {
  const started = await post('/api/runs', { graph: { nodes: [{ name: 'dawdle', runtime: 'debug', metadata: { sleep: '60s' } }],
    edges: [], timeout_seconds: 3 } });
  assert.equal(started.status, 201, started.text);
  await page.goto(`${base}/#/runs/${started.body.id}`);
  await waitStatus('dawdle', 'running');
  assert.ok(await page.getByText('timeout', { exact: true }).isVisible(), 'the summary gives the timeout');
  const timeout = page.locator('.field', { has: page.locator('.field-label', { hasText: /^timeout$/ }) }).locator('.field-value');
  assert.match(await timeout.textContent(), /^3\.0 s \(until /, 'and, while the run goes, its deadline');
  await page.waitForSelector('.page-head .badge.look-cancelled', { timeout: 30000 });
  await waitStatus('dawdle', 'cancelled');
  const run = (await get(`/api/runs/${started.body.id}`)).body;
  assert.equal(run.nodes[0].attempts[0].reason, 'cancelled: the run exceeded its timeout of 3 s');
});

test('a large graph is laid out without overlaps and stays responsive', async () => {
  // 10 layers of 12 nodes, each node fed by two of the layer before: 120 nodes, 216 edges.
  const nodes = [], edges = [];
  for (let layer = 0; layer < 10; layer++) {
    for (let i = 0; i < 12; i++) {
      nodes.push({ name: `step-${layer}-${i}`, runtime: 'nobody-serves-this' });
      if (layer > 0) for (const j of new Set([i, (i * 7 + 3) % 12])) edges.push({ source: `step-${layer - 1}-${j}`, destination: `step-${layer}-${i}` });
    }
  }
  const started = await post('/api/runs', { graph: { nodes, edges } });
  assert.equal(started.status, 201, started.text);
  const t0 = Date.now();
  await page.goto(`${base}/#/runs/${started.body.id}`);
  await page.waitForFunction(() => document.querySelectorAll('g.dag-node').length === 120, null, { timeout: 10000 });
  assert.ok(Date.now() - t0 < 5000, `rendered in ${Date.now() - t0} ms`);
  assert.equal(await page.locator('path.dag-edge').count(), edges.length);
  const boxes = await page.locator('g.dag-node rect.box').evaluateAll((rects) => rects.map((r) => r.getBoundingClientRect().toJSON()));
  for (let a = 0; a < boxes.length; a++) {
    for (let b = a + 1; b < boxes.length; b++) {
      const p = boxes[a], q = boxes[b];
      const overlap = p.left < q.right - 1 && q.left < p.right - 1 && p.top < q.bottom - 1 && q.top < p.bottom - 1;
      assert.ok(!overlap, `nodes ${a} and ${b} overlap`);
    }
  }
  assert.ok(boxes[0].height >= 20, `nodes stay readable (height ${boxes[0].height}px)`);
  // Every node can be scrolled to: none is left of the graph box, where scrolling cannot reach.
  const graphLeft = await page.locator('.graph-card .graph').evaluate((el) => el.getBoundingClientRect().left);
  assert.ok(boxes.every((b) => b.left >= graphLeft), 'no node out of reach on the left');
  await shot('run-large');
  await post(`/api/runs/${started.body.id}/cancel`);
});

test('runs table filters and pages', async () => {
  await page.goto(`${base}/#/runs?conclusion=failed`);
  await page.waitForSelector(`.runs-table tr[data-run="${runId}"]`);
  const statuses = await page.locator('.runs-table tbody .badge').allTextContents();
  assert.ok(statuses.length > 0 && statuses.every((s) => s === 'failed'), `only failed runs: ${statuses}`);
  await shot('runs-failed');
  await page.goto(`${base}/#/runs`);
  await page.selectOption('#filter-limit', '20');
  const total = (await get('/api/runs')).body.total;
  assert.ok(total > 0);
  await page.waitForSelector('.pager .range');
  assert.equal(await page.locator('.pager .range').textContent(), `1–${Math.min(20, total)} of ${total}`);
  await page.selectOption('#filter-status', 'cancelled');
  await page.waitForURL(/status=cancelled/);
  await page.waitForFunction(() => [...document.querySelectorAll('.runs-table tbody .badge')].every((b) => b.textContent === 'cancelled'));
  await page.locator('.runs-table tbody tr').first().click();
  await page.waitForURL(/#\/runs\/\d+$/);
  await page.waitForSelector('g.dag-node');
});

// Slow refreshes (a large database's counts) space out the next ones: after two refreshes of a
// second each, a page waits 5 x 1 s instead of its usual 2 s.
test('slow refreshes make the page refresh less often', async () => {
  const slow = await browser.newPage();
  const asked = [];
  await slow.route('**/api/live', (route) => route.abort());  // polling alone: its cadence is under test
  await slow.route('**/api/stats', async (route) => {
    asked.push(Date.now());
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await route.continue();
  });
  await slow.goto(`${base}/`);
  while (asked.length < 3) await new Promise((resolve) => setTimeout(resolve, 100));
  await slow.close();
  assert.ok(asked[1] - asked[0] < 5000, `one slow refresh is no reason to wait: ${asked[1] - asked[0]} ms`);
  const gap = asked[2] - asked[1];
  assert.ok(gap >= 5500, `the third refresh came ${gap} ms after the second`);
});

test('a run page refreshes when its live stream says the run changed, and polls slowly meanwhile', async () => {
  const stuck = await post('/api/runs', { graph: { nodes: [{ name: 'nobody', runtime: 'no-such-runtime' }] } });
  assert.equal(stuck.status, 201, stuck.text);
  const id = stuck.body.id;
  const live = await browser.newPage();
  const reads = [];  // when the page read the run
  live.on('request', (r) => { if (new URL(r.url()).pathname === `/api/runs/${id}`) reads.push(Date.now()); });
  const streamed = live.waitForRequest((r) => r.url().endsWith(`/api/live?run=${id}`));
  await live.goto(`${base}/#/runs/${id}`);
  await streamed;
  await live.waitForSelector('.page-head .badge');
  while (reads.length < 3) await new Promise((resolve) => setTimeout(resolve, 100));
  const gap = reads[2] - reads[1];
  assert.ok(gap >= 4000, `with the stream open the page polls every 5 s, not every second: ${gap} ms`);
  // Right after a poll, so that the next one is seconds away: only the stream can bring the change.
  const before = reads.length;
  while (reads.length === before) await new Promise((resolve) => setTimeout(resolve, 20));
  const cancelledAt = Date.now();
  assert.equal((await post(`/api/runs/${id}/cancel`)).status, 200);
  await live.waitForSelector('.page-head .badge.look-cancelled', { timeout: 10000 });
  const shownAfter = Date.now() - cancelledAt;
  await live.close();
  assert.ok(shownAfter < 3000, `the page showed the cancellation ${shownAfter} ms after it, before its next poll`);
});

test('the overview and the runs page refresh when runs change, and poll slowly meanwhile', async () => {
  const live = await browser.newPage();
  for (const path of ['/', '/#/runs']) {
    const streamed = live.waitForRequest((r) => new URL(r.url()).pathname === '/api/live');
    await live.goto(`${base}${path}`);
    await streamed;
    // Set by the read the stream's opening asked for: the next poll is 10 s away from here, so
    // only the stream can bring the run sooner.
    await live.waitForFunction(() => document.querySelector('#cadence')?.textContent === 'updates as runs change');
    const started = await post('/api/runs', { graph: { nodes: [{ name: 'nobody', runtime: 'no-such-runtime' }] } });
    const startedAt = Date.now();
    await live.waitForSelector(`.runs-table tr[data-run="${started.body.id}"]`, { timeout: 15000 });
    const shownAfter = Date.now() - startedAt;
    assert.ok(shownAfter < 5000, `${path} showed the new run ${shownAfter} ms after it started, before its next poll`);
    await post(`/api/runs/${started.body.id}/cancel`);
  }
  await live.close();
});

test('agents page lists the workers', async () => {
  await page.goto(`${base}/#/agents`);
  await page.waitForSelector('tr[data-agent="worker-a"]');
  assert.equal(await page.locator('.agents-table tbody tr').count(), 2);
  assert.match(await page.locator('tr[data-agent="worker-b"]').textContent(), /active.*debug.*exec/s);
  await shot('agents');
  assert.deepEqual(pageErrors, [], 'no errors in the browser console');
});

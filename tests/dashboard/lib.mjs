// Shared helpers of the dashboard tests: HTTP calls, psql, waiting for runs.
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';

export const base = process.env.DASHBOARD_URL;
export const openBase = process.env.DASHBOARD_OPEN_URL;
export const disabledBase = process.env.DASHBOARD_DISABLED_URL;
export const token = process.env.DASHBOARD_TOKEN;
if (!base || !openBase || !disabledBase || !token) throw new Error('run these tests through tests/dashboard/run');

// call(method, path, {body, token, headers, rawBody, url}) -> {status, body, headers}
export async function call(method, path, options = {}) {
  const headers = { ...(options.headers ?? {}) };
  let body;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined && !headers['Content-Type']) headers['Content-Type'] = 'application/json';
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const response = await fetch(`${options.url ?? base}${path}`, { method, headers, body });
  const text = await response.text();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: response.status, body: json, text, headers: response.headers };
}

export const get = (path, options) => call('GET', path, options);
export const post = (path, body, options = {}) => call('POST', path, { token, body: body ?? {}, ...options });

// An error response: the status, a JSON body with a message, and nothing from SQL's own wording.
export function assertError(response, status, messagePart) {
  assert.equal(response.status, status, `expected ${status}, got ${response.status}: ${response.text}`);
  assert.equal(typeof response.body?.error, 'string', `no error message in ${response.text}`);
  assert.equal(response.body.status, status);
  if (messagePart) assert.match(response.body.error, messagePart);
  assert.doesNotMatch(response.text, /ERROR:|LINE \d|SELECT |pqxx|json\.exception/, 'raw SQL error text leaked');
}

export function sql(query) {
  return execFileSync('psql', ['-X', '-At', '-v', 'ON_ERROR_STOP=1', '-c', query], { encoding: 'utf8' }).trim();
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(what, predicate, { timeout = 30000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await predicate();
    if (last) return last;
    await sleep(interval);
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
}

export async function waitRun(id, timeout = 30000) {
  return waitFor(`run ${id} to finish`, async () => {
    const r = await get(`/api/runs/${id}`);
    return r.body.status === 'completed' || r.body.status === 'cancelled' ? r.body : null;
  }, { timeout });
}

export const debugNode = (name, metadata = {}, extra = {}) => ({ name, runtime: 'debug', metadata, ...extra });

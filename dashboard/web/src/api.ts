// A thin typed client of the dashboard's JSON API (/api/openapi.json).

export type RunStatus = 'running' | 'completed' | 'cancelled';
export type NodeState = 'waiting' | 'ready' | 'scheduled' | 'running' | 'completed' | 'cancelled';

export interface Attempt {
  attempt: number;
  conclusion: 'success' | 'fail' | 'error';
  output: string | null;
  reason: string | null;
  agent_id: number | null;
  agent?: string | null;
  ready_at?: string | null;
  started_at: string;
  finished_at: string;
}

export interface RunNode {
  name: string;
  runtime: string;
  state: NodeState;
  conclusion: 'success' | 'fail' | 'error' | 'never_reached' | null;
  retrying: boolean;  // another attempt to come after one of this try failed (inspect_run)
  spec?: unknown;
  metadata: unknown;
  retry: unknown;
  inputs: Record<string, string>;
  output: string | null;
  attempt_count: number;
  agent?: string | null;
  claimed_at?: string | null;
  ready_at: string | null;
  finished_at: string | null;
  lease_expires_at: string | null;
  attempts: Attempt[];
}

export interface Edge { source: string; destination: string }

export interface Run {
  id: number;
  workflow: string | null;
  workflow_version: number | null;
  status: RunStatus;
  conclusion: 'success' | 'failed' | null;
  inputs: Record<string, unknown>;
  idempotency_key?: string | null;
  start_at?: string | null;
  priority?: number;
  concurrency_key?: string | null;
  concurrency_limit?: number | null;
  queued_behind?: number;   // runs of its key that must end before it may start
  timeout_seconds?: number | null;  // the graph's run timeout: the sweep cancels the run after it
  deadline_at?: string | null;      // when, until the sweep has passed it
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  nodes: RunNode[];
  edges: Edge[];
  patches?: RunPatch[];
}

// A patch that added nodes to the run while it ran (adagio.patch_run(), patch_run_from_node()).
export interface RunPatch {
  patch: number;          // 1 for the run's first
  nodes: string[];        // the names it added
  node?: string;          // the node whose function sent it (absent: an operator's)
  agent_id?: number;
  by: string;             // the login that applied it
  at: string;
}

// A chunk of what a node printed while it ran (adagio.logs()).
export interface LogChunk { id: number; node: string; attempt: number; at: string; text: string }

export interface RunSummary {
  id: number;
  workflow: string | null;
  workflow_version: number | null;
  status: RunStatus;
  conclusion: 'success' | 'failed' | null;
  nodes: number;
  nodes_done: number;
  nodes_failed: number;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  created_by: string;
  start_at: string | null;  // started for later: its first nodes wait until then
  priority: number;         // higher runs first
  concurrency_key: string | null;
  concurrency_limit: number | null;
  queued_behind: number;    // runs of its key that must end before it may start
}

export interface RunPage { total: number; limit: number; offset: number; runs: RunSummary[] }

export interface TimelineEvent {
  id: number;
  node: string | null;
  kind: string;
  agent_id: number | null;
  agent: string | null;
  attempt: number | null;
  detail: Record<string, unknown> | null;
  at: string;
}

export interface Agent {
  id: number;
  name: string;
  runtimes: string[];
  status: 'active' | 'stopped' | 'gone';
  registered_at: string;
  last_seen_at: string;
  running: number;
  info: Record<string, unknown>;
}

export interface Workflow {
  name: string;
  latest_version: number;
  versions: number;
  nodes: number;
  created_at: string;
  updated_at: string;
  runs: number;
}

export interface Stats {
  runs: Record<'total' | 'running' | 'completed' | 'cancelled' | 'succeeded' | 'failed', number>;
  nodes: Record<'total' | NodeState, number>;
  node_conclusions: Record<'success' | 'fail' | 'error' | 'never_reached', number>;
  retrying: number;
  ready_first: number;
  approval_gates_open: number;  // approval gates waiting for a decision (not in ready_first)
  timers_running: number;  // timer nodes waiting for their time (not in ready_first)
  agents: { active: number; total: number };
}

export interface Config { actions: 'disabled' | 'open' | 'token'; version: string }

// An approval gate waiting for a decision (adagio.open_gates).
export interface OpenGate {
  run_id: number;
  node: string;
  workflow_name: string | null;
  opened_at: string;
  deadline: string | null;
  attempt: number;
  metadata: unknown;
  inputs: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const tokenKey = 'adagio.dashboard.token';
export const token = {
  get: (): string => localStorage.getItem(tokenKey) ?? '',
  set: (value: string) => (value ? localStorage.setItem(tokenKey, value) : localStorage.removeItem(tokenKey)),
};

// Reports whether the API answered, for the connection light in the top bar.
let onHealth: (ok: boolean, message?: string) => void = () => {};
export function watchHealth(callback: (ok: boolean, message?: string) => void) {
  onHealth = callback;
}

async function request<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method === 'POST') {
    headers['Content-Type'] = 'application/json';
    if (token.get()) headers['Authorization'] = `Bearer ${token.get()}`;
  }
  let response: Response;
  try {
    response = await fetch(`./api/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    onHealth(false, 'dashboard unreachable');
    throw new ApiError(0, 'the dashboard server is unreachable');
  }
  const payload = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  onHealth(response.status !== 503, response.status === 503 ? payload.error : undefined);
  if (!response.ok) {
    const hint = payload.hint ? ` (${payload.hint})` : '';
    throw new ApiError(response.status, `${payload.error ?? `HTTP ${response.status}`}${hint}`);
  }
  return payload as T;
}

function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

// When and in which order a run goes; an option left out takes the server's default.
export interface StartOptions {
  startAt?: string;  // an ISO 8601 time for the run's first nodes to wait for (default: at once)
  priority?: number;  // higher runs first (default 0)
  concurrencyKey?: string;  // runs of the key go concurrencyLimit at a time (default: no key)
  concurrencyLimit?: number;  // with a key (default 1)
}

function scheduling(o: StartOptions): Record<string, unknown> {
  return {
    ...(o.startAt ? { start_at: o.startAt } : {}),
    ...(o.priority !== undefined ? { priority: o.priority } : {}),
    ...(o.concurrencyKey ? { concurrency_key: o.concurrencyKey } : {}),
    ...(o.concurrencyKey && o.concurrencyLimit !== undefined ? { concurrency_limit: o.concurrencyLimit } : {}),
  };
}

export const api = {
  config: () => request<Config>('GET', 'config'),
  stats: () => request<Stats>('GET', 'stats'),
  runs: (filters: Record<string, string | number | undefined>) => request<RunPage>('GET', `runs${query(filters)}`),
  run: (id: number) => request<Run>('GET', `runs/${id}`),
  timeline: (id: number) => request<TimelineEvent[]>('GET', `runs/${id}/timeline`),
  logs: (id: number, node: string, after: number) =>
    request<LogChunk[]>('GET', `runs/${id}/logs${query({ node, after })}`),
  agents: () => request<Agent[]>('GET', 'agents'),
  workflows: () => request<Workflow[]>('GET', 'workflows'),
  workflow: (name: string, version?: number) =>
    request<{ name: string; version: number; graph: unknown }>('GET', `workflows/${encodeURIComponent(name)}${query({ version })}`),
  validate: (graph: unknown) => request<{ graph: unknown }>('POST', 'validate', { graph }),
  startGraph: (graph: unknown, inputs: unknown, options: StartOptions = {}) =>
    request<{ id: number }>('POST', 'runs', { graph, inputs, ...scheduling(options) }),
  startWorkflow: (workflow: string, inputs: unknown, version?: number, options: StartOptions = {}) =>
    request<{ id: number }>('POST', 'runs', { workflow, inputs, ...(version ? { version } : {}), ...scheduling(options) }),
  cancel: (id: number) => request<Record<string, number>>('POST', `runs/${id}/cancel`, {}),
  // from: nodes to run again although they succeeded, with everything downstream of them.
  retry: (id: number, from: string[] = []) =>
    request<Record<string, number>>('POST', `runs/${id}/retry`, from.length ? { from } : {}),
  // Nodes, and edges that end at them, added to a running run (a GraphPatch or JSON Patch operations).
  patch: (id: number, patch: unknown) =>
    request<{ run_id: number; patch: number; nodes: string[]; already_applied: boolean }>('POST', `runs/${id}/patch`, { patch }),
  // A node concluded by hand, as its function would have; its retry policy applies.
  conclude: (id: number, node: string, conclusion: 'success' | 'fail' | 'error', output?: string) =>
    request<Record<string, unknown>>('POST', `runs/${id}/conclude`, { node, conclusion, ...(output ? { output } : {}) }),
  gates: () => request<OpenGate[]>('GET', 'gates'),
  // An approval gate's decision; text: the output passed downstream (approve) or the reason (reject);
  // attempt: the one the page showed open (refused if the gate was decided and opened again since).
  decide: (id: number, node: string, approve: boolean, attempt: number, text?: string) =>
    request<Record<string, unknown>>('POST', `runs/${id}/${approve ? 'approve' : 'reject'}`,
      { node, attempt, ...(text ? { [approve ? 'output' : 'reason']: text } : {}) }),
};

// Start a run: from a GraphSpec written as JSON (validated and previewed as a graph first) or from
// a stored workflow.
import { api, token, type Config, type RunNode, type StartOptions, type Workflow } from '../api';
import { clear, errorBox, h } from '../dom';
import { DagView } from '../dag';
import type { Page } from '../main';

const example = {
  nodes: [
    { name: 'fetch', runtime: 'debug', metadata: { sleep: '2s', output: 'fetched 42 rows' } },
    { name: 'transform', runtime: 'debug', metadata: { sleep: '2s' } },
    { name: 'report', runtime: 'debug', metadata: { sleep: '1s' } },
    { name: 'archive', runtime: 'exec', metadata: { command: 'sh', args: ['-c', 'echo archived'] } },
  ],
  edges: [
    { source: 'fetch', destination: 'transform' },
    { source: 'transform', destination: 'report' },
    { source: 'fetch', destination: 'archive' },
  ],
};

// The token for state-changing calls, kept in this browser's localStorage.
export function tokenField(): HTMLElement {
  const input = h('input', { type: 'password', id: 'token', placeholder: 'dashboard token', value: token.get(), autocomplete: 'off', size: 16 });
  input.addEventListener('change', () => token.set(input.value.trim()));
  input.addEventListener('input', () => token.set(input.value.trim()));
  return h('label', { class: 'token' }, 'token ', input);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${(e as Error).message}`);
  }
}

// When and in which order the run goes: "start at" in the browser's local time, sent as UTC
// (empty: at once), its priority (empty: the default, 0), its concurrency key (empty: none) and
// the key's limit (empty: 1). The HTML placeholders show those defaults.
interface Scheduling {
  row: HTMLElement;
  options: () => StartOptions;
}
function schedulingFields(prefix: string): Scheduling {
  const at = h('input', { type: 'datetime-local', id: `${prefix}-start-at`, step: 1 }) as HTMLInputElement;
  const priority = h('input', { type: 'number', id: `${prefix}-priority`, min: -1000, max: 1000, step: 1, placeholder: '0', size: 6 }) as HTMLInputElement;
  const key = h('input', { type: 'text', id: `${prefix}-concurrency-key`, placeholder: 'none', size: 14 }) as HTMLInputElement;
  const limit = h('input', { type: 'number', id: `${prefix}-concurrency-limit`, min: 1, max: 1000, step: 1, placeholder: '1', size: 5 }) as HTMLInputElement;
  const startAt = () => {
    if (!at.value) return undefined;
    const time = new Date(at.value);
    if (isNaN(time.getTime())) throw new Error(`Start at: "${at.value}" is not a time.`);
    return time.toISOString();
  };
  return {
    row: h('div', { class: 'row' },
      h('label', {}, 'Start at (optional; your local time) ', at),
      h('label', { title: 'higher runs first' }, 'priority ', priority),
      h('label', { title: 'runs of one key run at most its limit at a time, in the order started' }, 'concurrency key ', key),
      h('label', { title: 'with a key: how many of its runs may go at a time' }, 'limit ', limit)),
    options: () => ({
      startAt: startAt(),
      priority: priority.value === '' ? undefined : Number(priority.value),
      concurrencyKey: key.value.trim() || undefined,
      concurrencyLimit: limit.value === '' ? undefined : Number(limit.value),
    }),
  };
}

function previewNodes(graph: { nodes?: { name: string; runtime: string }[] }): RunNode[] {
  return (graph.nodes ?? []).map((n) => ({
    name: n.name, runtime: n.runtime, state: 'waiting', conclusion: null, metadata: {}, retry: null, inputs: {},
    output: null, attempt_count: 0, retrying: false, ready_at: null, finished_at: null, lease_expires_at: null, attempts: [],
  }));
}

export const startPage: Page = (root, params, config: Config) => {
  const message = h('div', {});
  const notice = config.actions === 'disabled'
    ? errorBox('Starting runs is disabled: start the dashboard with --token or --allow-actions.')
    : config.actions === 'token' ? h('p', { class: 'muted' }, 'Starting a run needs the dashboard token: ', tokenField()) : null;

  // --- from JSON ---
  const graphText = h('textarea', { id: 'graph-json', class: 'json', rows: 18, spellcheck: 'false' });
  graphText.value = JSON.stringify(example, null, 2);
  const inputsText = h('textarea', { id: 'run-inputs', class: 'json', rows: 3, spellcheck: 'false' });
  inputsText.value = '{}';
  const graphWhen = schedulingFields('graph');
  const preview = new DagView(() => {});
  const previewNote = h('p', { class: 'muted small' }, 'Validate to preview the graph.');

  async function validate(): Promise<unknown> {
    clear(message);
    const graph = parseJson(graphText.value, 'The graph');
    const { graph: canonical } = await api.validate(graph);
    preview.update(previewNodes(canonical as { nodes: { name: string; runtime: string }[] }), (canonical as { edges?: { source: string; destination: string }[] }).edges ?? []);
    previewNote.textContent = 'The graph is valid.';
    return graph;
  }
  const fail = (e: unknown) => { clear(message); message.appendChild(errorBox((e as Error).message)); };

  const fromJson = h('form', { class: 'card start-form', id: 'start-json', onsubmit: (async (ev: Event) => {
    ev.preventDefault();
    try {
      const graph = await validate();
      const inputs = parseJson(inputsText.value || '{}', 'The inputs');
      const { id } = await api.startGraph(graph, inputs, graphWhen.options());
      location.hash = `#/runs/${id}`;
    } catch (e) { fail(e); }
  }) as EventListener },
    h('h2', {}, 'From a graph (JSON)'),
    h('p', { class: 'muted small' }, 'A GraphSpec: nodes with name, runtime, metadata and optional retry; edges from source to destination. See docs/sql-api.md.'),
    h('div', { class: 'two-cols' },
      h('div', {}, h('label', { for: 'graph-json' }, 'Graph'), graphText,
        h('label', { for: 'run-inputs' }, 'Run inputs (a JSON object)'), inputsText, graphWhen.row),
      h('div', { class: 'preview' }, h('label', {}, 'Preview'), previewNote, h('div', { class: 'graph' }, preview.element))),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', id: 'validate-graph', onclick: (() => validate().catch(fail)) as EventListener }, 'Validate'),
      h('button', { type: 'submit', class: 'primary', id: 'start-graph', disabled: config.actions === 'disabled' }, 'Start run')));

  // --- from a stored workflow ---
  const workflowSelect = h('select', { id: 'workflow-name' }, h('option', { value: '' }, 'Loading…'));
  const versionInput = h('input', { id: 'workflow-version', type: 'number', min: 1, placeholder: 'newest', size: 6 });
  const wfInputs = h('textarea', { id: 'workflow-inputs', class: 'json', rows: 3, spellcheck: 'false' });
  wfInputs.value = '{}';
  const workflowWhen = schedulingFields('workflow');
  const wfPreview = new DagView(() => {});
  const showWorkflow = async () => {
    if (!workflowSelect.value) return;
    try {
      const wf = await api.workflow(workflowSelect.value, versionInput.value ? Number(versionInput.value) : undefined);
      const g = wf.graph as { nodes: { name: string; runtime: string }[]; edges?: { source: string; destination: string }[] };
      wfPreview.update(previewNodes(g), g.edges ?? []);
    } catch (e) { fail(e); }
  };
  workflowSelect.addEventListener('change', showWorkflow);
  versionInput.addEventListener('change', showWorkflow);
  const fromWorkflow = h('form', { class: 'card start-form', id: 'start-workflow', onsubmit: (async (ev: Event) => {
    ev.preventDefault();
    clear(message);
    try {
      if (!workflowSelect.value) throw new Error('Choose a workflow.');
      const inputs = parseJson(wfInputs.value || '{}', 'The inputs');
      const { id } = await api.startWorkflow(workflowSelect.value, inputs, versionInput.value ? Number(versionInput.value) : undefined,
        workflowWhen.options());
      location.hash = `#/runs/${id}`;
    } catch (e) { fail(e); }
  }) as EventListener },
    h('h2', {}, 'From a stored workflow'),
    h('div', { class: 'two-cols' },
      h('div', {},
        h('div', { class: 'row' }, h('label', {}, 'Workflow ', workflowSelect), h('label', {}, 'version ', versionInput)),
        h('label', { for: 'workflow-inputs' }, 'Run inputs (a JSON object)'), wfInputs, workflowWhen.row),
      h('div', { class: 'preview' }, h('div', { class: 'graph' }, wfPreview.element))),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', id: 'start-stored', disabled: config.actions === 'disabled' }, 'Start run')));

  root.append(h('div', { class: 'page-head' }, h('h1', {}, 'Start a run')), notice ?? '', message,
    params.get('from') === 'workflow' ? fromWorkflow : fromJson, params.get('from') === 'workflow' ? fromJson : fromWorkflow);

  api.workflows().then((list: Workflow[]) => {
    clear(workflowSelect);
    if (list.length === 0) {
      workflowSelect.appendChild(h('option', { value: '' }, 'no stored workflows (define one with define_workflow)'));
      return;
    }
    for (const w of list) workflowSelect.appendChild(h('option', { value: w.name }, `${w.name} (v${w.latest_version}, ${w.nodes} nodes, ${w.runs} runs)`));
    void showWorkflow();
  }).catch(fail);
};

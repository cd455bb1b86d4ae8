// One run: its graph coloured by node status (live while it executes), the selected node's spec,
// inputs and attempts, and the run's timeline.
import { api, ApiError, type Config, type Run, type RunNode, type RunPatch, type TimelineEvent } from '../api';
import { between, clear, errorBox, fmtDuration, fmtTime, h, poll, pretty } from '../dom';
import { DagView } from '../dag';
import { watchRun, type LiveStream } from '../live';
import { badge, legend, nodeLook, nodeLookLabel, runLook } from '../status';
import { gateDecision } from '../gate';
import { tokenField } from './start';
import type { Page } from '../main';

function field(label: string, value: Node | string): HTMLElement {
  return h('div', { class: 'field' }, h('span', { class: 'field-label' }, label), h('span', { class: 'field-value' }, value));
}

function codeBlock(value: unknown, empty = 'none'): HTMLElement {
  const isEmpty = value === null || value === undefined || (typeof value === 'object' && Object.keys(value as object).length === 0);
  return isEmpty ? h('p', { class: 'muted small' }, empty) : h('pre', { class: 'code' }, pretty(value));
}

// Metadata is stored canonically ({"key": {"values": [...]}}); show it as key = values.
function metadataTable(metadata: unknown): HTMLElement | null {
  if (!metadata || typeof metadata !== 'object' || Object.keys(metadata).length === 0) return null;
  const rows = Object.entries(metadata as Record<string, unknown>).map(([key, value]) => {
    const values = (value as { values?: unknown[] })?.values;
    const text = Array.isArray(values) ? values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(' ') : JSON.stringify(value);
    return h('tr', {}, h('th', {}, key), h('td', {}, text));
  });
  return h('table', { class: 'metadata' }, h('tbody', {}, ...rows));
}

// decision: the approve/reject form of an open approval gate (null if not one, or actions are off);
// rerun: the button that runs the node again with what follows it, once the run finished; or,
// while it runs, the form that concludes the node by hand (null when neither applies).
// logs: the node's log, kept by the page and grown as chunks arrive (null: none yet).
function nodePanel(node: RunNode, decision: HTMLElement | null, rerun: HTMLElement | null, logs: HTMLElement): HTMLElement {
  const look = nodeLook(node);
  const attempts = [...node.attempts].reverse();
  const details = (title: string, content: HTMLElement, open = false) =>
    h('details', { open }, h('summary', {}, title), content);
  return h('div', { class: 'node-panel', 'data-node-panel': node.name },
    h('div', { class: 'panel-head' }, h('h2', {}, node.name), badge(look, nodeLookLabel(look))),
    h('div', { class: 'fields' },
      field('runtime', node.runtime),
      field('state', `${node.state}${node.conclusion ? ` (${node.conclusion})` : ''}`),
      field('attempts', String(node.attempt_count)),
      node.agent ? field('claimed by', node.agent) : null,
      node.state === 'running' && node.lease_expires_at ? field('lease until', fmtTime(node.lease_expires_at)) : null,
      node.state === 'scheduled' && node.ready_at
        ? field(look === 'retrying' ? 'next attempt' : 'starts at', fmtTime(node.ready_at)) : null,
      node.state === 'scheduled' && !node.ready_at ? field('starts', 'when the runs of its concurrency key before it end') : null,
      node.finished_at ? field('finished', fmtTime(node.finished_at)) : null) as HTMLElement,
    metadataTable(node.metadata),
    decision,
    rerun,
    h('h3', {}, `Attempts (${node.attempts.length})`),
    attempts.length === 0
      ? h('p', { class: 'muted small' }, node.state === 'running' ? 'The first attempt is running.' : 'No attempt yet.')
      : h('ol', { class: 'attempts', reversed: true },
          ...attempts.map((a) => h('li', { class: 'attempt', 'data-attempt': a.attempt },
            h('div', { class: 'attempt-head' },
              h('strong', {}, `#${a.attempt}`), badge(a.conclusion, a.conclusion),
              h('span', { class: 'muted small' }, a.agent ?? (a.agent_id ? `agent ${a.agent_id}` : ''))),
            h('div', { class: 'attempt-times small' },
              h('span', { title: 'from ready to claimed' }, `queued ${fmtDuration(between(a.ready_at ?? null, a.started_at))}`),
              h('span', { title: `${a.started_at} → ${a.finished_at}` }, `ran ${fmtDuration(between(a.started_at, a.finished_at))}`),
              h('span', {}, `${fmtTime(a.started_at)} → ${fmtTime(a.finished_at)}`)),
            a.reason ? h('div', { class: 'reason' }, a.reason) : null,
            a.output !== null && a.output !== '' ? h('pre', { class: 'code output' }, a.output) : h('p', { class: 'muted small' }, 'no output')))),
    details('Logs', logs, node.state === 'running' || logs.dataset.filled === 'yes'),
    node.output !== null ? details('Output', h('pre', { class: 'code output' }, node.output), true) : null,
    details('Inputs', codeBlock(node.inputs, 'no inputs from upstream nodes'), Object.keys(node.inputs ?? {}).length > 0),
    details('Spec', codeBlock(node.spec ?? { name: node.name, runtime: node.runtime, metadata: node.metadata, retry: node.retry })));
}

const eventText: Record<string, (e: TimelineEvent) => string> = {
  run_started: () => 'run started',
  node_ready: () => 'ready',
  node_claimed: (e) => `claimed by ${e.agent ?? `agent ${e.agent_id}`} (attempt ${e.attempt})`,
  attempt_finished: (e) => `attempt ${e.attempt} finished: ${String(e.detail?.conclusion ?? '')}`,
  node_retried: (e) => `will retry${e.detail?.delay_seconds ? ` in ${fmtDuration(Number(e.detail.delay_seconds))}` : ''}`,
  node_orphaned: (e) => `orphaned: ${e.agent ?? 'its agent'} missed the lease`,
  node_never_reached: () => 'never reached (an upstream node failed)',
  run_completed: (e) => `run completed: ${String(e.detail?.conclusion ?? '')}`,
  run_cancelled: (e) => e.detail?.timeout_seconds
    ? `run cancelled: it exceeded its timeout of ${fmtDuration(Number(e.detail.timeout_seconds))}`
    : `run cancelled${e.detail?.by ? ` by ${String(e.detail.by)}` : ''}`,
  run_retried: (e) => `run retried${e.detail?.by ? ` by ${String(e.detail.by)}` : ''}`,
  node_decided: (e) => `${String(e.detail?.decision ?? 'decided')} by ${String(e.detail?.by ?? 'someone')}`,
  node_concluded: (e) => `concluded ${String(e.detail?.conclusion ?? '')} by ${String(e.detail?.by ?? 'someone')}`,
  run_patched: (e) => `patch ${String(e.detail?.patch ?? '')} added ${
    Array.isArray(e.detail?.nodes) ? (e.detail.nodes as unknown[]).map(String).join(', ') : 'nodes'}${
    e.node ? ` (sent by node ${e.node})` : ''} by ${String(e.detail?.by ?? 'someone')}`,
};

// The patches that added nodes to the run while it ran, first first.
function patchesTable(patches: RunPatch[], onNode: (name: string) => void): HTMLElement {
  const nodeLink = (name: string) =>
    h('button', { type: 'button', class: 'linklike', 'data-node-link': name, onclick: (() => onNode(name)) as EventListener }, name);
  const links = (names: string[]) => h('span', { class: 'node-links' }, ...names.flatMap((n, i) => (i ? [', ', nodeLink(n)] : [nodeLink(n)])));
  return h('table', { class: 'table patches' },
    h('thead', {}, h('tr', {}, ...['#', 'added', 'sent by', 'applied by', 'at'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...patches.map((p) => h('tr', { 'data-patch': p.patch },
      h('td', { class: 'num' }, String(p.patch)),
      h('td', {}, links(p.nodes)),
      h('td', {}, p.node ? h('span', {}, 'node ', nodeLink(p.node)) : h('span', { class: 'muted' }, 'an operator')),
      h('td', {}, p.by),
      h('td', { class: 'muted' }, fmtTime(p.at))))));
}

function timelineTable(events: TimelineEvent[], onNode: (name: string) => void): HTMLElement {
  if (events.length === 0) return h('p', { class: 'muted' }, 'No events yet.');
  const start = new Date(events[0].at).getTime();
  return h('table', { class: 'table timeline' },
    h('thead', {}, h('tr', {}, ...['+time', 'at', 'node', 'event', 'detail'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...events.map((e) => h('tr', { 'data-kind': e.kind },
      h('td', { class: 'num' }, fmtDuration((new Date(e.at).getTime() - start) / 1000)),
      h('td', { class: 'muted' }, fmtTime(e.at)),
      h('td', {}, e.node ? h('button', { type: 'button', class: 'linklike', 'data-node-link': e.node, onclick: (() => onNode(e.node as string)) as EventListener }, e.node) : h('span', { class: 'muted' }, 'run')),
      h('td', {}, h('span', { class: `kind kind-${e.kind}` }, (eventText[e.kind] ?? (() => e.kind))(e))),
      h('td', { class: 'muted small detail' }, e.detail ? JSON.stringify(e.detail) : '')))));
}

export const runPage: Page = (root, params, config: Config) => {
  const id = Number(params.get('id'));
  if (!Number.isSafeInteger(id) || id <= 0) {
    root.appendChild(errorBox(`"${params.get('id')}" is not a run id.`));
    return;
  }
  let selected: string | null = params.get('node');
  let run: Run | null = null;
  const dag = new DagView((name) => selectNode(name));

  const title = h('h1', {}, `Run #${id}`);
  const runBadge = h('span', {});
  const summary = h('div', { class: 'run-summary' });
  const actions = h('div', { class: 'actions' });
  const actionError = h('div', {});
  const panel = h('aside', { class: 'side' });
  const timeline = h('div', {});
  const patchesBox = h('div', {});
  const patchForm = h('div', {});
  const problem = h('div', {});
  const graphBox = h('div', { class: 'graph' }, dag.element);

  root.append(
    h('div', { class: 'page-head' }, h('a', { href: '#/runs', class: 'back' }, '← Runs'), title, runBadge, h('span', { class: 'spacer' }), actions),
    actionError, patchForm, problem, summary,
    h('div', { class: 'run-layout' },
      h('section', { class: 'card graph-card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Graph'), legend()), graphBox),
      panel),
    patchesBox,
    h('section', { class: 'card' }, h('h2', {}, 'Timeline'), timeline));

  function selectNode(name: string) {
    selected = name;
    dag.select(name);
    // Keep the choice in the URL without re-routing, so a reload reopens the node.
    history.replaceState(null, '', `#/runs/${id}?node=${encodeURIComponent(name)}`);
    renderPanel();
    nodeLogs.refresh().catch(() => undefined);  // the next refresh shows any error
  }

  // Re-rendered only when what it shows changed: a re-render would close <details> the user
  // opened and lose a text selection every second.
  let panelKey = '';
  function renderPanel() {
    const node = run?.nodes.find((n) => n.name === selected);
    const key = node ? `${run?.status}|${JSON.stringify(node)}` : `run:${JSON.stringify(run?.inputs ?? null)}`;
    if (key === panelKey) return;
    panelKey = key;
    clear(panel);
    if (node) {
      panel.appendChild(h('section', { class: 'card' },
        nodePanel(node, decisionForm(node), rerunButton(node) ?? concluding.view(node), nodeLogs.view(node.name))));
    } else if (run) {
      panel.appendChild(h('section', { class: 'card' },
        h('h2', {}, 'Run inputs'), codeBlock(run.inputs, 'no inputs'),
        h('p', { class: 'muted small hint' }, 'Click a node to see its spec, inputs and attempts.')));
    }
  }

  async function act(kind: 'cancel' | 'retry', from: string[] = []) {
    clear(actionError);
    try {
      await (kind === 'cancel' ? api.cancel(id) : api.retry(id, from));
      await refresh();
    } catch (e) {
      actionError.appendChild(errorBox((e as Error).message));
    }
  }

  // An operator's patch: JSON typed in, applied by the engine, which names what is wrong with it.
  function togglePatchForm() {
    if (patchForm.childElementCount > 0) { clear(patchForm); return; }
    const example = { nodes: [{ name: 'notify', runtime: 'exec', metadata: { command: './notify.sh' } }],
      edges: [{ source: run?.nodes[run.nodes.length - 1]?.name ?? 'a-node', destination: 'notify' }] };
    const text = h('textarea', { id: 'patch-json', class: 'json', rows: 8, spellcheck: 'false' });
    text.value = JSON.stringify(example, null, 2);
    const error = h('div', {});
    const apply = async () => {
      clear(error);
      let patch: unknown;
      try {
        patch = JSON.parse(text.value);
      } catch (e) {
        error.appendChild(errorBox(`Not JSON: ${(e as Error).message}`));
        return;
      }
      try {
        await api.patch(id, patch);
        clear(patchForm);
        await refresh();
      } catch (e) {
        error.appendChild(errorBox((e as Error).message));
      }
    };
    patchForm.appendChild(h('section', { class: 'card start-form patch-form' },
      h('h2', {}, 'Add nodes to this run'),
      h('p', { class: 'muted small' },
        'A patch: nodes, and edges that end at them (from nodes of the run or of the patch), as {"nodes": [...], "edges": [...]} ',
        'or as JSON Patch operations ("add" at /nodes/- and /edges/-). Nothing the run has changes.'),
      text, error,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'primary', id: 'apply-patch', onclick: apply as EventListener }, 'Apply patch'),
        h('button', { type: 'button', onclick: (() => clear(patchForm)) as EventListener }, 'Close'))));
  }

  // The selected node's log: fetched from where the page left off on every refresh, appended to
  // one element that survives the panel's re-renders (and keeps its scroll position).
  const nodeLogs = {
    node: '' as string,
    last: 0,
    attempt: 0,
    element: h('pre', { class: 'code logs', 'data-logs': '' }),
    view(name: string): HTMLElement {
      if (name !== this.node) {
        this.node = name;
        this.last = 0;
        this.attempt = 0;
        this.element = h('pre', { class: 'code logs', 'data-logs': name });
        this.element.appendChild(h('span', { class: 'muted' }, 'nothing printed yet'));
      }
      return this.element;
    },
    async refresh() {
      if (!this.node) return;
      const name = this.node;
      const chunks = await api.logs(id, name, this.last);
      if (name !== this.node || chunks.length === 0 || chunks[chunks.length - 1].id <= this.last) return;
      if (this.last === 0) clear(this.element);
      this.element.dataset.filled = 'yes';  // the panel keeps a log that has text open
      const follow = this.element.scrollTop + this.element.clientHeight >= this.element.scrollHeight - 4;
      for (const c of chunks) {
        if (c.id <= this.last) continue;  // two refreshes in flight at once fetched it twice
        // A node run again (a retry) logs each attempt after the last: say where one begins.
        if (this.attempt !== 0 && c.attempt !== this.attempt) {
          const text = this.element.textContent ?? '';
          this.element.appendChild(h('span', { class: 'muted' }, `${text.endsWith('\n') ? '' : '\n'}— attempt ${c.attempt} —\n`));
        }
        this.attempt = c.attempt;
        this.element.appendChild(document.createTextNode(c.text));
      }
      this.last = chunks[chunks.length - 1].id;
      if (follow) this.element.scrollTop = this.element.scrollHeight;
    },
  };

  // Once the run has finished: this node and everything downstream of it run again, the nodes
  // before it keeping their outputs.
  function rerunButton(node: RunNode): HTMLElement | null {
    if (!run || run.status === 'running' || config.actions === 'disabled' || node.conclusion !== 'success') return null;
    return h('div', { class: 'rerun' },
      h('button', { type: 'button', id: 'rerun-from', onclick: (() => act('retry', [node.name])) as EventListener },
        'Run again from here'),
      h('p', { class: 'muted small' }, 'Runs this node and every node after it again; the nodes before it keep their outputs.'));
  }

  // While the run goes: a node that is ready, waits out a backoff or runs may be concluded by
  // hand, as its function would have. The form outlives the panel's re-renders (a running node's
  // lease moves at every heartbeat), so what was typed into it stays.
  const concluding = {
    node: '',
    element: h('div', {}) as HTMLElement,
    view(node: RunNode): HTMLElement | null {
      const open = run?.status === 'running' && config.actions !== 'disabled' && node.runtime !== 'approval' &&
        (node.state === 'ready' || node.state === 'running' || (node.state === 'scheduled' && !!node.ready_at));
      if (!open) { this.node = ''; return null; }
      if (node.name === this.node) return this.element;
      this.node = node.name;
      const conclusion = h('select', { id: 'conclude-as' },
        h('option', { value: 'success' }, 'success'), h('option', { value: 'fail' }, 'fail'), h('option', { value: 'error' }, 'error'));
      const output = h('input', { type: 'text', id: 'conclude-output', placeholder: 'output (optional; with success, passed downstream)' });
      const error = h('div', {});
      const name = node.name;
      const send = async () => {
        clear(error);
        try {
          await api.conclude(id, name, conclusion.value as 'success' | 'fail' | 'error', output.value || undefined);
          this.node = '';
          await refresh();
        } catch (e) {
          error.appendChild(errorBox((e as Error).message));
        }
      };
      this.element = h('details', { class: 'conclude' },
        h('summary', {}, 'Conclude by hand'),
        h('p', { class: 'muted small' },
          'Ends this attempt as its function would have (a running worker loses it). Its retry policy applies: ',
          'success passes the output downstream; fail or error run it again while the policy allows.'),
        h('div', { class: 'actions' }, conclusion, output,
          h('button', { type: 'button', id: 'conclude-node', onclick: send as EventListener }, 'Conclude')),
        error);
      return this.element;
    },
  };

  // An open gate's decision, for the attempt this panel shows open.
  function decisionForm(node: RunNode): HTMLElement | null {
    if (nodeLook(node) !== 'awaiting' || config.actions === 'disabled') return null;
    return h('div', {}, h('h3', {}, 'Decision'),
      gateDecision(id, node.name, node.attempt_count + 1, refresh, 'output if approved, reason if rejected (optional)'));
  }

  function renderSummary(r: Run) {
    title.textContent = `Run #${r.id}${r.workflow ? ` · ${r.workflow} v${r.workflow_version}` : ''}`;
    const done = r.nodes.filter((n) => n.state === 'completed' || n.state === 'cancelled').length;
    const running = r.nodes.filter((n) => n.state === 'running').length;
    clear(summary);
    summary.append(
      field('created', fmtTime(r.created_at)),
      field('started', fmtTime(r.started_at)),
      field('finished', fmtTime(r.finished_at)),
      field('duration', r.started_at ? fmtDuration(between(r.started_at, r.finished_at)) : '—'),
      field('nodes', `${done}/${r.nodes.length} done${running ? `, ${running} running` : ''}`));
    if (r.idempotency_key) summary.append(field('idempotency key', r.idempotency_key));
    if (r.start_at) summary.append(field('start at', fmtTime(r.start_at)));
    if (r.priority) summary.append(field('priority', String(r.priority)));
    if (r.timeout_seconds) {
      summary.append(field('timeout', fmtDuration(r.timeout_seconds) +
        (r.deadline_at && r.status === 'running' ? ` (until ${fmtTime(r.deadline_at)})` : '')));
    }
    if (r.concurrency_key) {
      const behind = r.queued_behind ?? 0;
      const limit = (r.concurrency_limit ?? 1) > 1 ? `, ${r.concurrency_limit} at a time` : '';
      summary.append(field('concurrency key',
        `${r.concurrency_key}${limit}${behind > 0 ? ` (waiting for ${behind} run${behind === 1 ? '' : 's'} to end)` : ''}`));
    }
  }

  function renderActions(r: Run) {
    clear(runBadge);
    runBadge.appendChild(badge(runLook(r)));
    clear(actions);
    if (config.actions === 'disabled') {
      actions.appendChild(h('span', { class: 'muted small', title: 'start the dashboard with --token or --allow-actions' }, 'actions disabled'));
      return;
    }
    const active = r.status === 'running';
    const retryable = r.status === 'cancelled' || r.conclusion === 'failed';
    if (config.actions === 'token') actions.appendChild(tokenField());
    if (active) actions.appendChild(h('button', { id: 'patch-run', onclick: togglePatchForm as EventListener }, 'Add nodes'));
    else clear(patchForm);
    if (active) actions.appendChild(h('button', { class: 'danger', id: 'cancel-run', onclick: (() => act('cancel')) as EventListener }, 'Cancel run'));
    if (retryable) actions.appendChild(h('button', { class: 'primary', id: 'retry-run', onclick: (() => act('retry')) as EventListener }, 'Retry failed nodes'));
  }

  // Shown once a run has patches; re-rendered only when they change.
  let patchesKey = '';
  function renderPatches(patches: RunPatch[]) {
    const key = JSON.stringify(patches);
    if (key === patchesKey) return;
    patchesKey = key;
    clear(patchesBox);
    if (patches.length === 0) return;
    patchesBox.appendChild(h('section', { class: 'card', id: 'patches' },
      h('h2', {}, `Patches (${patches.length})`),
      h('p', { class: 'muted small' }, 'Nodes added while the run ran; the graph marks them +N, N the patch.'),
      patchesTable(patches, selectNode)));
  }

  let lastShape = '';
  let lastEvent = -1;
  async function refresh() {
    try {
      const [r, events] = await Promise.all([api.run(id), api.timeline(id), nodeLogs.refresh()]);
      run = r;
      clear(problem);
      const shape = `${r.status}|${r.conclusion}|${config.actions}`;
      if (shape !== lastShape) { lastShape = shape; renderActions(r); }
      renderSummary(r);
      const patches = r.patches ?? [];
      dag.update(r.nodes, r.edges, new Map(patches.flatMap((p) => p.nodes.map((n) => [n, p.patch] as [string, number]))));
      renderPatches(patches);
      dag.select(selected);
      renderPanel();
      const last = events.length ? events[events.length - 1].id : 0;
      if (last !== lastEvent || timeline.childElementCount === 0) {
        lastEvent = last;
        clear(timeline);
        timeline.appendChild(timelineTable(events, selectNode));
      }
    } catch (e) {
      clear(problem);
      problem.appendChild(errorBox(e instanceof ApiError && e.status === 404 ? `Run #${id} does not exist.` : (e as Error).message));
    }
  }

  // Refresh when the live stream says the run changed; poll as well, every second while the run
  // can change and no stream is open, else every five (a retry restarts a finished run).
  let stream: LiveStream | undefined;
  const poller = poll(refresh, () =>
    (run && (run.status === 'completed' || run.status === 'cancelled')) || stream?.open() ? 5000 : 1000);
  stream = watchRun(id, poller.kick);
  // Printing is no event, so the stream says nothing of it: while the selected node runs, its log
  // is read every second (the workers send it about as often).
  const logPoller = window.setInterval(() => {
    if (run?.nodes.find((n) => n.name === selected)?.state === 'running') nodeLogs.refresh().catch(() => undefined);
  }, 1000);
  return () => {
    stream?.close();
    poller();
    window.clearInterval(logPoller);
  };
};

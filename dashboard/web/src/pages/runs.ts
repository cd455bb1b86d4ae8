// Runs: a filtered, paged table. The filters live in the URL (#/runs?status=...&offset=...), so a
// filtered view can be bookmarked and the back button works.
import { api, type RunSummary } from '../api';
import { ago, between, clear, errorBox, fmtDuration, fmtTime, h, poll } from '../dom';
import { watchAllRuns, type LiveStream } from '../live';
import { badge, runLook } from '../status';
import type { Page } from '../main';

const pageSizes = [20, 50, 100];

export function progress(run: RunSummary): HTMLElement {
  const pct = run.nodes ? Math.round((100 * run.nodes_done) / run.nodes) : 0;
  return h('div', { class: 'progress', title: `${run.nodes_done} of ${run.nodes} nodes done` },
    h('div', { class: `bar look-${runLook(run)}`, style: `width:${pct}%` }),
    h('span', {}, `${run.nodes_done}/${run.nodes}`));
}

export function runsTable(runs: RunSummary[]): HTMLElement {
  return h('table', { class: 'table runs-table' },
    h('thead', {}, h('tr', {}, ...['Run', 'Workflow', 'Status', 'Progress', 'Created', 'Duration'].map((t) => h('th', {}, t)))),
    h('tbody', {}, ...runs.map((r) => {
      const row = h('tr', { class: 'clickable', 'data-run': r.id },
        h('td', {}, h('a', { href: `#/runs/${r.id}` }, `#${r.id}`)),
        h('td', {}, r.workflow ? `${r.workflow}${r.workflow_version ? ` v${r.workflow_version}` : ''}` : h('span', { class: 'muted' }, 'ad hoc graph')),
        h('td', {}, badge(runLook(r)), r.nodes_failed > 0 && r.status !== 'completed' ? h('span', { class: 'muted small' }, ` ${r.nodes_failed} failed`) : null),
        h('td', {}, progress(r)),
        h('td', { title: r.created_at }, fmtTime(r.created_at), h('div', { class: 'muted small' }, ago(r.created_at))),
        h('td', {}, r.started_at ? fmtDuration(between(r.started_at, r.finished_at)) : '—'));
      row.addEventListener('click', (ev) => {
        if ((ev.target as HTMLElement).tagName !== 'A') location.hash = `#/runs/${r.id}`;
      });
      return row;
    })));
}

// datetime-local values are local time without a zone; the API wants an absolute instant.
function toIso(local: string): string {
  return local ? new Date(local).toISOString() : '';
}
function toLocal(iso: string | null): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function select(name: string, options: [string, string][], value: string): HTMLSelectElement {
  const el = h('select', { name, id: `filter-${name}` }, ...options.map(([v, label]) => h('option', { value: v }, label)));
  el.value = value;
  return el;
}

export const runsPage: Page = (root, params) => {
  const limit = pageSizes.includes(Number(params.get('limit'))) ? Number(params.get('limit')) : 20;
  const offset = Math.max(0, Number(params.get('offset')) || 0);
  const filters = {
    status: params.get('status') ?? '',
    conclusion: params.get('conclusion') ?? '',
    workflow: params.get('workflow') ?? '',
    since: params.get('since') ?? '',
    until: params.get('until') ?? '',
  };

  const status = select('status', [['', 'any status'], ['running', 'running'], ['completed', 'completed'], ['cancelled', 'cancelled']], filters.status);
  const conclusion = select('conclusion', [['', 'any conclusion'], ['success', 'succeeded'], ['failed', 'failed']], filters.conclusion);
  const workflow = h('input', { name: 'workflow', id: 'filter-workflow', placeholder: 'workflow name', value: filters.workflow });
  const since = h('input', { type: 'datetime-local', name: 'since', id: 'filter-since', value: toLocal(filters.since) });
  const until = h('input', { type: 'datetime-local', name: 'until', id: 'filter-until', value: toLocal(filters.until) });
  const size = select('limit', pageSizes.map((n) => [String(n), `${n} per page`]), String(limit));

  const go = (overrides: Record<string, string | number> = {}) => {
    const q = new URLSearchParams();
    const values: Record<string, string | number> = {
      status: status.value, conclusion: conclusion.value, workflow: workflow.value.trim(),
      since: toIso(since.value), until: toIso(until.value), limit: size.value, offset: 0, ...overrides,
    };
    for (const [k, v] of Object.entries(values)) if (v !== '' && !(k === 'offset' && v === 0) && !(k === 'limit' && v === '20')) q.set(k, String(v));
    location.hash = `#/runs${q.toString() ? `?${q}` : ''}`;
  };
  const form = h('form', { class: 'filters', onsubmit: ((ev: Event) => { ev.preventDefault(); go(); }) as EventListener },
    status, conclusion, workflow,
    h('label', {}, 'from ', since), h('label', {}, 'to ', until), size,
    h('button', { type: 'submit', class: 'primary' }, 'Filter'),
    h('button', { type: 'button', onclick: (() => { location.hash = '#/runs'; }) as EventListener }, 'Clear'));
  for (const el of [status, conclusion, size]) el.addEventListener('change', () => go());

  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const pager = h('div', { class: 'pager' });
  const cadence = h('span', { class: 'muted', id: 'cadence' }, 'updates every 3 s');
  root.append(h('div', { class: 'page-head' }, h('h1', {}, 'Runs'), cadence), form, body, pager);

  // As on the overview: refreshed when runs change (at most once a second), polled besides.
  let stream: LiveStream | undefined;
  const poller = poll(async () => {
    cadence.textContent = stream?.open() ? 'updates as runs change' : 'updates every 3 s';
    try {
      const page = await api.runs({ ...filters, limit, offset });
      clear(body);
      body.appendChild(page.runs.length ? runsTable(page.runs) : h('p', { class: 'muted empty' }, 'No runs match these filters.'));
      clear(pager);
      const first = page.total === 0 ? 0 : offset + 1;
      pager.append(
        h('button', { id: 'prev-page', disabled: offset === 0, onclick: (() => go({ offset: Math.max(0, offset - limit) })) as EventListener }, '← Newer'),
        h('span', { class: 'range' }, `${first}–${offset + page.runs.length} of ${page.total}`),
        h('button', { id: 'next-page', disabled: offset + limit >= page.total, onclick: (() => go({ offset: offset + limit })) as EventListener }, 'Older →'));
    } catch (e) {
      clear(body);
      body.appendChild(errorBox((e as Error).message));
    }
  }, () => (stream?.open() ? 10000 : 3000));
  stream = watchAllRuns(poller.kick, 1000);
  return () => {
    stream?.close();
    poller();
  };
};

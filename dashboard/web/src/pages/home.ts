// Overview: live counts of runs, nodes and agents, and the latest runs.
import { api, type Stats } from '../api';
import { clear, errorBox, h, poll } from '../dom';
import { watchAllRuns, type LiveStream } from '../live';
import { runsTable } from './runs';
import type { Page } from '../main';

function stat(label: string, value: number, look: string, href?: string): HTMLElement {
  const body = [h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label)];
  return href
    ? h('a', { class: `stat look-${look}`, href, 'data-stat': label }, ...body)
    : h('div', { class: `stat look-${look}`, 'data-stat': label }, ...body);
}

function cards(stats: Stats): HTMLElement {
  const r = stats.runs, n = stats.nodes, c = stats.node_conclusions;
  return h('div', { class: 'cards' },
    h('section', { class: 'card', 'data-card': 'runs' },
      h('h2', {}, 'Runs ', h('small', {}, `${r.total} in all`)),
      h('div', { class: 'stats' },
        stat('running', r.running, 'running', '#/runs?status=running'),
        stat('succeeded', r.succeeded, 'success', '#/runs?conclusion=success'),
        stat('failed', r.failed, 'fail', '#/runs?conclusion=failed'),
        stat('cancelled', r.cancelled, 'cancelled', '#/runs?status=cancelled'))),
    h('section', { class: 'card', 'data-card': 'nodes' },
      h('h2', {}, 'Nodes ', h('small', {}, `${n.total} in all`)),
      h('div', { class: 'stats' },
        stat('waiting', n.waiting, 'waiting'),
        stat('ready', stats.ready_first, 'ready'),
        stat('awaiting approval', stats.approval_gates_open ?? 0, 'awaiting', '#/approvals'),
        stat('sleeping', stats.timers_running ?? 0, 'sleeping'),
        stat('running', n.running, 'running'),
        stat('retrying', stats.retrying, 'retrying'),
        stat('success', c.success, 'success'),
        stat('failed', c.fail, 'fail'),
        stat('error', c.error, 'error'),
        stat('never reached', c.never_reached, 'never_reached'),
        stat('cancelled', n.cancelled, 'cancelled'))),
    h('section', { class: 'card', 'data-card': 'agents' },
      h('h2', {}, 'Agents'),
      h('div', { class: 'stats' },
        stat('active', stats.agents.active, stats.agents.active > 0 ? 'success' : 'fail', '#/agents'),
        stat('registered', stats.agents.total, 'waiting', '#/agents'))));
}

export const homePage: Page = (root) => {
  const counts = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const recent = h('div', {});
  const cadence = h('span', { class: 'muted', id: 'cadence' }, 'updates every 2 s');
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Overview'), cadence),
    counts,
    h('div', { class: 'page-head' }, h('h2', {}, 'Latest runs'), h('a', { href: '#/runs' }, 'all runs →')),
    recent);
  // Refreshed when the live stream says runs changed (at most once a second), else every 2 s; with
  // the stream open, a poll every 10 s besides.
  let stream: LiveStream | undefined;
  const poller = poll(async () => {
    cadence.textContent = stream?.open() ? 'updates as runs change' : 'updates every 2 s';
    try {
      const [stats, page] = await Promise.all([api.stats(), api.runs({ limit: 10 })]);
      clear(counts);
      counts.appendChild(cards(stats));
      clear(recent);
      recent.appendChild(page.runs.length ? runsTable(page.runs) : h('p', { class: 'muted' }, 'No runs yet. ', h('a', { href: '#/start' }, 'Start one.')));
    } catch (e) {
      clear(counts);
      counts.appendChild(errorBox((e as Error).message));
    }
  }, () => (stream?.open() ? 10000 : 2000));
  stream = watchAllRuns(poller.kick, 1000);
  return () => {
    stream?.close();
    poller();
  };
};


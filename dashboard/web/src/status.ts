// How a node's state and conclusion show: one visual status per node, the same colours in the
// graph, the badges and the legend (the seed's: green success, red failure, white waiting).
import type { RunNode, RunSummary } from './api';
import { h } from './dom';

export type NodeLook =
  | 'waiting' | 'scheduled' | 'ready' | 'awaiting' | 'sleeping' | 'running' | 'retrying' | 'success' | 'fail' | 'error'
  | 'never_reached' | 'cancelled';

export const nodeLooks: { look: NodeLook; label: string; help: string }[] = [
  { look: 'waiting', label: 'waiting', help: 'upstream nodes have not all succeeded yet' },
  { look: 'scheduled', label: 'scheduled', help: 'waiting for the run\'s start time, or for the runs before it of its concurrency key' },
  { look: 'ready', label: 'ready', help: 'waiting for a worker to claim it' },
  { look: 'awaiting', label: 'awaiting approval', help: 'an approval gate: waiting for someone to approve or reject it' },
  { look: 'sleeping', label: 'sleeping', help: 'a timer: it succeeds once its seconds have passed' },
  { look: 'running', label: 'running', help: 'claimed by a worker' },
  { look: 'retrying', label: 'retrying', help: 'an attempt failed; another is ready or scheduled' },
  { look: 'success', label: 'success', help: 'completed successfully' },
  { look: 'fail', label: 'failed', help: 'the function reported failure' },
  { look: 'error', label: 'error', help: 'a system fault: crash, lost lease, cancelled attempt' },
  { look: 'never_reached', label: 'never reached', help: 'an upstream node failed' },
  { look: 'cancelled', label: 'cancelled', help: 'the run was cancelled' },
];

export function nodeLook(node: RunNode): NodeLook {
  switch (node.state) {
    case 'waiting': return 'waiting';
    // The engine's own ready nodes wait for no worker: an open approval gate for a person (even
    // when a rejection opened it again), a timer for its time.
    case 'ready':
      if (node.runtime === 'approval') return 'awaiting';
      if (node.runtime === 'timer') return 'sleeping';
      return node.retrying ? 'retrying' : 'ready';
    // Scheduled before any attempt: a first node of a run started for later; after one, a backoff.
    case 'scheduled': return node.retrying ? 'retrying' : 'scheduled';
    case 'running': return 'running';
    case 'cancelled': return 'cancelled';
    case 'completed': return node.conclusion ?? 'success';
  }
}

export function nodeLookLabel(look: NodeLook): string {
  return nodeLooks.find((l) => l.look === look)?.label ?? look;
}

export type RunLook = 'scheduled' | 'running' | 'success' | 'failed' | 'cancelled';
export function runLook(run: Pick<RunSummary, 'status' | 'conclusion'> & { start_at?: string | null; queued_behind?: number }): RunLook {
  if (run.status === 'completed') return run.conclusion === 'failed' ? 'failed' : 'success';
  // Still running as far as the engine goes, but nothing can start before its time, or while
  // runs of its concurrency key started before it are unfinished.
  if (run.status === 'running' && run.start_at && Date.parse(run.start_at) > Date.now()) return 'scheduled';
  if (run.status === 'running' && (run.queued_behind ?? 0) > 0) return 'scheduled';
  return run.status;
}

export function badge(look: string, text?: string): HTMLElement {
  return h('span', { class: `badge look-${look}` }, text ?? look.replace('_', ' '));
}

export function legend(): HTMLElement {
  return h('div', { class: 'legend', 'aria-label': 'node colours' },
    ...nodeLooks.map(({ look, label, help }) =>
      h('span', { class: 'legend-item', title: help }, h('span', { class: `swatch look-${look}` }), label)));
}

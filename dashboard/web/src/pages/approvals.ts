// Approvals: the approval gates waiting for a decision, oldest first, each with what it asks, what
// the nodes before it produced, and the decision at hand (when the dashboard allows actions).
import { api, type Config, type OpenGate } from '../api';
import { gateDecision } from '../gate';
import { between, clear, errorBox, fmtDuration, fmtTime, h, poll, pretty } from '../dom';
import { tokenField } from './start';
import type { Page } from '../main';

// Metadata is canonical ({"message": {"values": [...]}}); the message is what the graph asks.
function message(gate: OpenGate): string {
  const values = (gate.metadata as Record<string, { values?: unknown[] }> | null)?.message?.values;
  return Array.isArray(values) ? values.map(String).join(' ') : '';
}

export const approvalsPage: Page = (root, _params, config: Config) => {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const head = h('div', { class: 'page-head' }, h('h1', {}, 'Approvals'), h('span', { class: 'muted' }, 'updates every 3 s'),
    h('span', { class: 'spacer' }), config.actions === 'token' ? tokenField() : null);
  root.append(head, body);
  // Rows the user is typing in are kept across refreshes: the list is redrawn only when it changed,
  // and otherwise only the times move on.
  let shown = '';
  let ages: [HTMLElement, string][] = [];
  const stop = poll(async () => {
    try {
      const gates = await api.gates();
      const key = JSON.stringify(gates.map((g) => [g.run_id, g.node, g.attempt]));
      if (key === shown) {
        for (const [cell, opened] of ages) cell.textContent = fmtDuration(between(opened, null));
        return;
      }
      shown = key;
      ages = [];
      clear(body);
      if (gates.length === 0) {
        body.appendChild(h('p', { class: 'muted empty' }, 'No approval gate is waiting for a decision.'));
        return;
      }
      body.appendChild(h('table', { class: 'table gates-table' },
        h('thead', {}, h('tr', {}, ...['Run', 'Gate', 'Asks', 'Open for', 'Deadline', 'Inputs', 'Decision'].map((t) => h('th', {}, t)))),
        h('tbody', {}, ...gates.map((g) => row(g)))));
    } catch (e) {
      shown = '';
      clear(body);
      body.appendChild(errorBox((e as Error).message));
    }
  }, () => 3000);

  function age(opened: string): HTMLElement {
    const cell = h('td', { title: opened }, fmtDuration(between(opened, null)));
    ages.push([cell, opened]);
    return cell;
  }

  function row(g: OpenGate): HTMLElement {
    const decision = config.actions === 'disabled'
      ? h('span', { class: 'muted small', title: 'start the dashboard with --token or --allow-actions' }, 'actions disabled')
      : gateDecision(g.run_id, g.node, g.attempt, () => stop.kick());
    return h('tr', { 'data-gate': `${g.run_id}/${g.node}` },
      h('td', {}, h('a', { href: `#/runs/${g.run_id}?node=${encodeURIComponent(g.node)}` }, `#${g.run_id}`),
        g.workflow_name ? h('span', { class: 'muted small' }, ` ${g.workflow_name}`) : null),
      h('td', {}, h('strong', {}, g.node), g.attempt > 1 ? h('span', { class: 'muted small' }, ` (attempt ${g.attempt})`) : null),
      h('td', {}, message(g)),
      age(g.opened_at),
      h('td', {}, g.deadline ? fmtTime(g.deadline) : h('span', { class: 'muted' }, 'none')),
      h('td', {}, Object.keys(g.inputs ?? {}).length ? h('pre', { class: 'code small' }, pretty(g.inputs)) : h('span', { class: 'muted' }, 'none')),
      h('td', {}, decision));
  }
  return stop;
};

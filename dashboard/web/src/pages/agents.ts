// Agents: the worker processes, what they offer and whether they are alive.
import { api, type Agent } from '../api';
import { ago, clear, errorBox, fmtTime, h, poll } from '../dom';
import { badge } from '../status';
import type { Page } from '../main';

const statusLook: Record<Agent['status'], string> = { active: 'success', stopped: 'waiting', gone: 'fail' };

function infoText(info: Record<string, unknown>): string {
  const parts: string[] = [];
  if (info.hostname) parts.push(`${String(info.hostname)}`);
  if (info.pid) parts.push(`pid ${String(info.pid)}`);
  if (info.concurrency) parts.push(`concurrency ${String(info.concurrency)}`);
  if (info.version) parts.push(`v${String(info.version)}`);
  return parts.length ? parts.join(' · ') : JSON.stringify(info);
}

export const agentsPage: Page = (root) => {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  root.append(h('div', { class: 'page-head' }, h('h1', {}, 'Agents'), h('span', { class: 'muted' }, 'updates every 3 s')), body);
  return poll(async () => {
    try {
      const agents = await api.agents();
      clear(body);
      if (agents.length === 0) {
        body.appendChild(h('p', { class: 'muted empty' }, 'No agent has registered yet. Start a worker: adagio-worker --name w1 --runtimes exec,debug'));
        return;
      }
      body.appendChild(h('table', { class: 'table agents-table' },
        h('thead', {}, h('tr', {}, ...['Agent', 'Status', 'Runtimes', 'Running', 'Last seen', 'Registered', 'Process'].map((t) => h('th', {}, t)))),
        h('tbody', {}, ...agents.map((a) => h('tr', { 'data-agent': a.name },
          h('td', {}, h('strong', {}, a.name), h('span', { class: 'muted small' }, ` #${a.id}`)),
          h('td', {}, badge(statusLook[a.status], a.status)),
          h('td', {}, ...a.runtimes.map((r) => h('span', { class: 'chip' }, r))),
          h('td', { class: 'num' }, a.running),
          h('td', { title: a.last_seen_at }, ago(a.last_seen_at)),
          h('td', { title: a.registered_at }, fmtTime(a.registered_at)),
          h('td', { class: 'muted small' }, infoText(a.info)))))));
    } catch (e) {
      clear(body);
      body.appendChild(errorBox((e as Error).message));
    }
  }, () => 3000);
};

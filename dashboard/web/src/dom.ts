// Small DOM helpers: the UI is plain TypeScript, so these keep page code short and escape-safe.

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | EventListener | undefined | null>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v as EventListener);
    else if (k === 'class') el.className = String(v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el: Element) {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export const svgNS = 'http://www.w3.org/2000/svg';
export function s<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number> = {}): SVGElementTagNameMap[K] {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  const today = new Date();
  const sameDay = d.toDateString() === today.toDateString();
  const time = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false });
  return sameDay ? time : `${d.toLocaleDateString([], { month: 'short', day: 'numeric' })} ${time}`;
}

export function fmtDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds)) return '—';
  if (seconds < 0) seconds = 0;
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function between(from: string | null | undefined, to: string | null | undefined): number | null {
  if (!from) return null;
  const end = to ? new Date(to).getTime() : Date.now();
  return (end - new Date(from).getTime()) / 1000;
}

export function ago(iso: string | null | undefined): string {
  const s = between(iso, null);
  return s === null ? '—' : `${fmtDuration(s)} ago`;
}

export function pretty(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, 2);
}

// A running poll: call it to stop; kick() runs the next tick as soon as it may (after the one
// under way, and no sooner than a slow server's wait below).
export interface Poller {
  (): void;
  kick: () => void;
}

// Runs `tick` now and then every `ms` until stopped; a slow response never overlaps the next.
// When the last two ticks were both slow, the next waits five times as long as the quicker of them
// took: the counts behind the pages scan whole tables, and an open tab should not keep a large
// database busy. (One slow tick, a cold start or a hiccup, changes nothing.) Kicks, from the live
// stream, keep that wait too: a busy engine changes runs all the time.
export function poll(tick: () => Promise<void>, ms: () => number): Poller {
  let stopped = false;
  let running = false;
  let kicked = false;
  let timer: number | undefined;
  let previous = 0;
  let earliest = 0;  // performance.now() before which no tick starts
  const schedule = (delay: number) => { timer = window.setTimeout(loop, Math.max(0, delay)); };
  const loop = async () => {
    if (stopped) return;
    timer = undefined;
    running = true;
    const started = performance.now();
    try {
      await tick();
    } catch {
      // the page shows its own error; keep polling so it recovers when the server does
    }
    running = false;
    const took = performance.now() - started;
    const slowest = Math.min(took, previous);
    previous = took;
    earliest = performance.now() + 5 * slowest;
    if (stopped) return;
    if (kicked) {
      kicked = false;
      schedule(5 * slowest);
    } else {
      schedule(Math.max(ms(), 5 * slowest));
    }
  };
  void loop();
  const stop = (() => {
    stopped = true;
    if (timer !== undefined) window.clearTimeout(timer);
  }) as Poller;
  stop.kick = () => {
    if (stopped) return;
    if (running) {
      kicked = true;
      return;
    }
    if (timer !== undefined) window.clearTimeout(timer);
    schedule(earliest - performance.now());
  };
  return stop;
}

export function errorBox(message: string): HTMLElement {
  return h('div', { class: 'error', role: 'alert' }, message);
}

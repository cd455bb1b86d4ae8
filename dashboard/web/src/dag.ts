// The run graph: laid out by dagre (left to right), drawn as SVG. The layout is computed once per
// graph shape; live updates only change each node's status, so nothing jumps while a run executes.
import dagre from '@dagrejs/dagre';
import type { Edge, RunNode } from './api';
import { between, fmtDuration, s } from './dom';
import { nodeLook, nodeLookLabel } from './status';

const nodeHeight = 46;

function nodeWidth(name: string): number {
  return Math.min(260, Math.max(130, name.length * 7.6 + 36));
}

function truncate(name: string, width: number): string {
  const fits = Math.floor((width - 24) / 7.4);
  return name.length > fits ? `${name.slice(0, fits - 1)}…` : name;
}

// A timer's wait, from its metadata ({"seconds": {"values": ["3600"]}}).
function timerSeconds(node: RunNode): number {
  const values = (node.metadata as Record<string, { values?: unknown[] }> | null)?.seconds?.values;
  return Array.isArray(values) ? Number(values[0]) : NaN;
}

// The state, which attempt, and for how long it has run (or ran): what a glance at a graph asks.
function subtitle(node: RunNode): string {
  const look = nodeLook(node);
  // A retrying node has not started its next attempt yet: name that one.
  const attempt = look === 'retrying' ? ` · #${node.attempt_count + 1} next` : node.attempt_count > 1 ? ` · #${node.attempt_count}` : '';
  const last = node.attempts[node.attempts.length - 1];
  let time = '';
  if (look === 'running' && node.claimed_at) time = ` · ${fmtDuration(between(node.claimed_at, null))}`;
  else if (look === 'scheduled' && node.ready_at) time = ` · in ${fmtDuration(Math.max(0, -(between(node.ready_at, null) ?? 0)))}`;
  else if (look === 'awaiting' && node.ready_at) time = ` · ${fmtDuration(between(node.ready_at, null))}`;
  else if (look === 'sleeping' && node.ready_at && Number.isFinite(timerSeconds(node)))
    time = ` · ${fmtDuration(Math.max(0, timerSeconds(node) - (between(node.ready_at, null) ?? 0)))} left`;
  else if (node.state === 'completed' && last && node.conclusion !== 'never_reached') time = ` · ${fmtDuration(between(last.started_at, last.finished_at))}`;
  return `${nodeLookLabel(look)}${attempt}${time}`;
}

export class DagView {
  readonly element: SVGSVGElement;
  private shape = '';
  private groups = new Map<string, SVGGElement>();
  private selected: string | null = null;

  constructor(private onSelect: (name: string) => void) {
    this.element = s('svg', { class: 'dag', role: 'img', 'aria-label': 'run graph' });
  }

  // addedBy: the number of the patch that added a node, for the nodes patches added.
  update(nodes: RunNode[], edges: Edge[], addedBy: Map<string, number> = new Map()) {
    const shape = JSON.stringify([nodes.map((n) => n.name), edges]);
    if (shape !== this.shape) {
      this.shape = shape;
      this.draw(nodes, edges);
    }
    for (const node of nodes) {
      const g = this.groups.get(node.name);
      if (!g) continue;
      const look = nodeLook(node);
      g.setAttribute('class', `dag-node look-${look}${node.name === this.selected ? ' selected' : ''}`);
      g.dataset.status = look;
      g.dataset.state = node.state;
      g.dataset.conclusion = node.conclusion ?? '';
      (g.querySelector('.sub') as SVGTextElement).textContent = subtitle(node);
      const patch = addedBy.get(node.name);
      (g.querySelector('.patch-mark') as SVGTextElement).textContent = patch ? `+${patch}` : '';
      if (patch) g.dataset.patch = String(patch); else delete g.dataset.patch;
      (g.querySelector('title') as Element).textContent =
        `${node.name}: ${subtitle(node)}${patch ? ` (added by patch ${patch})` : ''}`;
    }
  }

  select(name: string | null) {
    this.selected = name;
    for (const [n, g] of this.groups) g.classList.toggle('selected', n === name);
  }

  private draw(nodes: RunNode[], edges: Edge[]) {
    const graph = new dagre.graphlib.Graph();
    graph.setGraph({ rankdir: 'LR', nodesep: 22, ranksep: 56, marginx: 14, marginy: 14 });
    graph.setDefaultEdgeLabel(() => ({}));
    for (const n of nodes) graph.setNode(n.name, { width: nodeWidth(n.name), height: nodeHeight });
    for (const e of edges) graph.setEdge(e.source, e.destination);
    dagre.layout(graph);

    const svg = this.element;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    this.groups.clear();
    const { width = 0, height = 0 } = graph.graph();
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.style.maxWidth = `${width}px`;
    // Shrink a wide graph to fit, but not below a readable size: past that the box scrolls.
    svg.style.minWidth = `${Math.round(width * 0.6)}px`;
    svg.style.aspectRatio = `${width} / ${height}`;

    const defs = s('defs');
    const marker = s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
    marker.appendChild(s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }));
    defs.appendChild(marker);
    svg.appendChild(defs);

    const edgeLayer = s('g', { class: 'edges' });
    for (const e of graph.edges()) {
      const points = graph.edge(e).points ?? [];
      if (points.length === 0) continue;
      let d = `M ${points[0].x} ${points[0].y}`;
      // A smooth curve through dagre's points: quadratic segments through their midpoints.
      for (let i = 1; i < points.length - 1; i++) {
        const mx = (points[i].x + points[i + 1].x) / 2, my = (points[i].y + points[i + 1].y) / 2;
        d += ` Q ${points[i].x} ${points[i].y} ${mx} ${my}`;
      }
      const last = points[points.length - 1];
      d += ` L ${last.x} ${last.y}`;
      const path = s('path', { d, class: 'dag-edge', 'marker-end': 'url(#arrow)' });
      path.dataset.source = e.v;
      path.dataset.destination = e.w;
      edgeLayer.appendChild(path);
    }
    svg.appendChild(edgeLayer);

    const nodeLayer = s('g', { class: 'nodes' });
    for (const n of nodes) {
      const box = graph.node(n.name);
      const w = box.width, hgt = box.height;
      const g = s('g', { transform: `translate(${box.x - w / 2}, ${box.y - hgt / 2})`, tabindex: 0, role: 'button' });
      g.dataset.node = n.name;
      g.appendChild(s('title'));
      g.appendChild(s('rect', { class: 'box', width: w, height: hgt, rx: 8, ry: 8 }));
      const name = s('text', { class: 'name', x: 12, y: 19 });
      name.textContent = truncate(n.name, w);
      g.appendChild(name);
      g.appendChild(s('text', { class: 'sub', x: 12, y: 35 }));
      g.appendChild(s('text', { class: 'patch-mark', x: w - 8, y: 14, 'text-anchor': 'end' }));
      g.addEventListener('click', () => this.onSelect(n.name));
      g.addEventListener('keydown', (ev) => {
        if ((ev as KeyboardEvent).key === 'Enter' || (ev as KeyboardEvent).key === ' ') this.onSelect(n.name);
      });
      nodeLayer.appendChild(g);
      this.groups.set(n.name, g);
    }
    svg.appendChild(nodeLayer);
  }
}

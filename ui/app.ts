import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './app.css';
import { byId, el, fillTable, sparkline } from './dom.js';
import { bytes, count, cpu, time } from './format.js';
import type { Snapshot, TopPod, Value } from './snapshot.js';

// The live view: one snapshot from /ui/api/snapshot per cycle (the event stream says when), drawn with uPlot.
// Read-only: the page only GETs. Every text from the server goes in as textContent.

interface State {
  range: '5m' | '1h';
  search: string;
  snapshot: Snapshot | undefined;
}

const state: State = { range: '5m', search: '', snapshot: undefined };
const charts = new Map<string, { plot: uPlot; signature: string }>();

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** Colours from the stylesheet, so light and dark each get their own readable palette. */
function palette(): string[] {
  return Array.from({ length: 9 }, (_, i) => cssVar(`--series-${i}`, '#888'));
}

function drawChart(id: 'cpu' | 'memory', snap: Snapshot): void {
  const container = byId<HTMLDivElement>(`${id}-chart`);
  const names = ['cluster', ...snap.series.namespaces.map((n) => n.name)];
  const data: uPlot.AlignedData = [
    snap.series.t.map((t) => t / 1000),
    snap.series.cluster[id],
    ...snap.series.namespaces.map((n) => n[id]),
  ];
  const colours = palette();
  const signature = `${names.join('\u0000')}|${colours.join()}|${container.clientWidth}`;
  const existing = charts.get(id);
  if (existing !== undefined && existing.signature === signature) {
    existing.plot.setData(data);
  } else {
    existing?.plot.destroy();
    const fg = cssVar('--fg', '#222');
    const grid = cssVar('--grid', '#ddd');
    const value = id === 'cpu' ? cpu : bytes;
    const axis = { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid } };
    const plot = new uPlot(
      {
        width: Math.max(280, container.clientWidth),
        height: 240,
        series: [
          {},
          ...names.map((name, i) => ({
            label: name,
            stroke: colours[i % colours.length] ?? fg,
            width: i === 0 ? 2.5 : 1.5,
            value: (_u: uPlot, v: Value) => value(v),
          })),
        ],
        axes: [
          axis,
          { ...axis, size: 70, values: (_u: uPlot, splits: number[]) => splits.map((v) => value(v)) },
        ],
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
      },
      data,
      container,
    );
    charts.set(id, { plot, signature });
  }
  drawDataTable(id, snap, names);
}

/** The chart's numbers as a table: for screen readers and for anyone who wants the exact values. */
function drawDataTable(id: 'cpu' | 'memory', snap: Snapshot, names: readonly string[]): void {
  const value = id === 'cpu' ? cpu : bytes;
  const columns = [snap.series.cluster[id], ...snap.series.namespaces.map((n) => n[id])];
  const rows = snap.series.t
    .map((t, i) => ({ t, i }))
    .reverse()
    .map(({ t, i }) => [
      time(t),
      ...columns.map((column, j) => {
        const v = column[i] ?? null;
        return el('span', value(v), {
          'data-series': names[j] ?? '',
          'data-value': v === null ? '' : String(v),
        });
      }),
    ]);
  fillTable(byId<HTMLTableElement>(`${id}-table`), ['time', ...names], rows, (i) => ({
    'data-t': String(snap.series.t[snap.series.t.length - 1 - i] ?? ''),
  }));
}

function drawPods(id: 'pods-cpu' | 'pods-memory', pods: readonly TopPod[], metric: 'cpu' | 'memory'): void {
  const rows = pods.map((p) => [
    p.pod,
    p.namespace,
    el('span', metric === 'cpu' ? cpu(p.cpu) : bytes(p.memory), { 'data-value': String(p[metric] ?? '') }),
    sparkline(metric === 'cpu' ? p.cpuHistory : p.memoryHistory, `recent ${metric} of ${p.pod}`),
  ]);
  fillTable(
    byId<HTMLTableElement>(id),
    ['pod', 'namespace', metric === 'cpu' ? 'CPU' : 'memory', 'recent'],
    rows,
  );
}

function drawNodes(snap: Snapshot): void {
  const { rows, total, failing } = snap.nodes;
  byId('nodes-summary').textContent =
    `${count(total)} nodes, ${count(failing)} failing` +
    (rows.length < total ? ` (showing ${rows.length})` : '');
  fillTable(
    byId<HTMLTableElement>('nodes-table'),
    ['node', 'status', 'answered after', 'last error', 'sets', 'values', 'CPU', 'memory'],
    rows.map((n) => [
      n.name,
      el('span', n.failing ? `failing (${n.failuresInRow}×)` : 'ok', { class: n.failing ? 'bad' : 'good' }),
      n.answerMs === null ? '–' : `${count(n.answerMs)} ms`,
      el(
        'span',
        n.lastError === null
          ? ''
          : `${n.lastError.reason}: ${n.lastError.message} (cycle ${n.lastError.cycle})`,
        { class: 'message' },
      ),
      count(n.sets),
      count(n.values),
      cpu(n.cpu),
      bytes(n.memory),
    ]),
    (i) => ({ 'data-node': rows[i]?.name ?? '', 'data-failing': String(rows[i]?.failing ?? false) }),
  );
}

function drawSinks(snap: Snapshot): void {
  fillTable(
    byId<HTMLTableElement>('sinks-table'),
    [
      'sink',
      'backlog (batches)',
      'recent backlog',
      'delivered/s',
      'delivered',
      'dropped',
      'retries',
      'failed',
    ],
    snap.sinks.map((s) => [
      s.name,
      el('span', `${count(s.backlog)} (${bytes(s.backlogBytes)})`, {
        'data-backlog': String(s.backlog),
        class: s.backlog > 0 ? 'warn' : '',
      }),
      sparkline(s.backlogHistory, `recent backlog of ${s.name}`),
      String(s.deliveredPerSecond),
      count(s.delivered),
      el('span', count(s.dropped), { class: s.dropped > 0 ? 'bad' : '' }),
      count(s.retries),
      el('span', count(s.failed), { class: s.failed > 0 ? 'bad' : '' }),
    ]),
    (i) => ({ 'data-sink': snap.sinks[i]?.name ?? '' }),
  );
  fillTable(
    byId<HTMLTableElement>('errors-table'),
    ['reason', 'last cycle', 'since start'],
    snap.scrapeErrors.length === 0
      ? [['none', '0', '0']]
      : snap.scrapeErrors.map((e) => [e.reason, count(e.lastCycle), count(e.total)]),
  );
}

function draw(snap: Snapshot): void {
  state.snapshot = snap;
  const status = byId('status');
  status.textContent =
    snap.cycle === null
      ? 'waiting for the first cycle…'
      : `cycle ${snap.cycle} at ${time(snap.timestamp ?? 0)} · every ${snap.resolutionMs / 1000} s`;
  status.dataset['cycle'] = String(snap.cycle ?? '');
  drawChart('cpu', snap);
  drawChart('memory', snap);
  const leftOut = byId('left-out');
  leftOut.hidden = snap.namespacesLeftOut === 0;
  leftOut.textContent = `${snap.namespacesLeftOut} namespaces beyond the store's limit are not charted.`;
  drawPods('pods-cpu', snap.topPods.cpu, 'cpu');
  drawPods('pods-memory', snap.topPods.memory, 'memory');
  drawNodes(snap);
  drawSinks(snap);
  document.body.dataset['cycle'] = String(snap.cycle ?? '');
}

let inFlight: AbortController | undefined;
async function refresh(): Promise<void> {
  inFlight?.abort();
  const controller = new AbortController();
  inFlight = controller;
  const query = new URLSearchParams({ range: state.range, search: state.search });
  try {
    const response = await fetch(`/ui/api/snapshot?${query.toString()}`, { signal: controller.signal });
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    draw((await response.json()) as Snapshot);
  } catch (err) {
    if (controller.signal.aborted) return;
    byId('status').textContent = `cannot read the snapshot: ${String(err)}`;
  }
}

function listen(): void {
  const events = new EventSource('/ui/api/events');
  events.addEventListener('cycle', () => void refresh());
}

function wireControls(): void {
  const form = byId<HTMLFormElement>('controls');
  form.addEventListener('submit', (e) => e.preventDefault());
  for (const radio of form.querySelectorAll<HTMLInputElement>('input[name="range"]')) {
    radio.addEventListener('change', () => {
      state.range = radio.value === '1h' ? '1h' : '5m';
      void refresh();
    });
  }
  const search = byId<HTMLInputElement>('search');
  let timer: number | undefined;
  search.addEventListener('input', () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => {
      state.search = search.value;
      void refresh();
    }, 200);
  });
  // "/" jumps to the search as on many sites; Escape clears it.
  document.addEventListener('keydown', (e) => {
    if (e.key === '/' && document.activeElement !== search) {
      e.preventDefault();
      search.focus();
    } else if (e.key === 'Escape' && document.activeElement === search && search.value !== '') {
      search.value = '';
      state.search = '';
      void refresh();
    }
  });
  const redraw = () => {
    for (const c of charts.values()) c.plot.destroy();
    charts.clear();
    if (state.snapshot !== undefined) draw(state.snapshot);
  };
  window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', redraw);
  let resizeTimer: number | undefined;
  window.addEventListener('resize', () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(redraw, 150);
  });
}

wireControls();
listen();
void refresh();

import { cpus, release, totalmem, type } from 'node:os';
import type { SizeResult } from './run-size.js';
import { percentile } from './measure.js';

const MB = 1024 * 1024;

/** The machine a run was measured on, as the doc states it. */
export function describeMachine(): string {
  const cores = cpus();
  const model = cores[0]?.model.trim() ?? 'unknown CPU';
  return (
    `${model}, ${cores.length} cores, ${(totalmem() / 1024 ** 3).toFixed(1)} GiB memory, ` +
    `Node ${process.version}, ${type()} ${release()}`
  );
}

function seconds(ms: number): string {
  return Number.isFinite(ms) ? (ms / 1000).toFixed(2) : 'n/a';
}

function integer(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : 'n/a';
}

function fixed(n: number, digits = 2): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

function size(r: SizeResult): string {
  const workers = (r.workers ?? 0) === 0 ? '' : ` (workers: ${r.workers})`;
  return `${integer(r.nodes)} × ${r.podsPerNode}${r.jsonl ? ' (JSON Lines)' : ''}${r.diskBuffer ? ' (disk buffer)' : ''}${workers}`;
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/**
 * The results as two Markdown tables: work and CPU per cycle, then latency and memory.
 *
 * @example
 * console.log(formatResults([result]));
 */
export function formatResults(results: readonly SizeResult[]): string {
  const work = table(
    [
      'size',
      'pods',
      'containers',
      'values / cycle',
      'pipeline CPU s / cycle (mean, max)',
      'of it main thread',
      'CPU ms / node scrape',
      'values / CPU-s',
      'JSON.parse floor CPU s / cycle',
      'pipeline ÷ floor',
      'simulator CPU s / cycle',
    ],
    results.map((r) => {
      const floorPerCycle = r.floor.parseCpuSeconds;
      return [
        size(r),
        integer(r.pods),
        integer(r.containers),
        integer(r.valuesPerCycle),
        `${fixed(r.cpuPerCycle)}, ${fixed(r.cpuPerCycleMax)}`,
        fixed(r.mainThreadCpuPerCycle),
        fixed(r.cpuPerScrapeMs, 3),
        integer(r.valuesPerCpuSecond),
        fixed(floorPerCycle, 3),
        fixed(r.cpuPerCycle / floorPerCycle, 1),
        fixed(r.simulatorCpuPerCycle),
      ];
    }),
  );
  const timing = table(
    [
      'size',
      'resolution',
      'cycles',
      'tick → node batch p50, p99 (s)',
      'tick → last node batch p50, p99 (s)',
      'tick → cluster batch p50, p99 (s)',
      'peak RSS (MiB)',
      'peak RSS KB / node',
      'peak heap (MiB)',
      'live heap: metadata, pipeline state (MiB)',
      'state B / set',
      'payload MiB / cycle',
      'failed scrapes',
      'wall (s)',
    ],
    results.map((r) => [
      size(r),
      `${r.resolutionMs / 1000} s`,
      String(r.cycles.length),
      `${seconds(r.nodeBatchP50Ms)}, ${seconds(r.nodeBatchP99Ms)}`,
      `${seconds(percentile(r.lastNodeMs, 50))}, ${seconds(percentile(r.lastNodeMs, 99))}`,
      `${seconds(percentile(r.clusterMs, 50))}, ${seconds(percentile(r.clusterMs, 99))}`,
      integer(r.peakRssBytes / MB),
      integer(r.peakRssBytes / 1000 / r.nodes),
      integer(r.peakHeapBytes / MB),
      `${integer(r.startHeapBytes / MB)}, ${integer(r.retainedHeapBytes / MB)}`,
      integer(r.retainedHeapBytes / r.setsPerCycle),
      fixed(r.floor.bytes / MB, 1),
      failureText(r),
      integer(r.wallSeconds),
    ]),
  );
  return `${work}\n\n${timing}\n`;
}

function failureText(r: SizeResult): string {
  const parts = Object.entries(r.failures).map(([reason, n]) => `${n} ${reason}`);
  if (r.unenrichedContainers > 0) parts.push(`${r.unenrichedContainers} containers without metadata`);
  return parts.length === 0 ? '0' : parts.join(', ');
}

/** Where a profiled run's busy time went, by component and then by function, as a Markdown table (% of busy time). */
export function formatHot(result: SizeResult): string {
  if (result.hot === undefined) return '';
  return table(
    ['self %', 'function', 'where'],
    result.hot.map((h) => [fixed(h.selfPercent, 1), h.name, h.where]),
  );
}

interface Target {
  readonly what: string;
  readonly goal: string;
  /** The measured value as shown, and whether it meets the goal; undefined when that size was not run. */
  readonly measure: (
    results: readonly SizeResult[],
    pairs: readonly DiskPair[],
  ) => { shown: string; met: boolean } | undefined;
}

/** The same 1,000 × 30 pipeline run with a memory buffer and then with a disk buffer, one process each. */
export interface DiskPair {
  readonly memory: SizeResult;
  readonly disk: SizeResult;
}

const diskRatio = (pair: DiskPair): number => pair.disk.cpuPerCycle / pair.memory.cpuPerCycle;

/** The median of the pairs' disk ÷ memory CPU ratios; undefined without pairs. */
function medianDiskRatio(pairs: readonly DiskPair[]): number | undefined {
  if (pairs.length === 0) return undefined;
  const ratios = pairs.map(diskRatio).sort((a, b) => a - b);
  const mid = Math.floor(ratios.length / 2);
  const middle = ratios[mid] as number;
  return ratios.length % 2 === 1 ? middle : ((ratios[mid - 1] as number) + middle) / 2;
}

/**
 * Each pair's pipeline CPU per cycle with either buffer and their ratio, and the median the target takes.
 *
 * @example
 * console.log(formatDiskPairs(pairs));
 */
export function formatDiskPairs(pairs: readonly DiskPair[]): string {
  if (pairs.length === 0) return '';
  const cpu = (r: SizeResult) =>
    `${fixed(r.cpuPerCycle)} (${fixed(r.mainThreadCpuPerCycle)}; simulator ${fixed(r.simulatorCpuPerCycle)})`;
  const rows = pairs.map((pair, i) => [
    String(i + 1),
    cpu(pair.memory),
    cpu(pair.disk),
    fixed(diskRatio(pair)),
  ]);
  return `**The disk buffer in the path** (issue 18): the 1,000 × 30 pipeline with its counting sink behind a memory buffer,
then behind a disk buffer (\`sync: every_batch\`), one process each, pair after pair. CPU seconds per cycle, the main
thread's and the simulator's in brackets (the simulator's work does not change: when it moves, the machine did).
The target takes the median ratio: ${fixed(medianDiskRatio(pairs) ?? NaN)}.

${table(['pair', 'memory buffer', 'disk buffer', 'disk ÷ memory'], rows)}`;
}

function find(results: readonly SizeResult[], nodes: number, pods: number, jsonl = false) {
  return results.find(
    (r) =>
      r.nodes === nodes &&
      r.podsPerNode === pods &&
      r.jsonl === jsonl &&
      !r.diskBuffer &&
      (r.workers ?? 0) === 0,
  );
}

/** Issues 16's and 18's targets, each checked against the run's own numbers so the doc says met or missed, not a reader. */
const TARGETS: readonly Target[] = [
  {
    what: '1,000 × 30: pipeline ÷ floor',
    goal: '≤ 3.0',
    measure: (rs) => {
      const r = find(rs, 1000, 30);
      if (r === undefined) return undefined;
      const ratio = r.cpuPerCycle / r.floor.parseCpuSeconds;
      return { shown: fixed(ratio, 1), met: ratio <= 3 };
    },
  },
  {
    what: '1,000 × 30: values / CPU-s, counting sink',
    goal: '≥ 1,500,000',
    measure: (rs) => {
      const r = find(rs, 1000, 30);
      return r && { shown: integer(r.valuesPerCpuSecond), met: r.valuesPerCpuSecond >= 1_500_000 };
    },
  },
  {
    what: '1,000 × 30: values / CPU-s, JSON Lines to /dev/null',
    goal: '≥ 1,000,000',
    measure: (rs) => {
      const r = find(rs, 1000, 30, true);
      return r && { shown: integer(r.valuesPerCpuSecond), met: r.valuesPerCpuSecond >= 1_000_000 };
    },
  },
  {
    // Issue 18's target: the same pipeline with the counting sink behind a disk buffer (median of the pairs).
    what: '1,000 × 30: pipeline CPU, disk buffer ÷ memory buffer (median of pairs)',
    goal: '≤ 1.2',
    measure: (_rs, pairs) => {
      const ratio = medianDiskRatio(pairs);
      return ratio === undefined ? undefined : { shown: fixed(ratio, 2), met: ratio <= 1.2 };
    },
  },
  {
    what: '5,000 × 30: tick → last node batch, p99',
    goal: '≤ 5 s',
    measure: (rs) => {
      const r = find(rs, 5000, 30);
      if (r === undefined) return undefined;
      const p99 = percentile(r.lastNodeMs, 99);
      return { shown: `${seconds(p99)} s`, met: p99 <= 5000 };
    },
  },
  {
    what: '5,000 × 30: tick → cluster batch, p99',
    goal: '≤ 6 s',
    measure: (rs) => {
      const r = find(rs, 5000, 30);
      if (r === undefined) return undefined;
      const p99 = percentile(r.clusterMs, 99);
      return { shown: `${seconds(p99)} s`, met: p99 <= 6000 };
    },
  },
  {
    what: '5,000 × 30: pipeline CPU per cycle ÷ resolution',
    goal: '< 0.5 core',
    measure: (rs) => {
      const r = find(rs, 5000, 30);
      if (r === undefined) return undefined;
      const cores = r.cpuPerCycle / (r.resolutionMs / 1000);
      return { shown: `${fixed(cores)} core`, met: cores < 0.5 };
    },
  },
  {
    what: '5,000 × 30: peak RSS per node',
    goal: '≤ 200 KB',
    measure: (rs) => {
      const r = find(rs, 5000, 30);
      if (r === undefined) return undefined;
      const kb = r.peakRssBytes / 1000 / r.nodes;
      return { shown: `${integer(kb)} KB`, met: kb <= 200 };
    },
  },
  {
    what: '5,000 × 110 at 60 s: slowest cycle, tick → cycle end',
    goal: '≤ 30 s',
    measure: (rs) => {
      const r = find(rs, 5000, 110);
      if (r === undefined || r.cycles.length === 0) return undefined;
      const worst = Math.max(...r.cycles.map((c) => c.endLatency));
      return { shown: `${seconds(worst)} s`, met: worst <= 30_000 };
    },
  },
];

/**
 * The targets with this run's measurements, met or missed.
 *
 * @example
 * console.log(formatTargets(results));
 */
export function formatTargets(results: readonly SizeResult[], pairs: readonly DiskPair[] = []): string {
  return table(
    ['target', 'goal', 'measured', 'met'],
    TARGETS.map((t) => {
      const m = t.measure(results, pairs);
      return [t.what, t.goal, m?.shown ?? 'not run', m === undefined ? '' : m.met ? 'yes' : '**no**'];
    }),
  );
}

import { readFileSync } from 'node:fs';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** The scheduler's tick in /proc/<pid>/stat; 100 on every Linux kernel configured for user space (USER_HZ). */
const USER_HZ = 100;

/** CPU seconds (user + system) this process has used so far. */
export function processCpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

/**
 * CPU seconds (user + system) another process has used so far, from /proc/<pid>/stat (Linux only); NaN when
 * it cannot be read, so a table shows "n/a" rather than a wrong zero.
 *
 * @example
 * const before = childCpuSeconds(simulator.pid);
 */
export function childCpuSeconds(pid: number | undefined): number {
  return pid === undefined ? NaN : statCpuSeconds(`/proc/${pid}/stat`);
}

/**
 * CPU seconds this process's main thread has used (JavaScript, and the GC work V8 does on it), apart from its
 * helper threads (V8's concurrent markers and sweepers, libuv's pool): what `process.cpuUsage()` adds on top
 * shows work moved off the main thread, such as marking a bigger heap. NaN off Linux.
 *
 * @example
 * const before = mainThreadCpuSeconds();
 */
export function mainThreadCpuSeconds(): number {
  return statCpuSeconds(`/proc/self/task/${process.pid}/stat`);
}

function statCpuSeconds(path: string): number {
  try {
    const stat = readFileSync(path, 'latin1');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state is field 3, so utime (14) and stime (15) sit at 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return NaN;
  }
}

/** The largest heap and RSS seen, sampled on a timer (unref'd, so it never keeps the process alive). */
export class MemorySampler {
  peakHeapUsed = 0;
  peakRss = 0;
  private timer: NodeJS.Timeout | undefined;

  start(intervalMs = 100): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    const heap = getHeapStatistics().used_heap_size;
    if (heap > this.peakHeapUsed) this.peakHeapUsed = heap;
    const rss = process.memoryUsage.rss();
    if (rss > this.peakRss) this.peakRss = rss;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.sample();
  }
}

/**
 * The p-th percentile (0–100) of values, nearest-rank; NaN for none.
 *
 * @example
 * percentile([1, 2, 3, 4], 50); // 2
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** The median of values; NaN for none. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/**
 * A function that runs a full garbage collection, for measuring what stays alive (the pipeline's state) rather
 * than what V8 lets accumulate between collections. Exposing gc at run time is V8's documented escape hatch.
 *
 * @example
 * const gc = fullGc(); gc(); const live = process.memoryUsage().heapUsed;
 */
export function fullGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** Memory in use right after a full collection: the JS heap plus ArrayBuffer contents (typed arrays live there). */
export function liveHeapBytes(gc: () => void): number {
  gc();
  return getHeapStatistics().used_heap_size + process.memoryUsage().arrayBuffers;
}

import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
}

/** A function's share of the profiled time, by self time. */
export interface HotFunction {
  readonly name: string;
  readonly where: string;
  readonly selfPercent: number;
}

/**
 * A V8 CPU profile of the measured cycles only (setup and warm-up excluded), written as a `.cpuprofile` file that
 * Chrome DevTools or speedscope open, plus the functions with the most self time.
 *
 * @example
 * const profiler = await CpuProfiler.start();
 * // … cycles …
 * const hot = await profiler.stop('bench-5000x30.cpuprofile');
 */
export class CpuProfiler {
  private constructor(private readonly session: Session) {}

  static async start(): Promise<CpuProfiler> {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    return new CpuProfiler(session);
  }

  async stop(file: string, top = 25): Promise<HotFunction[]> {
    const { profile } = (await this.session.post('Profiler.stop')) as unknown as { profile: Profile };
    this.session.disconnect();
    await writeFile(file, JSON.stringify(profile));
    return hottest(profile, top);
  }
}

/** Samples that are not work: waiting for I/O, and V8's own bookkeeping of the profile. */
const NOT_WORK = new Set(['(idle)', '(program)']);

/** The component a script belongs to: its folder (processors/rate, src/kube…), package, or Node module. */
function componentOf(url: string): string {
  if (url === '') return '(native: GC, JSON.parse…)';
  const match = /\/(node_modules\/(?:@[^/]+\/)?[^/]+|(?:src|sources|processors|sinks)\/[^/]+|bench)\//.exec(
    url,
  );
  if (match !== null) return match[1]!;
  return url.startsWith('node:') ? 'node: (streams, events, timers…)' : url;
}

/**
 * Self time of the busy samples (idle excluded) by function, then by component. tsx compiles each file to one
 * line, so positions are not reported; the function name and component are enough to find the code.
 */
function hottest(profile: Profile, top: number): HotFunction[] {
  let busy = 0;
  const byFunction = new Map<string, { name: string; where: string; hits: number }>();
  const byComponent = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    const frame = node.callFrame;
    if (hits === 0 || NOT_WORK.has(frame.functionName)) continue;
    busy += hits;
    const where = componentOf(frame.url);
    const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
    const key = `${name}\u0000${where}`;
    const entry = byFunction.get(key) ?? { name, where, hits: 0 };
    entry.hits += hits;
    byFunction.set(key, entry);
    byComponent.set(where, (byComponent.get(where) ?? 0) + hits);
  }
  const share = (hits: number): number => (busy === 0 ? 0 : (100 * hits) / busy);
  const components = [...byComponent]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([where, hits]) => ({ name: '(all of it)', where, selfPercent: share(hits) }));
  const functions = [...byFunction.values()]
    .sort((a, b) => b.hits - a.hits)
    .slice(0, top)
    .map((e) => ({ name: e.name, where: e.where, selfPercent: share(e.hits) }));
  return [...components, ...functions];
}

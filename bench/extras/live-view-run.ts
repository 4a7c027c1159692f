/**
 * Runs bench/extras/live-view.ts for `npm run bench` and formats its result: in its own process, because it needs
 * --expose-gc and its pods their own heap.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

interface Timing {
  readonly p50: number;
  readonly p99: number;
  readonly bytes: number;
}

export interface LiveViewResult {
  readonly nodes: number;
  readonly pods: number;
  readonly tap_ms_per_cycle: number;
  readonly store_mib: number;
  readonly requests: number;
  readonly five_minutes: Timing;
  readonly hour: Timing;
  readonly search: Timing;
}

export async function measureLiveView(options: {
  nodes: number;
  podsPerNode: number;
}): Promise<LiveViewResult> {
  const script = fileURLToPath(new URL('./live-view.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    [
      '--expose-gc',
      ...process.execArgv,
      script,
      '--json',
      '--nodes',
      String(options.nodes),
      '--pods-per-node',
      String(options.podsPerNode),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench/extras/live-view.ts ended with code ${String(code)}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as LiveViewResult;
}

export function formatLiveView(r: LiveViewResult): string {
  const n = (x: number) => x.toLocaleString('en-US');
  const kib = (b: number) => `${Math.round(b / 1024)} KiB`;
  return [
    `${n(r.nodes)} nodes, ${n(r.pods)} pods; store ${r.store_mib} MiB; its tap ${r.tap_ms_per_cycle} ms per cycle; ${r.requests} requests per path.`,
    '',
    '| request | p50 ms | p99 ms | response |',
    '| --- | --- | --- | --- |',
    `| \`GET /ui/api/snapshot?range=5m\` | ${r.five_minutes.p50} | ${r.five_minutes.p99} | ${kib(r.five_minutes.bytes)} |`,
    `| \`GET /ui/api/snapshot?range=1h\` | ${r.hour.p50} | ${r.hour.p99} | ${kib(r.hour.bytes)} |`,
    `| \`GET /ui/api/snapshot?range=5m&search=kube-system\` | ${r.search.p50} | ${r.search.p99} | ${kib(r.search.bytes)} |`,
  ].join('\n');
}

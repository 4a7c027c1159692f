/**
 * Runs bench/extras/metrics-api.ts for `npm run bench` and formats its result: in its own process, because it needs
 * --expose-gc and its 150,000 pods their own heap.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export interface MetricsApiResult {
  readonly pods_served: number;
  readonly store_mib: number;
  readonly store_bytes_per_pod: number;
  readonly pods_list: { readonly p50_ms: number; readonly p99_ms: number; readonly response_mib: number };
  readonly pods_list_after_change_ms: number;
  readonly namespace_list: { readonly p50_ms: number; readonly p99_ms: number };
  readonly nodes_list: { readonly p50_ms: number; readonly p99_ms: number };
  readonly requests: number;
  readonly target_met: boolean;
}

/** bench/extras/metrics-api.ts in its own process: it needs --expose-gc, and its 150,000 pods their own heap. */
export async function measureMetricsApi(): Promise<MetricsApiResult> {
  const script = fileURLToPath(new URL('./metrics-api.ts', import.meta.url));
  const child = spawn(process.execPath, ['--expose-gc', ...process.execArgv, script, '--json'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`bench/extras/metrics-api.ts ended with code ${String(code)}`);
  return JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as MetricsApiResult;
}

export function formatMetricsApi(r: MetricsApiResult): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    `${n(r.pods_served)} pods served; store ${r.store_mib} MiB (${r.store_bytes_per_pod} B per pod); ${r.requests} requests per path.`,
    '',
    '| request | p50 ms | p99 ms | target |',
    '| --- | --- | --- | --- |',
    `| \`GET /pods\` (${r.pods_list.response_mib} MiB) | ${r.pods_list.p50_ms} | ${r.pods_list.p99_ms} | p99 ≤ 1,000: ${r.target_met ? 'met' : '**missed**'} |`,
    `| \`GET /pods\`, first after the store changed | ${r.pods_list_after_change_ms} | | |`,
    `| \`GET /namespaces/kube-system/pods\` | ${r.namespace_list.p50_ms} | ${r.namespace_list.p99_ms} | |`,
    `| \`GET /nodes\` | ${r.nodes_list.p50_ms} | ${r.nodes_list.p99_ms} | |`,
  ].join('\n');
}

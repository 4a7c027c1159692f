/**
 * Shared parts of the durable-delivery tests (test/disk-buffer-kafka.test.ts, test/disk-buffer-influxdb.test.ts):
 * the real `heapstream run` as a child process over the simulated cluster, with two sinks:
 *
 * - the sink under test, its buffer on disk (`buffer.type: disk`);
 * - `made`, a file sink writing JSON Lines with a memory buffer: the record of what heapstream made, kept apart
 *   from the disk buffer's code, so the test does not take the buffer's word for what it should hold.
 *
 * The check (`checkDelivered`) states the README's crash bound: with `sync: every_batch` a SIGKILL loses only the
 * batches not yet written to the buffer, made in the last moments (here: only batches of the last cycle recorded),
 * and a batch reaches the sink more than once only as counted by `heapstream_buffer_records_redelivered_total`,
 * which is at most `max_in_flight` per restart.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

/** Nodes of the simulated cluster: one batch per node per cycle. */
export const SIMULATED_NODES = 3;

/** A running `heapstream run`; its stderr is collected. */
export interface HeapstreamProcess {
  readonly child: ChildProcess;
  readonly exit: Promise<number | null>;
  stderr(): string;
}

export function startHeapstream(configFile: string): HeapstreamProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run', '-c', configFile], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exit, stderr: () => stderr };
}

export interface DurableConfig {
  readonly file: string;
  /** The `made` sink's directory. */
  readonly lake: string;
  /** The disk buffer's directory. */
  readonly buffer: string;
  readonly port: number;
}

/**
 * Writes a pipeline file: a 1 s resolution over `SIMULATED_NODES` simulated nodes, the sink under test named
 * `durable` (its type's keys as YAML lines, indented by four spaces; the disk buffer is added here), the `made`
 * sink, and the ops server on `port` for /metrics.
 */
export async function writeDurableConfig(options: {
  readonly dir: string;
  readonly port: number;
  readonly firstAddress: string;
  readonly sinkLines: readonly string[];
}): Promise<DurableConfig> {
  const { dir, port } = options;
  const file = join(dir, 'pipeline.yaml');
  const lake = join(dir, 'made');
  const buffer = join(dir, 'buffer');
  await writeFile(
    file,
    [
      'resolution: 1s',
      'source:',
      '  type: kubelet_summary',
      '  scheme: http',
      `  discovery: { simulated: { nodes: ${SIMULATED_NODES}, pods_per_node: 5, first_address: ${options.firstAddress} } }`,
      `data_dir: ${join(dir, 'data')}`,
      `server: { port: ${port} }`,
      'sinks:',
      '  durable:',
      ...options.sinkLines.map((line) => `    ${line}`),
      '    retry: { initial_backoff: 100ms, max_backoff: 500ms }',
      `    buffer: { type: disk, path: '${buffer}', sync: every_batch }`,
      '  made:',
      '    type: file',
      `    path: '${lake}'`,
      '    format: jsonl',
      '    partition: made',
      '',
    ].join('\n'),
  );
  return { file, lake, buffer, port };
}

/** A batch's identity across sinks: its node and its time (the cycle's tick), in ms. */
export function batchId(node: string, timeMs: number): string {
  return `${node} ${timeMs}`;
}

/**
 * The node batches the `made` sink wrote, from its JSON Lines files (the temporary ones being written too): one
 * per node row (`type: node`). A line cut short by a kill is left out.
 */
export async function madeBatches(lake: string): Promise<Map<string, number>> {
  const made = new Map<string, number>();
  let entries: string[];
  try {
    entries = await readdir(lake, { recursive: true });
  } catch {
    return made;
  }
  for (const entry of entries.filter((name) => /\.jsonl(\.tmp)?$/.test(name))) {
    const text = await readFile(join(lake, entry), 'utf8');
    for (const line of text.split('\n')) {
      let row: { type?: unknown; node?: unknown; batch_time?: unknown };
      try {
        row = JSON.parse(line) as typeof row;
      } catch {
        continue;
      }
      if (row.type !== 'node' || typeof row.node !== 'string' || typeof row.batch_time !== 'string') continue;
      const time = Date.parse(row.batch_time);
      made.set(batchId(row.node, time), time);
    }
  }
  return made;
}

/** Cycles (distinct batch times) with a batch from every simulated node. */
export function wholeCycles(made: ReadonlyMap<string, number>): number {
  const perTime = new Map<number, number>();
  for (const time of made.values()) perTime.set(time, (perTime.get(time) ?? 0) + 1);
  return [...perTime.values()].filter((nodes) => nodes >= SIMULATED_NODES).length;
}

/** A counter or gauge from heapstream's /metrics; 0 when the series is absent. */
export async function metricValue(port: number, name: string, sink: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(`sink="${sink}"`));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/** Polls until `done` holds; the deadline only ends a test that would otherwise hang. */
export async function until(
  done: () => Promise<boolean> | boolean,
  what: string,
  deadlineMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What the checks found, for the test's assertions and its failure messages. */
export interface DeliveryCheck {
  /** Batches made before the kill that never arrived. */
  readonly lost: string[];
  /** Of those, the ones from before the last cycle recorded: the crash bound allows none. */
  readonly lostBeyondBound: string[];
  /** Batches made before the kill that arrived, once or more. */
  readonly delivered: number;
  /** Arrivals beyond the first, over every batch the sink got. */
  readonly duplicates: number;
}

/**
 * Compares what was made before the kill with what the sink's destination holds (`arrivals`: batch id → times it
 * arrived). Only batches of the last cycle made may be missing: they may have been made and recorded by `made`
 * but not yet written to the disk buffer when the kill came.
 */
export function checkDelivered(
  made: ReadonlyMap<string, number>,
  arrivals: ReadonlyMap<string, number>,
): DeliveryCheck {
  const lastCycle = Math.max(...made.values());
  const lost = [...made.keys()].filter((id) => (arrivals.get(id) ?? 0) === 0);
  let duplicates = 0;
  for (const count of arrivals.values()) duplicates += Math.max(0, count - 1);
  return {
    lost,
    lostBeyondBound: lost.filter((id) => made.get(id) !== lastCycle),
    delivered: made.size - lost.length,
    duplicates,
  };
}

/** A real server the scenario stops and starts again (the test's Kafka broker or InfluxDB). */
export interface StoppableServer {
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * The scenario of issue 18's real-server tests: the server is stopped, heapstream makes four whole cycles into its
 * disk buffer and is killed with SIGKILL; restarted with the server still down it logs the replay, then the server
 * comes back and the buffer drains, and heapstream stops cleanly. Returns the batches made before the kill (from
 * the config's JSON Lines sink, which has a memory buffer), how many records the buffer says it redelivered, and
 * the restarted process's log.
 */
export async function killWhileDownThenRecover(
  config: DurableConfig,
  server: StoppableServer,
): Promise<{ made: Map<string, number>; redelivered: number; log: string }> {
  await server.stop();
  const first = startHeapstream(config.file);
  await until(async () => wholeCycles(await madeBatches(config.lake)) >= 4, 'four cycles made', 90_000);
  first.child.kill('SIGKILL');
  expect(await first.exit, first.stderr()).toBeNull();
  const made = await madeBatches(config.lake);

  const second = startHeapstream(config.file);
  await until(() => second.stderr().includes('delivering them first'), 'the replay logged');
  await server.start();
  await until(
    async () => (await metricValue(config.port, 'heapstream_buffer_records', 'durable')) < 3,
    'the buffer drained',
    120_000,
  );
  const redelivered = await metricValue(
    config.port,
    'heapstream_buffer_records_redelivered_total',
    'durable',
  );
  second.child.kill('SIGTERM');
  expect(await second.exit, second.stderr()).toBe(0);
  return { made, redelivered, log: second.stderr() };
}

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeEvent } from '../src/engine/disk-buffer/event-codec.js';
import { HEADER_BYTES, scanRecords } from '../src/engine/disk-buffer/record.js';
import { linesOf, parseLine } from './support/influx-lines.js';

// The real `heapstream run` over the simulated cluster, its InfluxDB sink buffered on disk: the database is down,
// heapstream is killed with SIGKILL, the database comes back, heapstream restarts and delivers what it had buffered.
const repo = join(import.meta.dirname, '..');
let dir: string;
let influx: { url: string; server: Server; up: boolean; lines: string[] };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'heapstream-disk-pipeline-'));
  const state = { up: false, lines: [] as string[] };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = (request.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      if (!state.up) {
        response.writeHead(503).end('down');
        return;
      }
      state.lines.push(...linesOf(body));
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  influx = Object.assign(state, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
  });
});
afterAll(async () => {
  await new Promise((resolve) => influx.server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function start(file: string): ChildProcess & { stderr: NodeJS.ReadableStream } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '-c', file], {
    cwd: repo,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  return child;
}

/** Node batches in the buffer's segment files, as (node, batch time) pairs. */
async function bufferedBatches(buffer: string): Promise<string[]> {
  const found: string[] = [];
  let names: string[];
  try {
    names = (await readdir(buffer)).filter((name) => name.endsWith('.hsb'));
  } catch {
    return found;
  }
  for (const name of names) {
    const data = await readFile(join(buffer, name));
    for (const record of scanRecords(data).records) {
      const start = record.offset + HEADER_BYTES;
      const event = decodeEvent(data.subarray(start, start + record.payloadBytes));
      if (event.kind === 'batch' && event.scope === 'node') found.push(`${event.node} ${event.timestamp}`);
    }
  }
  return found;
}

/** Polls until `done` holds; the deadline only ends a test that would otherwise hang. */
async function until(
  done: () => Promise<boolean> | boolean,
  what: string,
  deadlineMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const exited = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => child.on('close', (code) => resolve(code)));

describe('heapstream run with an InfluxDB sink buffered on disk', () => {
  it('keeps what it could not deliver across a SIGKILL and delivers it after the restart', async () => {
    const buffer = join(dir, 'buffer');
    const file = join(dir, 'pipeline.yaml');
    await writeFile(
      file,
      'resolution: 1s\nsource:\n  type: kubelet_summary\n  scheme: http\n' +
        '  discovery: { simulated: { nodes: 3, pods_per_node: 5, first_address: 127.0.21.1 } }\n' +
        `data_dir: ${join(dir, 'data')}\n` +
        'sinks:\n' +
        `  tsdb:\n    type: influxdb\n    api: v1\n    url: '${influx.url}'\n` +
        '    retry: { initial_backoff: 100ms, max_backoff: 200ms }\n' +
        `    buffer: { type: disk, path: '${buffer}', sync: every_batch }\n`,
    );

    // The database is down: batches pile up in the buffer until heapstream is killed.
    const first = start(file);
    let firstErr = '';
    first.stderr.setEncoding('utf8').on('data', (chunk: string) => (firstErr += chunk));
    const firstExit = exited(first);
    await until(async () => (await bufferedBatches(buffer)).length >= 9, 'three cycles in the buffer');
    first.kill('SIGKILL');
    expect(await firstExit, firstErr).toBeNull();
    const stored = await bufferedBatches(buffer);
    expect(stored.length).toBeGreaterThanOrEqual(9);

    // The database is back: the restarted heapstream delivers what the killed one stored, and new cycles.
    influx.up = true;
    const second = start(file);
    let secondErr = '';
    second.stderr.setEncoding('utf8').on('data', (chunk: string) => (secondErr += chunk));
    const secondExit = exited(second);
    const delivered = (): Set<string> => {
      const pairs = new Set<string>();
      for (const line of influx.lines) {
        const point = parseLine(line);
        const node = point.tags.find(([key]) => key === 'nodename')?.[1];
        const type = point.tags.find(([key]) => key === 'type')?.[1];
        if (node !== undefined && type === 'node') pairs.add(`${node} ${point.timestamp}`);
      }
      return pairs;
    };
    await until(() => stored.every((pair) => delivered().has(pair)), 'the stored batches delivered');
    second.kill('SIGTERM');
    expect(await secondExit, secondErr).toBe(0);
    expect(stored.filter((pair) => !delivered().has(pair))).toEqual([]);
    // Replayed from before the kill, logged as such.
    expect(secondErr).toMatch(/the disk buffer holds \d+ batches from before; delivering them first/);
  });
});

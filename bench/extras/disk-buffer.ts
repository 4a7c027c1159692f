/**
 * Disk buffer throughput: the DiskQueue alone (no pipeline, no sink) on real node batches, in and out, with
 * `sync: every_batch`:
 *
 * - *in*: a cycle's batches offered as scrapes finish them, with no reader, until every one is written and flushed
 *   (a sink that is down: encoded, checksummed, written);
 * - *keeps up*: the same, a reader taking and acknowledging each as soon as it is stored (a sink that keeps up: the
 *   events come from memory, the files are written and deleted);
 * - *out (replay)*: the batches of *in*, the queue closed and opened again, read back from the files and
 *   acknowledged (a restart after an outage: every batch checksummed and decoded).
 *
 * CPU is the process's (user + system, the thread pool's file I/O included); MB are the records' bytes.
 *
 *   npx tsx bench/extras/disk-buffer.ts [--batches 300] [--rounds 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { systemClock } from '../../src/component/clock.js';
import { silentLogger } from '../../src/component/logger.js';
import { Telemetry } from '../../src/component/telemetry.js';
import { DiskQueue } from '../../src/engine/disk-buffer/disk-queue.js';
import type { NodeBatch } from '../../src/model/types.js';
import { summaryBatch } from '../../src/testing/fixtures.js';

const FIXTURE = new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);

export interface DiskBufferRow {
  readonly scenario: 'in' | 'keeps up' | 'out (replay)';
  readonly batches: number;
  /** Bytes of the records, per batch. */
  readonly bytesPerBatch: number;
  readonly batchesPerSecond: number;
  readonly mbPerSecond: number;
  /** Process CPU (user + system) per batch, ms. */
  readonly cpuMsPerBatch: number;
}

function openQueue(dir: string, telemetry: Telemetry): DiskQueue {
  return new DiskQueue({
    dir,
    maxBytes: 2 ** 33,
    sync: 'every_batch',
    syncIntervalMs: 1000,
    whenFull: 'block',
    sink: 'bench',
    logger: silentLogger(),
    clock: systemClock(),
    telemetry,
  });
}

/** Reads and acknowledges until `count` records are done. */
async function drain(queue: DiskQueue, count: number): Promise<void> {
  for (let done = 0; done < count;) {
    const next = await queue.read();
    if (next === undefined) {
      await queue.whenReadable();
      continue;
    }
    await queue.done(next.seq);
    done++;
  }
}

/** Offers a cycle's batches, yielding now and then as scrapes finishing one by one would. */
async function offerCycle(queue: DiskQueue, base: NodeBatch, cycle: number, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    queue.offer({ ...base, node: `node-${i}`, cycle });
    if (i % 3 === 2) await new Promise((resolve) => setImmediate(resolve));
  }
}

async function timed(work: () => Promise<void>): Promise<{ seconds: number; cpuMs: number }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  await work();
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuMs: (used.user + used.system) / 1000 };
}

/**
 * Both scenarios, each the median of `rounds` after one warm-up round.
 *
 * @example
 * formatDiskBuffer(await measureDiskBuffer({ batches: 300, rounds: 5 }));
 */
export async function measureDiskBuffer(options: {
  readonly batches: number;
  readonly rounds: number;
}): Promise<DiskBufferRow[]> {
  const base = summaryBatch(FIXTURE, { node: 'node-0', cycle: 1 });
  const root = mkdtempSync(join(tmpdir(), 'heapstream-bench-disk-'));
  const telemetry = new Telemetry();
  const recordsWritten = () => telemetry.value('heapstream_buffer_records_written_total', { sink: 'bench' });
  try {
    const keepsUp: { seconds: number; cpuMs: number }[] = [];
    const written: { seconds: number; cpuMs: number }[] = [];
    const replay: { seconds: number; cpuMs: number }[] = [];
    let bytes = 0;
    for (let round = 0; round <= options.rounds; round++) {
      const dir = join(root, `keeps-up-${round}`);
      const queue = openQueue(dir, telemetry);
      await queue.ready;
      const run = await timed(async () => {
        const reader = drain(queue, options.batches);
        await offerCycle(queue, base, round + 1, options.batches);
        await reader;
      });
      await queue.close();
      if (round > 0) keepsUp.push(run);

      const replayDir = join(root, `replay-${round}`);
      const writer = openQueue(replayDir, telemetry);
      await writer.ready;
      const wrote = await timed(async () => {
        await offerCycle(writer, base, round + 1, options.batches);
        await writer.flushed();
      });
      if (round > 0) written.push(wrote);
      bytes = writer.bytes / options.batches;
      await writer.close();
      const reader = openQueue(replayDir, telemetry);
      await reader.ready;
      const replayed = await timed(() => drain(reader, options.batches));
      await reader.close();
      if (round > 0) replay.push(replayed);
    }
    if (recordsWritten() === 0) throw new Error('nothing was written');
    const row = (scenario: DiskBufferRow['scenario'], runs: { seconds: number; cpuMs: number }[]) => {
      const seconds = median(runs.map((r) => r.seconds));
      return {
        scenario,
        batches: options.batches,
        bytesPerBatch: bytes,
        batchesPerSecond: options.batches / seconds,
        mbPerSecond: (options.batches * bytes) / seconds / 1e6,
        cpuMsPerBatch: median(runs.map((r) => r.cpuMs)) / options.batches,
      };
    };
    return [row('in', written), row('keeps up', keepsUp), row('out (replay)', replay)];
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

export function formatDiskBuffer(rows: readonly DiskBufferRow[]): string {
  const lines = [
    '| scenario | batches | KB / batch | batches / s | MB / s | CPU ms / batch |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.scenario} | ${r.batches} | ${(r.bytesPerBatch / 1000).toFixed(1)} | ${r.batchesPerSecond.toFixed(0)} | ${r.mbPerSecond.toFixed(1)} | ${r.cpuMsPerBatch.toFixed(3)} |`,
    );
  }
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { batches: { type: 'string', default: '300' }, rounds: { type: 'string', default: '5' } },
  });
  const rows = await measureDiskBuffer({ batches: Number(values.batches), rounds: Number(values.rounds) });
  console.log(formatDiskBuffer(rows));
}

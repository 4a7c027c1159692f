import { execFileSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { mkdirSync, mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sink } from '../src/component/component.js';
import { createLogger } from '../src/component/logger.js';
import { sinkRunnerOptionsSchema } from '../src/config/sink-options.js';
import { SinkRunner } from '../src/engine/sink-runner.js';
import type { MetricBatch } from '../src/model/types.js';
import { testContext } from '../src/testing/context.js';
import { SetValues } from '../src/model/set-values.js';

// A real full disk: a 4 MiB tmpfs holds one sink's disk buffer, its sink is down, and a filler file leaves it
// about 1 MiB, less than the buffer's max_size, so the disk fills before the buffer does.
const TMPFS_BYTES = 4 * 1024 * 1024;
const LEFT_FREE = 1024 * 1024;
let mountPoint: string;
let mounted = false;
/** Runners still open when a test fails: closed before the unmount, whose files they hold. */
const open = new Set<SinkRunner>();

beforeAll(() => {
  mountPoint = mkdtempSync(join(tmpdir(), 'heapstream-disk-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_BYTES}`, 'tmpfs', mountPoint], {
      stdio: 'pipe',
    });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(
      `this test mounts a ${TMPFS_BYTES}-byte tmpfs at ${mountPoint} to fill a real disk, and mounting was refused ` +
        `(${stderr ?? String(err)}): run it as root or with CAP_SYS_ADMIN (e.g. a privileged container)`,
    );
  }
  mounted = true;
});

afterAll(async () => {
  await Promise.all([...open].map((runner) => runner.close()));
  if (mounted) execFileSync('umount', [mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

function batch(node: string, cycle: number): MetricBatch {
  return {
    kind: 'batch',
    scope: 'node',
    node,
    cycle,
    timestamp: cycle * 15_000,
    sets: Array.from({ length: 200 }, (_, i) => ({
      type: 'pod' as const,
      key: `namespace:default/pod:p${i}`,
      labels: { type: 'pod', pod_name: `p${i}`, cycle: String(cycle) },
      values: SetValues.from({ 'cpu/usage': cycle * 1000 + i }),
      labeled: [],
      scrapeTime: cycle * 15_000,
      startTime: 0,
    })),
  };
}

/** A sink that records what it is given, at once when up; when down its writes wait until it comes up. */
function switchableSink(up: boolean): Sink & { written: string[]; up(): void } {
  const written: string[] = [];
  const waiting: (() => void)[] = [];
  let isUp = up;
  return {
    written,
    up() {
      isUp = true;
      for (const release of waiting.splice(0)) release();
    },
    write: (b) => {
      const record = (): void => {
        written.push(b.scope === 'node' ? `${b.node}@${b.cycle}` : `cluster@${b.cycle}`);
      };
      if (isUp) {
        record();
        return Promise.resolve();
      }
      return new Promise<void>((resolve) =>
        waiting.push(() => {
          record();
          resolve();
        }),
      );
    },
    close: () => Promise.resolve(),
  };
}

/** Polls until `done` holds; the deadline only ends a test that would otherwise hang. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A logger whose lines' messages are kept, to see what the disk buffer said. */
function capture(): { logger: ReturnType<typeof createLogger>; messages: string[] } {
  const messages: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      messages.push(String((JSON.parse(chunk.toString()) as { msg?: unknown }).msg));
      callback();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), messages };
}

/** What the disk buffer logs when the disk is full, per policy. */
const LOGGED = {
  drop_oldest: /the disk is full \(when_full: drop_oldest\); deleted its oldest segment with \d+ batches/,
  drop_newest: /the disk is full \(when_full: drop_newest\); dropped \d+ batches/,
  block:
    /the disk is full \(when_full: block\); dropped \d+ batches; taking no batches until a write succeeds/,
} as const;

const NODES = ['n0', 'n1', 'n2'];
const REASON = { drop_oldest: 'drop_oldest', drop_newest: 'drop_newest', block: 'blocked' } as const;

describe('a disk buffer on a disk that fills up (a 4 MiB tmpfs)', () => {
  it.each(['drop_oldest', 'drop_newest', 'block'] as const)(
    'when_full: %s applies to that sink alone, counted; the other sink gets every batch; storing and delivery resume once space returns',
    async (policy) => {
      const dir = join(mountPoint, policy);
      mkdirSync(dir);
      const filler = join(mountPoint, `${policy}.filler`);
      const { bavail, bsize } = statfsSync(mountPoint);
      writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - LEFT_FREE)));

      const { logger, messages } = capture();
      const ctx = testContext({ logger });
      const value = (name: string, labels: Record<string, string>): number =>
        ctx.telemetry.value(name, labels) ?? 0;
      const downSink = switchableSink(false);
      const buffered = new SinkRunner(
        'buffered',
        downSink,
        sinkRunnerOptionsSchema.parse({
          // max_size above what the disk has left: the disk is full first.
          buffer: { type: 'disk', path: join(dir, 'buffer'), max_size: 2 * 1024 * 1024, when_full: policy },
          shutdown_timeout: '10ms',
        }),
        ctx,
      );
      const workingSink = switchableSink(true);
      const working = new SinkRunner('working', workingSink, sinkRunnerOptionsSchema.parse({}), ctx);
      open.add(buffered).add(working);
      const offered: string[] = [];
      let cycle = 0;
      const runCycle = async (): Promise<void> => {
        cycle++;
        for (const node of NODES) {
          const b = batch(node, cycle);
          offered.push(`${node}@${cycle}`);
          buffered.accept(b);
          working.accept(b);
        }
        await buffered.buffered();
      };

      // Cycles until the disk is full and the policy applied, then a few more on the full disk.
      const dropped = (): number =>
        value('heapstream_buffer_records_dropped_total', { sink: 'buffered', reason: REASON[policy] });
      while (dropped() === 0) {
        if (cycle >= 400) throw new Error(`the disk never filled in ${cycle} cycles`);
        await runCycle();
      }
      const fullAt = cycle;
      for (let i = 0; i < 5; i++) await runCycle();
      expect(dropped()).toBeGreaterThan(0);
      expect(
        value('heapstream_sink_dropped_batches_total', { sink: 'buffered', reason: REASON[policy] }),
      ).toBe(dropped());
      await until(() => messages.some((m) => LOGGED[policy].test(m)), `the ${policy} log line`);
      if (policy === 'drop_oldest') {
        // It deleted old segments and wrote the new batches: each of the last cycles is stored.
        expect(
          value('heapstream_buffer_records_dropped_total', { sink: 'buffered', reason: 'disk_full' }),
        ).toBe(0);
      }
      // No write failed on the other sink's side: it got every batch, while the disk was full too.
      await until(
        () => workingSink.written.length === offered.length,
        'the working sink delivered everything',
      );
      expect(workingSink.written).toEqual(offered);
      expect(cycle).toBeGreaterThan(fullAt);

      // Space returns and the sink comes back: new batches are stored and delivered.
      rmSync(filler);
      const writtenBefore = value('heapstream_buffer_records_written_total', { sink: 'buffered' });
      const droppedBefore = dropped();
      await runCycle();
      const afterSpace = cycle;
      await runCycle();
      expect(value('heapstream_buffer_records_written_total', { sink: 'buffered' })).toBeGreaterThan(
        writtenBefore,
      );
      downSink.up();
      const expected = [...NODES.map((n) => `${n}@${afterSpace + 1}`)];
      if (policy !== 'block') expected.push(...NODES.map((n) => `${n}@${afterSpace}`));
      await until(
        () => expected.every((b) => downSink.written.includes(b)),
        `the buffered sink delivered ${expected.join(', ')}`,
      );
      // `block` lets the first batch of a cycle probe the disk; the rest of that cycle may still be refused.
      if (policy !== 'block') expect(dropped()).toBe(droppedBefore);
      else expect(messages.some((m) => /can be written again; taking batches again/.test(m))).toBe(true);

      await Promise.all([buffered.close(), working.close()]);
      open.delete(buffered);
      open.delete(working);
      expect(workingSink.written).toEqual(offered);
      rmSync(dir, { recursive: true, force: true });
    },
  );
});

import { Writable } from 'node:stream';
import { asyncScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { Clock } from '../component/clock.js';
import { createLogger } from '../component/logger.js';
import type { CycleEnd, NodeFailure } from '../model/types.js';
import { HealthChecker } from './health.js';
import { Telemetry } from '../component/telemetry.js';
import { describeNoAnswer, noNodeAnsweredReporter } from './cycle-failures.js';

function fakeClock(start: number): Clock & { set(t: number): void } {
  let now = start;
  return { now: () => now, scheduler: asyncScheduler, set: (t) => (now = t) };
}

function capture(): { logger: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

function mark(cycle: number, expected: number, failures: NodeFailure[]): CycleEnd {
  return {
    kind: 'cycle_end',
    cycle,
    timestamp: cycle * 15_000,
    nodesExpected: expected,
    nodesAnswered: expected - failures.length,
    failures,
    durationMs: 10,
  };
}

const tls = (node: string): NodeFailure => ({
  node,
  reason: 'tls',
  message: `node ${node}: TLS handshake failed: wrong version number (is it plain http?)`,
});
const timeout = (node: string): NodeFailure => ({
  node,
  reason: 'timeout',
  message: `node ${node}: timed out`,
});

describe('a cycle in which no node answered', () => {
  it('is one error line naming the reasons, most common first, and one node’s message', () => {
    expect(describeNoAnswer(mark(3, 3, [timeout('n1'), tls('n2'), tls('n3')]))).toBe(
      'cycle 3: none of the 3 nodes answered (tls: 2, timeout: 1); e.g. node n2: TLS handshake failed: wrong ' +
        'version number (is it plain http?)',
    );
    const busy: NodeFailure = { node: 'n1', reason: 'busy', message: 'the previous scrape is still running' };
    expect(describeNoAnswer(mark(4, 1, [busy]))).toBe(
      'cycle 4: none of the 1 node answered (busy: 1); e.g. node n1: the previous scrape is still running',
    );
  });

  it('is logged at error level at once, then at most once a minute with the count held back', () => {
    const clock = fakeClock(0);
    const { logger, lines } = capture();
    const report = noNodeAnsweredReporter(logger, clock);
    report(mark(1, 2, [tls('n1'), tls('n2')]));
    clock.set(15_000);
    report(mark(2, 2, [tls('n1'), tls('n2')]));
    clock.set(30_000);
    report(mark(3, 2, [tls('n1')])); // one answered: not this line
    report(mark(4, 0, [])); // no node known: nothing to say here
    expect(lines.map((l) => [l.level, l.msg, l.repeated])).toEqual([
      [50, expect.stringMatching(/^cycle 1: none of the 2 nodes answered \(tls: 2\)/), undefined],
    ]);
    clock.set(45_000);
    report(mark(5, 2, [tls('n1'), tls('n2')])); // answered in between: news again, at once
    clock.set(60_000);
    report(mark(6, 2, [tls('n1'), tls('n2')]));
    clock.set(105_000);
    report(mark(7, 2, [tls('n1'), tls('n2')]));
    expect(lines.map((l) => [l.msg, l.repeated, l.reasons])).toEqual([
      [expect.stringMatching(/^cycle 1:/), undefined, { tls: 2 }],
      [expect.stringMatching(/^cycle 5:/), undefined, { tls: 2 }],
      [expect.stringMatching(/^cycle 7:/), 1, { tls: 2 }],
    ]);
  });
});

describe('/readyz after a cycle in which no node answered', () => {
  const options = { maxCycleAgeMs: 45_000, minNodeShare: 0, sinkWindowMs: 60_000, maxLoopStallMs: 10_000 };

  it('is not ready even when min_node_share is 0, and says why', () => {
    const t = new Telemetry();
    const clock = fakeClock(1_000_000);
    const health = new HealthChecker(t, clock, () => [], options);
    t.gauge('heapstream_last_cycle_end_timestamp_seconds').set(995);
    t.gauge('heapstream_cycle_nodes_expected').set(3);
    t.gauge('heapstream_cycle_nodes_answered').set(0);
    expect(health.ready().checks.nodes_answering).toEqual({
      ok: false,
      detail: '0/3 nodes answered the last cycle (need 0%, and at least one)',
    });
    expect(health.ready().ok).toBe(false);
    t.gauge('heapstream_cycle_nodes_answered').set(1);
    expect(health.ready().checks.nodes_answering).toEqual({
      ok: true,
      detail: '1/3 nodes answered the last cycle (need 0%)',
    });
  });
});

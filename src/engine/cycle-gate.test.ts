import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../component/logger.js';
import { testContext } from '../testing/context.js';
import { cycleGate } from './cycle-gate.js';

describe('cycleGate', () => {
  it('lets a cycle through unless a sink holds it back, counting each skip and logging once a minute', () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'warn',
      destination: new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(String(chunk)), done()) }),
    });
    const { telemetry, clock } = testContext();
    let full = false;
    const gate = cycleGate(
      [
        { name: 'lake', isBlocking: () => full },
        { name: 'tsdb', isBlocking: () => false },
      ],
      { telemetry, logger, clock },
    );
    expect(gate({ cycle: 1, time: 0 })).toBe(true);
    full = true;
    expect(gate({ cycle: 2, time: 0 })).toBe(false);
    expect(gate({ cycle: 3, time: 0 })).toBe(false);
    full = false;
    expect(gate({ cycle: 4, time: 0 })).toBe(true);
    expect(telemetry.value('heapstream_cycles_skipped_total', { reason: 'sink_full' })).toBe(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('cycle skipped: the queue of sink lake is full (when_full: block)');
  });
});

import { asyncScheduler } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { LogLimiter } from './log-limiter.js';

describe('LogLimiter', () => {
  it('logs a repeating problem once per interval, with the count held back', () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    const logger = pino({ level: 'info' }, sink);
    let now = 0;
    const limiter = new LogLimiter(logger, { now: () => now, scheduler: asyncScheduler }, 60_000);
    // A node failing every 15 s for an hour: 240 failures.
    for (let i = 0; i < 240; i++) {
      now = i * 15_000;
      limiter.log('warn', 'scrape:n1:timeout', { node: 'n1' }, 'node n1 timed out');
    }
    expect(lines).toHaveLength(60);
    expect(lines[0]).toMatchObject({ node: 'n1', msg: 'node n1 timed out' });
    expect(lines[0]?.repeated).toBeUndefined();
    expect(lines[1]).toMatchObject({ repeated: 3 });
    limiter.clear('scrape:n1:timeout');
    limiter.log('warn', 'scrape:n1:timeout', { node: 'n1' }, 'again');
    expect(lines).toHaveLength(61);
  });
});

import type { Clock } from './clock.js';
import type { Logger } from './logger.js';

type Level = 'warn' | 'error' | 'info';

/**
 * Logs a repeating problem once per interval instead of once per cycle: the first occurrence is logged at once,
 * later ones within the interval are counted, and the next log line carries `repeated: N` (how many were held
 * back). A node down for an hour then logs once a minute, not 240 times.
 *
 * @example
 * const limited = new LogLimiter(logger, clock, 60_000);
 * limited.log('warn', `scrape:${node}:${reason}`, { node, reason }, message);
 */
export class LogLimiter {
  private readonly seen = new Map<string, { lastLogged: number; suppressed: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly intervalMs = 60_000,
  ) {}

  log(level: Level, key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.clock.now();
    const entry = this.seen.get(key);
    if (entry !== undefined && now - entry.lastLogged < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const repeated = entry?.suppressed ?? 0;
    this.seen.set(key, { lastLogged: now, suppressed: 0 });
    this.logger[level](repeated > 0 ? { ...fields, repeated } : fields, message);
    if (this.seen.size > 10_000) this.evict(now);
  }

  /** Forgets a key once the problem is over, so its next occurrence is logged at once. */
  clear(key: string): void {
    this.seen.delete(key);
  }

  private evict(now: number): void {
    for (const [key, entry] of this.seen)
      if (now - entry.lastLogged >= this.intervalMs) this.seen.delete(key);
  }
}

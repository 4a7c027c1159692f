import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level?: string;
  /** Where log lines go; stderr by default so that the stdout sink's output stays clean. */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * Structured JSON logs (pino) on stderr. Components get a child logger bound to their name from `ctx.logger`.
 *
 * @example
 * const log = createLogger({ level: 'debug' }); log.info({ node: 'n1' }, 'scraped');
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    { level: options.level ?? 'info', base: { service: 'heapstream' } },
    options.destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything: for tests and for library users who bring their own. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** What `eventually` watches besides its own deadline. */
export interface EventuallyOptions {
  /** Give up after this long (ms); 60 s by default. */
  readonly ms?: number;
  /** Time between attempts (ms); 200 by default. */
  readonly everyMs?: number;
  /** Give up at once when this says so: the process under test has exited, say. */
  readonly stopped?: () => boolean;
  /** Appended to the error when giving up: the process's log. */
  readonly context?: () => string;
}

/**
 * Polls `attempt` until it gives a value; `undefined` or a throw means "not yet". Gives up at the deadline, or as
 * soon as `stopped()` is true, with an error naming what was awaited, the last failure and the context.
 *
 * @example
 * const page = await eventually('the first cycle', () => fetchSnapshot(), { stopped: () => child.exitCode !== null });
 */
export async function eventually<T>(
  what: string,
  attempt: () => Promise<T | undefined>,
  options: EventuallyOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.ms ?? 60_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline || options.stopped?.() === true) {
      const context = options.context === undefined ? '' : `\n${options.context()}`;
      throw new Error(`timed out waiting for ${what}: ${String(last)}${context}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 200));
  }
}

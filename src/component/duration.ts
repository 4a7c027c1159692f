import { z } from 'zod';

/** The longest delay a Node.js timer can hold (2^31−1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/**
 * Parses a duration string (`500ms`, `15s`, `1.5m`, `2h`) to milliseconds, or returns undefined.
 *
 * @example
 * parseDuration('15s') // 15000
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  const ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * Milliseconds written the way a duration is: in the largest unit that holds them whole.
 *
 * @example
 * formatDuration(3_600_000) // '1h'
 */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] as number;
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** The range a duration key accepts, in milliseconds. */
export interface DurationRange {
  readonly min?: number;
  /** Defaults to MAX_TIMER_MS; only a key that never feeds a timer (a retention age, say) may go beyond it. */
  readonly max?: number;
}

function outOfRange(text: string, min: number, max: number): string {
  const upper =
    max === MAX_TIMER_MS ? '2^31−1 ms (about 24.8 days), the longest a timer can wait' : formatDuration(max);
  if (min > 0) return `"${text}" is out of range: use ${formatDuration(min)} to ${upper}`;
  return `"${text}" is too long: at most ${upper}`;
}

/**
 * A zod schema for a duration string, giving milliseconds. Durations are strings in YAML, never bare numbers.
 * Every duration is at most MAX_TIMER_MS unless its range says otherwise: Node.js fires a longer timer at once,
 * so a `720h` timeout or resolution would spin, not wait.
 *
 * @example
 * duration({ min: 1000, max: 3_600_000 }).parse('15s') // 15000
 */
export function duration(range: DurationRange = {}) {
  const { min = 0, max = MAX_TIMER_MS } = range;
  return z
    .string()
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        ctx.addIssue({
          code: 'custom',
          message: `"${text}" is not a duration: use a number and a unit, e.g. 500ms, 15s, 1m, 2h`,
        });
        return z.NEVER;
      }
      if (ms < min || ms > max) {
        ctx.addIssue({ code: 'custom', message: outOfRange(text, min, max) });
        return z.NEVER;
      }
      return ms;
    })
    .meta({ description: 'A duration such as 500ms, 15s, 1m or 2h.' });
}

import { z } from 'zod';

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
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/** A zod schema for a duration string, giving milliseconds. Durations are strings in YAML, never bare numbers. */
export function duration() {
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
      return ms;
    })
    .meta({ description: 'A duration such as 500ms, 15s, 1m or 2h.' });
}

/** Points of either side, keyed by measurement and sorted tags, for a comparison that ignores line order. */
import { parseLine } from '../support/influx-lines.js';
import type { GoldenPoint } from './golden-fixtures.js';

export interface Point {
  readonly measurement: string;
  /** Unescaped tags, cluster_name included. */
  readonly tags: Readonly<Record<string, string>>;
  readonly value: number;
  /** Written as a line-protocol integer (`…i`). */
  readonly int: boolean;
  /** heapstream's points only: the kubelet sample time (ms) of the set the point came from. */
  readonly sampleTime?: number;
}

/** measurement, then `key=value` pairs in key order: unique per point within one cycle. */
export function pointKey(measurement: string, tags: Readonly<Record<string, string>>): string {
  let key = measurement;
  for (const k of Object.keys(tags).sort()) key += `|${k}=${tags[k]}`;
  return key;
}

/** Reads line-protocol lines (one `value` field each, as both Heapster and the heapster schema write). */
export function pointsOfLines(lines: readonly string[]): Point[] {
  return lines.map((line) => {
    const parsed = parseLine(line);
    const text = parsed.fields.get('value');
    if (text === undefined || parsed.fields.size !== 1) throw new Error(`not a single value field: ${line}`);
    const int = text.endsWith('i');
    return {
      measurement: parsed.measurement,
      tags: Object.fromEntries(parsed.tags),
      value: Number(int ? text.slice(0, -1) : text),
      int,
    };
  });
}

export function pointsOfGolden(points: readonly GoldenPoint[]): Point[] {
  return points.map((p) => {
    if (p.field !== 'value') throw new Error(`unexpected field ${p.field} on ${p.measurement}`);
    return { measurement: p.measurement, tags: p.tags, value: p.value, int: p.int };
  });
}

/** Points by key; throws on a repeated key, which neither side may write within one cycle. */
export function byKey(points: readonly Point[], side: string): Map<string, Point> {
  const map = new Map<string, Point>();
  for (const p of points) {
    const key = pointKey(p.measurement, p.tags);
    if (map.has(key)) throw new Error(`${side}: point ${key} written twice in one cycle`);
    map.set(key, p);
  }
  return map;
}

/** Compares Heapster's points with heapstream's for one fixture, sorting every difference under a rule. */
import type { GoldenFixture } from './golden-fixtures.js';
import { byKey, type Point } from './points.js';
import {
  DIFFERENCE_RULES,
  TAG_RULES,
  type Difference,
  type DifferenceKind,
  type RuleContext,
  type TagRule,
} from './rules.js';

/** Relative tolerance for float values (Heapster prints them with Go's shortest round-trip format). */
const FLOAT_TOLERANCE = 1e-9;

export interface ParityResult {
  readonly fixture: string;
  /** Points both wrote with the same value and the same int/float type. */
  readonly matched: number;
  /** Rule name → points it covered, per difference kind. */
  readonly explained: Readonly<Record<DifferenceKind, ReadonlyMap<string, number>>>;
  /** Tag rule name → points whose tags it removed. */
  readonly tagsRemoved: ReadonlyMap<string, number>;
  /** Differences no rule covers, one readable line each. */
  readonly unexplained: readonly string[];
  readonly heapsterPoints: number;
  readonly heapstreamPoints: number;
}

function sameValue(a: Point, b: Point): boolean {
  if (a.int !== b.int) return false;
  if (a.int) return a.value === b.value;
  if (a.value === b.value) return true;
  return Math.abs(a.value - b.value) <= FLOAT_TOLERANCE * Math.max(Math.abs(a.value), Math.abs(b.value));
}

function withoutTags(
  points: readonly Point[],
  side: TagRule['side'],
  fixture: GoldenFixture,
  removed: Map<string, number>,
): Point[] {
  const rules = TAG_RULES.filter((r) => r.side === side);
  return points.map((point) => {
    let tags: Record<string, string> | undefined;
    for (const rule of rules) {
      if (!rule.tags.some((t) => t in point.tags) || !rule.appliesTo(point, fixture)) continue;
      tags ??= { ...point.tags };
      for (const t of rule.tags) delete tags[t];
      removed.set(rule.name, (removed.get(rule.name) ?? 0) + 1);
    }
    return tags === undefined ? point : { ...point, tags };
  });
}

function describePoint(p: Point | undefined): string {
  return p === undefined ? '—' : `${p.value}${p.int ? 'i' : ''}`;
}

function count(map: Map<string, number>, name: string): void {
  map.set(name, (map.get(name) ?? 0) + 1);
}

/**
 * Keys both sides' points by measurement and sorted tags (after the tag rules), compares the points both wrote,
 * and puts each difference under the first rule that explains it, or in `unexplained`.
 *
 * @example
 * const result = compareWithHeapster(fixture, heapsterPoints, heapstreamPoints);
 * expect(result.unexplained).toEqual([]);
 */
export function compareWithHeapster(
  fixture: GoldenFixture,
  heapsterPoints: readonly Point[],
  heapstreamPoints: readonly Point[],
): ParityResult {
  const tagsRemoved = new Map<string, number>();
  const heapster = byKey(withoutTags(heapsterPoints, 'heapster', fixture, tagsRemoved), 'Heapster');
  const heapstream = byKey(withoutTags(heapstreamPoints, 'heapstream', fixture, tagsRemoved), 'heapstream');
  const ctx: RuleContext = { fixture, heapster, heapstream };

  const differences: Difference[] = [];
  let matched = 0;
  for (const [key, theirs] of heapster) {
    const ours = heapstream.get(key);
    if (ours === undefined) differences.push({ kind: 'only-heapster', key, heapster: theirs });
    else if (sameValue(theirs, ours)) matched++;
    else differences.push({ kind: 'value', key, heapster: theirs, heapstream: ours });
  }
  for (const [key, ours] of heapstream) {
    if (!heapster.has(key)) differences.push({ kind: 'only-heapstream', key, heapstream: ours });
  }

  const explained = {
    value: new Map<string, number>(),
    'only-heapster': new Map<string, number>(),
    'only-heapstream': new Map<string, number>(),
  };
  const unexplained: string[] = [];
  for (const d of differences) {
    const rule = DIFFERENCE_RULES.find((r) => r.kind === d.kind && r.explains(d, ctx));
    if (rule !== undefined) count(explained[d.kind], rule.name);
    else
      unexplained.push(
        `${fixture.name} ${d.kind} ${d.key}: Heapster ${describePoint(d.heapster)}, heapstream ${describePoint(d.heapstream)}`,
      );
  }
  return {
    fixture: fixture.name,
    matched,
    explained,
    tagsRemoved,
    unexplained,
    heapsterPoints: heapster.size,
    heapstreamPoints: heapstream.size,
  };
}

/** The sum of a rule-count map. */
export function total(counts: ReadonlyMap<string, number>): number {
  let sum = 0;
  for (const n of counts.values()) sum += n;
  return sum;
}

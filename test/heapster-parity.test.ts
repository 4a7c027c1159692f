/**
 * Issue 4's parity check: heapstream against the real Heapster binary's output for every fixture directory of
 * ../shared/reference/heapster-golden (new directories are picked up by themselves). The same inputs go through
 * heapstream's decoder and the same chain, are encoded by the InfluxDB sink's heapster schema (cluster_name
 * golden), and are compared point by point, keyed by measurement and sorted tags. Every difference must be
 * covered by a named rule of test/parity/rules.ts; anything else fails.
 */
import { describe, expect, it } from 'vitest';
import { compareWithHeapster, total, type ParityResult } from './parity/compare.js';
import { goldenFixtureNames, loadGoldenFixture, type GoldenFixture } from './parity/golden-fixtures.js';
import { heapsterSchemaPoints, heapstreamBatches } from './parity/heapstream-run.js';
import { byKey, pointsOfGolden, pointsOfLines } from './parity/points.js';
import { DIFFERENCE_RULES, TAG_RULES } from './parity/rules.js';

interface FixtureRun {
  readonly name: string;
  readonly fixture?: GoldenFixture;
  readonly result?: ParityResult;
  readonly error?: unknown;
}

async function runFixture(name: string): Promise<FixtureRun> {
  try {
    const fixture = loadGoldenFixture(name);
    const ours = heapsterSchemaPoints(await heapstreamBatches(fixture));
    const result = compareWithHeapster(fixture, pointsOfGolden(fixture.heapster), ours);
    return { name, fixture, result };
  } catch (error) {
    return { name, error };
  }
}

// Computed before the suites are declared, so that their names carry the counts the lead quotes.
const names = goldenFixtureNames();
const runs = await Promise.all(names.map(runFixture));

function summaryRow(r: ParityResult) {
  return {
    fixture: r.fixture,
    heapster: r.heapsterPoints,
    heapstream: r.heapstreamPoints,
    matched: r.matched,
    'explained value': total(r.explained.value),
    'explained only-Heapster': total(r.explained['only-heapster']),
    'explained only-heapstream': total(r.explained['only-heapstream']),
    unexplained: r.unexplained.length,
  };
}

function resultOf(run: FixtureRun): ParityResult {
  if (run.result === undefined) throw run.error instanceof Error ? run.error : new Error(String(run.error));
  return run.result;
}

describe('heapster-golden: the reference itself', () => {
  it('has every fixture directory the README lists, each with points', () => {
    expect(names.length).toBeGreaterThanOrEqual(14);
    for (const run of runs) expect(run.fixture?.heapster.length ?? 0, run.name).toBeGreaterThan(0);
  });

  // points.jsonl holds the compared cycle; the .lp file kept is that cycle (pairs) or an earlier cycle of the
  // same payload. Both must hold the same points, uptime aside, or the wrong cycle is being compared.
  it.each(runs.map((r) => [r.name, r] as const))(
    '%s: points.jsonl agrees with its cycle-<n>.lp',
    (_, run) => {
      const fixture = run.fixture;
      if (fixture === undefined) throw run.error;
      const { cycle, text } = fixture.lastLineProtocol;
      const fromLines = byKey(pointsOfLines(text.split('\n').filter((l) => l !== '')), `cycle-${cycle}.lp`);
      const fromJson = byKey(pointsOfGolden(fixture.heapster), 'points.jsonl');
      expect([...fromLines.keys()].sort()).toEqual([...fromJson.keys()].sort());
      for (const [key, p] of fromJson) {
        if (p.measurement === 'uptime') continue;
        expect(fromLines.get(key), key).toEqual(p);
      }
      if (cycle !== fixture.comparedCycle) expect(fixture.payloads[cycle - 1]).toBe(fixture.payloads.at(-1));
    },
  );
});

for (const run of runs) {
  const r = run.result;
  const title =
    r === undefined
      ? `${run.name}: not compared`
      : `${r.fixture}: ${r.matched} matched, ${total(r.explained.value)} explained value, ` +
        `${total(r.explained['only-heapster'])} explained only-Heapster, ` +
        `${total(r.explained['only-heapstream'])} explained only-heapstream`;
  describe(title, () => {
    it('every difference from Heapster is explained by a named rule', () => {
      expect(resultOf(run).unexplained).toEqual([]);
    });

    it('most of what Heapster wrote, heapstream writes with the same value', () => {
      const result = resultOf(run);
      // Every point is accounted for once: matched, or under a rule.
      expect(result.matched + total(result.explained.value) + total(result.explained['only-heapster'])).toBe(
        result.heapsterPoints,
      );
      expect(result.matched).toBeGreaterThanOrEqual(0.9 * result.heapsterPoints);
    });
  });
}

describe('heapster-golden parity: summary', () => {
  const results = runs.flatMap((r) => (r.result === undefined ? [] : [r.result]));

  it('prints the per-fixture counts and rule use', () => {
    console.table(results.map(summaryRow));
    const ruleUse = [
      ...TAG_RULES.map((rule) => ({
        rule: rule.name,
        kind: `tag (${rule.side})`,
        points: results.reduce((n, r) => n + (r.tagsRemoved.get(rule.name) ?? 0), 0),
        reason: rule.reason,
      })),
      ...DIFFERENCE_RULES.map((rule) => ({
        rule: rule.name,
        kind: rule.kind,
        points: results.reduce((n, r) => n + (r.explained[rule.kind].get(rule.name) ?? 0), 0),
        reason: rule.reason,
      })),
    ];
    for (const use of ruleUse) console.log(`${use.rule} [${use.kind}] ${use.points} points: ${use.reason}`);
    expect(results).toHaveLength(runs.length);
    // A rule that explains nothing documents a difference that no longer exists: drop it.
    expect(ruleUse.filter((u) => u.points === 0).map((u) => u.rule)).toEqual([]);
  });
});

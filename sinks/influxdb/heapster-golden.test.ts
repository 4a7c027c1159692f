import { readFileSync } from 'node:fs';
import { pipe } from 'rxjs';
import { describe, expect, it } from 'vitest';
import aggregate from '../../processors/aggregate/index.js';
import namespaceEnricher from '../../processors/namespace-enricher/index.js';
import nodeEnricher from '../../processors/node-enricher/index.js';
import podEnricher from '../../processors/pod-enricher/index.js';
import rate from '../../processors/rate/index.js';
import { batchesOf, cycleEnd, runProcessor, testContext } from '../../src/testing/index.js';
import { fixtureMetadata } from '../../test/support/processors.js';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import type { SetType } from '../../src/model/catalogue.js';
import type { LabeledValue, MetricBatch, MetricSet } from '../../src/model/types.js';
import { LineProtocolEncoder } from './encode.js';
import { linesOf, parseLine } from '../../test/support/influx-lines.js';
import { SetValues } from '../../src/model/set-values.js';

const REFERENCE = new URL('../../../shared/reference/', import.meta.url);
const FIXTURES = new URL('../../../shared/fixtures/kubelet/', import.meta.url);

function heapsterEncoder(clusterName: string, excludeTags: string[] = []): LineProtocolEncoder {
  return new LineProtocolEncoder({
    schema: 'heapster',
    clusterName,
    precision: 'ns',
    maxLines: 100_000,
    maxBytes: 1 << 30,
    disableCounterMetrics: false,
    excludeTags,
  });
}

function encodeAll(encoder: LineProtocolEncoder, batches: readonly MetricBatch[]): string[] {
  return batches.flatMap((b) => encoder.encode(b).chunks.flatMap((c) => linesOf(c.body)));
}

/** The line without its timestamp, and with uptime's value (Heapster's wall clock at capture) blanked. */
function comparable(line: string): string {
  const withoutTime = line.slice(0, line.lastIndexOf(' '));
  return withoutTime.startsWith('uptime,')
    ? withoutTime.replace(/ value=\d+i$/, ' value=<uptime>i')
    : withoutTime;
}

describe("schema heapster against Heapster's own POST /write body (heapster-golden-unit)", () => {
  // The sample's metric sets were not recorded, so they are rebuilt from its lines: one set per tag set
  // (resource_id lines become labeled values), plus the labels Heapster received but never wrote (uids, host
  // identity, empty values). Encoding them must give back Heapster's lines exactly.
  const sample = linesOf(
    readFileSync(new URL('heapster-golden-unit/influx_lineprotocol_sample.txt', REFERENCE), 'utf8'),
  );

  function setsFromSample(): MetricSet[] {
    const sets = new Map<
      string,
      { labels: Record<string, string>; values: SetValues; labeled: LabeledValue[] }
    >();
    for (const line of sample) {
      const p = parseLine(line);
      const labels: Record<string, string> = {};
      let resourceId: string | undefined;
      for (const [k, v] of p.tags) {
        if (k === 'resource_id') resourceId = v;
        else if (k !== 'cluster_name') labels[k] = v;
      }
      const key = JSON.stringify(labels);
      let set = sets.get(key);
      if (set === undefined) {
        const withHidden: Record<string, string> = {
          ...labels,
          hostname: 'node-1.example',
          host_id: 'hid-1',
          namespace_id: 'ns-uid',
          ...(labels.pod_name === undefined ? {} : { pod_id: 'pod-uid' }),
          // Heapster left empty labels out; so must we.
          ...(labels.labels === undefined ? { labels: '' } : {}),
        };
        set = { labels: withHidden, values: new SetValues(), labeled: [] };
        sets.set(key, set);
      }
      const text = p.fields.get('value') as string;
      const value = Number(text.endsWith('i') ? text.slice(0, -1) : text);
      if (resourceId === undefined) set.values.set(p.measurement, value);
      else set.labeled.push({ name: p.measurement, labels: { resource_id: resourceId }, value });
    }
    return [...sets.values()].map((s, i) => ({
      type: s.labels.type as SetType,
      key: `set-${i}`,
      labels: s.labels,
      values: s.values,
      labeled: s.labeled,
      scrapeTime: 0,
      startTime: 0,
    }));
  }

  it('gives every one of its 204 lines, byte for byte (ordering aside)', () => {
    const timestampNs = parseLine(sample[0] as string).timestamp;
    const batch: MetricBatch = {
      kind: 'batch',
      scope: 'cluster',
      cycle: 1,
      timestamp: Number(timestampNs.slice(0, -6)),
      sets: setsFromSample(),
    };
    const ours = encodeAll(heapsterEncoder('c1'), [batch]);
    expect(sample).toHaveLength(204);
    expect([...ours].sort()).toEqual([...sample].sort());
  });
});

interface GoldenCase {
  readonly fixture: string;
  readonly node: string;
  /** Payloads scraped in cycles 1, 2…; the last cycle is compared with `cycle-<n>.lp`. */
  readonly payloads: readonly string[];
}

/** Heapster's chain (rate → pod enricher → namespace enricher → aggregators → node autoscaling enricher). */
async function heapstreamCycle(c: GoldenCase, timestampMs: number): Promise<MetricBatch[]> {
  const ctx = testContext({ metadata: fixtureMetadata(c.fixture, c.node), resolutionMs: 10_000 });
  const chain = pipe(
    rate.create(rate.config.parse({}), ctx),
    podEnricher.create(podEnricher.config.parse({}), ctx),
    namespaceEnricher.create(namespaceEnricher.config.parse({}), ctx),
    aggregate.create(aggregate.config.parse({}), ctx),
    nodeEnricher.create(nodeEnricher.config.parse({}), ctx),
  );
  const events = c.payloads.flatMap((payload, i) => {
    const cycle = i + 1;
    const timestamp = timestampMs - (c.payloads.length - cycle) * 10_000;
    const sets = decodeSummary(
      JSON.parse(readFileSync(new URL(`${c.fixture}/${payload}`, FIXTURES), 'utf8')),
      {
        name: c.node,
      },
    );
    return [
      { kind: 'batch' as const, scope: 'node' as const, node: c.node, cycle, timestamp, sets },
      cycleEnd(cycle, 1, { timestamp }),
    ];
  });
  const out = batchesOf(await runProcessor(chain, {}, events));
  const last = c.payloads.length;
  return out.filter((b) => b.cycle === last);
}

describe("schema heapster against the real Heapster binary's output for real fixtures (heapster-golden)", () => {
  // nri-* fixtures come with the pods.json and nodes.yaml Heapster was served, so the chain gets the same
  // metadata. heapstream's pod enricher adds workload_kind/workload_name, which Heapster never had: the
  // exclude_tags key leaves them out, as a user wanting Heapster's exact series would.
  const cases: GoldenCase[] = [
    { fixture: 'nri-1.34', node: 'datagen-1-34', payloads: ['stats-summary.json'] },
    { fixture: 'nri-1.20', node: 'datagen-1-20', payloads: ['stats-summary.json'] },
  ];

  for (const c of cases) {
    it(`${c.fixture}: every line Heapster wrote is written the same way`, async () => {
      const heapster = linesOf(
        readFileSync(new URL(`heapster-golden/${c.fixture}/cycle-1.lp`, REFERENCE), 'utf8'),
      );
      const timestampNs = parseLine(heapster[0] as string).timestamp;
      const batches = await heapstreamCycle(c, Number(timestampNs.slice(0, -6)));
      const ours = encodeAll(heapsterEncoder('golden', ['workload_kind', 'workload_name']), batches);

      // Same timestamp on every line: the batch time, in ns.
      expect(new Set(ours.map((l) => parseLine(l).timestamp))).toEqual(new Set([timestampNs]));
      const theirs = new Set(heapster.map(comparable));
      const mine = new Set(ours.map(comparable));
      const missing = [...theirs].filter((l) => !mine.has(l));
      const extra = [...mine].filter((l) => !theirs.has(l));
      expect(heapster.length).toBeGreaterThan(800);
      // Heapster's node autoscaling enricher wrote cpu/node_utilization=0 when the node had no usage rate
      // yet (a single payload gives none); heapstream's node enricher leaves the ratio out until it has one.
      expect(missing.map((l) => parseLine(l + ' 0').measurement)).toEqual(['cpu/node_utilization']);
      expect(missing[0]).toMatch(/ value=0$/);
      // heapstream writes the aggregates' coverage (nodes_reporting, nodes_expected) on namespace and cluster sets.
      expect(new Set(extra.map((l) => parseLine(l + ' 0').measurement))).toEqual(
        new Set(['nodes_reporting', 'nodes_expected']),
      );
      expect(ours.length).toBe(heapster.length - missing.length + extra.length);
    });
  }
});

/**
 * heapstream's side of the parity test: the golden inputs through heapstream's decoders and Heapster's chain
 * (rate → pod_enricher → namespace_enricher → aggregate → node_enricher), encoded by the InfluxDB sink's
 * heapster schema with cluster_name=golden, exactly as a default pipeline would write them.
 */
import { from, lastValueFrom, pipe, toArray } from 'rxjs';
import aggregate from '../../processors/aggregate/index.js';
import namespaceEnricher from '../../processors/namespace-enricher/index.js';
import nodeEnricher from '../../processors/node-enricher/index.js';
import podEnricher from '../../processors/pod-enricher/index.js';
import rate from '../../processors/rate/index.js';
import { LineProtocolEncoder } from '../../sinks/influxdb/encode.js';
import { linesOf } from '../support/influx-lines.js';
import { decodeContainerInfos } from '../../sources/kubelet-cadvisor/decode.js';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import { MetadataCache } from '../../src/kube/metadata-cache.js';
import type { MetricBatch, MetricSet, PipelineEvent } from '../../src/model/types.js';
import { cycleEnd, testContext } from '../../src/testing/index.js';
import { CYCLE_MS, type GoldenFixture } from './golden-fixtures.js';
import { pointsOfLines, type Point } from './points.js';

/** The metadata cache filled with exactly the objects the fake API server listed. */
function servedMetadata(fixture: GoldenFixture): MetadataCache {
  const cache = new MetadataCache('name');
  for (const node of fixture.nodes) cache.nodeStore.upsert(node);
  for (const pod of fixture.pods) cache.pods.upsert(pod);
  for (const ns of fixture.namespaces) cache.namespaceStore.upsert(ns);
  return cache;
}

function decode(fixture: GoldenFixture, payload: unknown): MetricSet[] {
  const node = { name: fixture.nodeName };
  return fixture.api === 'legacy' ? decodeContainerInfos(payload, node) : decodeSummary(payload, node);
}

/** Every batch heapstream emits for the fixture's compared cycle (node batch and cluster batch). */
export async function heapstreamBatches(fixture: GoldenFixture): Promise<MetricBatch[]> {
  const ctx = testContext({ metadata: servedMetadata(fixture), resolutionMs: CYCLE_MS, id: 'parity' });
  const chain = pipe(
    rate.create(rate.config.parse({}), ctx),
    podEnricher.create(podEnricher.config.parse({}), ctx),
    namespaceEnricher.create(namespaceEnricher.config.parse({}), ctx),
    aggregate.create(aggregate.config.parse({}), ctx),
    nodeEnricher.create(nodeEnricher.config.parse({}), ctx),
  );
  const events: PipelineEvent[] = fixture.payloads.flatMap((payload, i) => {
    const cycle = i + 1;
    const timestamp = cycle * CYCLE_MS;
    return [
      {
        kind: 'batch',
        scope: 'node',
        node: fixture.nodeName,
        cycle,
        timestamp,
        sets: decode(fixture, payload),
      },
      cycleEnd(cycle, 1, { timestamp }),
    ];
  });
  const out = await lastValueFrom(from(events).pipe(chain, toArray()));
  return out.filter((e): e is MetricBatch => e.kind === 'batch' && e.cycle === fixture.comparedCycle);
}

/**
 * The points heapstream's InfluxDB sink writes for these batches (schema heapster, cluster golden), each with the
 * kubelet sample time of its set. Sets are encoded one at a time only to know which set each line came from.
 */
export function heapsterSchemaPoints(batches: readonly MetricBatch[]): Point[] {
  const encoder = new LineProtocolEncoder({
    schema: 'heapster',
    clusterName: 'golden',
    precision: 'ns',
    maxLines: 1_000_000,
    maxBytes: 1 << 30,
    disableCounterMetrics: false,
  });
  return batches.flatMap((batch) =>
    batch.sets.flatMap((set) => {
      const lines = encoder.encode({ ...batch, sets: [set] }).chunks.flatMap((c) => linesOf(c.body));
      return pointsOfLines(lines).map((p) => ({ ...p, sampleTime: set.scrapeTime }));
    }),
  );
}

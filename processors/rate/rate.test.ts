import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import type { MetricSet, NodeBatch, PipelineEvent } from '../../src/model/types.js';
import {
  batchesOf,
  containerSet,
  cycleEnd,
  labeledValue,
  nodeBatch,
  runProcessor,
  setByKey,
  testContext,
} from '../../src/testing/index.js';
import rate from './index.js';
import { rateConfig } from './config.js';

const KEY = 'namespace:ns1/pod:pod1/container:c';
const T0 = Date.UTC(2018, 0, 1);
const START = T0 - 3_600_000;

function c(
  values: Record<string, number>,
  scrapeTime: number,
  startTime = START,
  labeled: MetricSet['labeled'] = [],
) {
  return containerSet('ns1', 'pod1', 'c', 'n1', { values, scrapeTime, startTime, labeled });
}

function rateOf(config: Record<string, unknown> = {}, resolutionMs = 60_000) {
  const ctx = testContext({ resolutionMs, id: 'rate' });
  return { ctx, op: rate.create(rateConfig.parse(config), ctx) };
}

/** Two batches of one node, cycles 1 and 2; returns the second batch's set. */
async function pair(first: MetricSet, second: MetricSet, config: Record<string, unknown> = {}) {
  const { ctx, op } = rateOf(config);
  const out = await runProcessor(op, {}, [nodeBatch('n1', 1, [first]), nodeBatch('n1', 2, [second])]);
  return { ctx, set: setByKey(batchesOf(out)[1], KEY), first: setByKey(batchesOf(out)[0], KEY) };
}

const skipped = (ctx: ReturnType<typeof testContext>, reason: string) =>
  ctx.telemetry.value('heapstream_rate_skipped_total', { processor: 'rate', reason });

describe('rate (Heapster A2, B2)', () => {
  it('A2: cpu/usage_rate truncated to whole millicores, tx_errors_rate per second', async () => {
    const { set, first } = await pair(
      c({ 'cpu/usage': 947130377781, 'network/tx_errors': 0 }, T0 - 60_000),
      c({ 'cpu/usage': 948071062732, 'network/tx_errors': 120 }, T0),
    );
    expect(first.values.get('cpu/usage_rate')).toBeUndefined();
    expect(set.values.get('cpu/usage_rate')).toBe(15);
    expect(set.values.get('network/tx_errors_rate')).toBe(2);
    expect(set.values.get('cpu/usage')).toBe(948071062732);
  });

  it('B2 case B: every counter, labeled disk io matched by resource_id, gauges untouched', async () => {
    const disk = (name: string, id: string, value: number) => ({ name, labels: { resource_id: id }, value });
    const f = (k: number) =>
      c(
        {
          'cpu/usage': 1e9 * k,
          'memory/page_faults': 100 * k,
          'memory/major_page_faults': 3 * k,
          'network/rx': 1000 * k,
          'network/rx_errors': k,
          'network/tx': 2000 * k,
          'network/tx_errors': 0,
          'memory/usage': 5555,
        },
        k === 10 ? T0 : T0 + 30_000,
        START,
        [
          disk('disk/io_read_bytes', 'sda', 4096 * k),
          disk('disk/io_read_bytes', 'sdb', 10 * k),
          disk('disk/io_write_bytes', 'sda', 8192 * k),
        ],
      );
    const { set } = await pair(f(10), f(40));
    expect(set.values).toEqual({
      ...f(40).values.toJSON(),
      'cpu/usage_rate': 1000,
      'memory/page_faults_rate': 100,
      'memory/major_page_faults_rate': 3,
      'network/rx_rate': 1000,
      'network/rx_errors_rate': 1,
      'network/tx_rate': 2000,
      'network/tx_errors_rate': 0,
    });
    expect(labeledValue(set, 'disk/io_read_bytes_rate', 'sda')).toBe(4096);
    expect(labeledValue(set, 'disk/io_read_bytes_rate', 'sdb')).toBe(10);
    expect(labeledValue(set, 'disk/io_write_bytes_rate', 'sda')).toBe(8192);
    expect(set.labeled).toHaveLength(6);
  });

  it('B2 case C: a container restart (start time changed) gives no rate, counted as restarted', async () => {
    const { set, ctx } = await pair(
      c({ 'cpu/usage': 5e9 }, T0),
      c({ 'cpu/usage': 1e9 }, T0 + 60_000, START + 1000),
    );
    expect(set.values.get('cpu/usage_rate')).toBeUndefined();
    expect(skipped(ctx, 'restarted')).toBe(1);
  });

  it('B2 case D (diverges): a counter that fell with the same start time gives no rate, never a negative one', async () => {
    const { set, ctx } = await pair(
      c({ 'cpu/usage': 5e9, 'network/rx': 1000, 'network/tx': 10 }, T0),
      c({ 'cpu/usage': 2e9, 'network/rx': 400, 'network/tx': 70 }, T0 + 60_000),
    );
    expect(set.values.get('cpu/usage_rate')).toBeUndefined();
    expect(set.values.get('network/rx_rate')).toBeUndefined();
    expect(set.values.get('network/tx_rate')).toBe(1);
    expect(skipped(ctx, 'counter_decreased')).toBe(2);
  });

  it('B2 case E: a scrape time that did not advance gives no rate', async () => {
    const { set, ctx } = await pair(c({ 'cpu/usage': 6e9 }, T0), c({ 'cpu/usage': 9e9 }, T0));
    expect(set.values.get('cpu/usage_rate')).toBeUndefined();
    expect(skipped(ctx, 'not_later')).toBe(1);
  });

  it('B2 case G: a 1 h gap gives 999 (truncated) with max_gap 2h, and no rate with the default 3 × resolution', async () => {
    // Fresh sets for each run: a processor owns what it is given and fills it in place.
    const first = () => c({ 'cpu/usage': 0 }, T0);
    const second = () => c({ 'cpu/usage': 3599999999999 }, T0 + 3_600_000);
    expect((await pair(first(), second(), { max_gap: '2h' })).set.values.get('cpu/usage_rate')).toBe(999);
    const byDefault = await pair(first(), second());
    expect(byDefault.set.values.get('cpu/usage_rate')).toBeUndefined();
    expect(skipped(byDefault.ctx, 'gap_too_long')).toBe(1);
  });

  it('restarts a series after a skip: the sample after a restart is the new baseline', async () => {
    const { op, ctx } = rateOf();
    const out = await runProcessor(op, {}, [
      nodeBatch('n1', 1, [c({ 'cpu/usage': 50e9 }, T0)]),
      nodeBatch('n1', 2, [c({ 'cpu/usage': 1e9 }, T0 + 60_000, START + 5)]),
      nodeBatch('n1', 3, [c({ 'cpu/usage': 31e9 }, T0 + 120_000, START + 5)]),
    ]);
    const rates = batchesOf(out).map((b) => setByKey(b, KEY).values.get('cpu/usage_rate'));
    expect(rates).toEqual([undefined, undefined, 500]);
    expect(skipped(ctx, 'restarted')).toBe(1);
  });

  it('keeps state per node: the same key on two nodes are two series', async () => {
    const { op } = rateOf();
    const out = await runProcessor(op, {}, [
      nodeBatch('a', 1, [c({ 'cpu/usage': 0 }, T0)]),
      nodeBatch('b', 1, [c({ 'cpu/usage': 100e9 }, T0)]),
      nodeBatch('a', 2, [c({ 'cpu/usage': 60e9 }, T0 + 60_000)]),
      nodeBatch('b', 2, [c({ 'cpu/usage': 130e9 }, T0 + 60_000)]),
    ]);
    const rates = batchesOf(out).map((b) => setByKey(b, KEY).values.get('cpu/usage_rate'));
    expect(rates).toEqual([undefined, undefined, 1000, 500]);
  });

  it('evicts a series absent from its node’s latest batch', async () => {
    const other = containerSet('ns1', 'pod1', 'other', 'n1', { values: { 'cpu/usage': 0 }, scrapeTime: T0 });
    const { op } = rateOf();
    const out = await runProcessor(op, {}, [
      nodeBatch('n1', 1, [c({ 'cpu/usage': 0 }, T0), other]),
      nodeBatch('n1', 2, [other]),
      nodeBatch('n1', 3, [c({ 'cpu/usage': 60e9 }, T0 + 40_000)]),
    ]);
    expect(setByKey(batchesOf(out)[2], KEY).values.get('cpu/usage_rate')).toBeUndefined();
  });

  it('forgets a node absent longer than max_gap, and passes cycle marks and cluster batches on', async () => {
    const { op } = rateOf({}, 60_000);
    const mark = cycleEnd(2, 1);
    const cluster: PipelineEvent = { kind: 'batch', scope: 'cluster', cycle: 2, timestamp: 0, sets: [] };
    const out = await runProcessor(op, {}, [
      nodeBatch('n1', 1, [c({ 'cpu/usage': 0 }, T0)]),
      cluster,
      mark,
      cycleEnd(6, 1),
      nodeBatch('n1', 7, [c({ 'cpu/usage': 60e9 }, T0 + 60_000)]),
    ]);
    expect(out[1]).toBe(cluster);
    expect(out[2]).toBe(mark);
    expect(setByKey(out[4] as NodeBatch, KEY).values.get('cpu/usage_rate')).toBeUndefined();
  });

  it('passes a batch without counters on as the same object', async () => {
    const { op } = rateOf();
    const batch = nodeBatch('n1', 1, [c({ 'memory/usage': 1 }, T0)]);
    const out = await runProcessor(op, {}, [batch]);
    expect(out[0]).toBe(batch);
  });

  it('adds rates to the batch, sets and values it received, in place (they are its own), without a copy', async () => {
    const { op } = rateOf();
    const disk = { name: 'disk/io_read_bytes', labels: { resource_id: 'sda' }, value: 0 };
    const second = nodeBatch('n1', 2, [
      c({ 'cpu/usage': 60e9 }, T0 + 60_000, START, [{ ...disk, value: 6000 }]),
    ]);
    const set = second.sets[0] as MetricSet;
    const values = set.values;
    const labeled = set.labeled;
    const out = await runProcessor(op, {}, [
      nodeBatch('n1', 1, [c({ 'cpu/usage': 0 }, T0, START, [disk])]),
      second,
    ]);
    expect(out[1]).toBe(second);
    expect(setByKey(second, KEY)).toBe(set);
    expect(set.values).toBe(values);
    expect(values.get('cpu/usage_rate')).toBe(1000);
    expect(set.labeled).toBe(labeled);
    expect(labeledValue(set, 'disk/io_read_bytes_rate', 'sda')).toBe(100);
  });

  it('rejects unknown keys and bad durations', () => {
    expect(rateConfig.safeParse({ max_gpa: '1m' }).success).toBe(false);
    expect(rateConfig.safeParse({ max_gap: '45' }).success).toBe(false);
    expect(rateConfig.parse({ max_gap: '45s' }).max_gap).toBe(45_000);
  });
});

describe('rate on real payloads (otel-minikube, two scrapes 2 s apart)', () => {
  const read = (file: string): unknown =>
    JSON.parse(
      readFileSync(
        new URL(`../../../shared/fixtures/kubelet/otel-minikube/${file}`, import.meta.url),
        'utf8',
      ),
    );

  it('gives cpu/usage_rate 1000 to every container, system container and the node, as Heapster did', async () => {
    const first = decodeSummary(read('stats-summary.json'), { name: 'minikube' });
    const second = decodeSummary(read('stats-summary-second-scrape.json'), { name: 'minikube' });
    const { op, ctx } = rateOf({}, 10_000);
    const out = batchesOf(
      await runProcessor(op, {}, [nodeBatch('minikube', 1, first), nodeBatch('minikube', 2, second)]),
    );
    const sets = out[1]?.sets ?? [];
    const withCpu = sets.filter(
      (s) =>
        (s.type === 'pod_container' || s.type === 'sys_container' || s.type === 'node') &&
        s.values.has('cpu/usage'),
    );
    expect(withCpu.length).toBeGreaterThan(5);
    for (const s of withCpu) expect([s.key, s.values.get('cpu/usage_rate')]).toEqual([s.key, 1000]);
    const node = setByKey(out[1], 'node:minikube');
    expect(node.values.get('network/rx_rate')).toBe(0);
    expect(node.values.get('memory/page_faults_rate')).toBe(0);
    // Nothing negative or absurd anywhere.
    for (const s of sets) {
      for (const [name, v] of s.values) {
        if (name.endsWith('_rate')) expect(v).toBeGreaterThanOrEqual(0);
      }
    }
    expect(ctx.telemetry.total('heapstream_rate_skipped_total', { reason: 'counter_decreased' })).toBe(0);
  });
});

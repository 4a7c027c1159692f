/**
 * One hostile kubelet next to a good one, over real HTTP, through each of the three kubelet sources: values a
 * metric cannot hold, labels that are not strings, answers of nothing but NaN, and answers over a limit. The
 * hostile node's problem is counted and logged with its name; the good node, and the hostile node's other
 * sets, are delivered untouched. The payloads are real captures, mutated in memory.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { lastValueFrom, of, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceContext } from '../src/component/component.js';
import { Telemetry } from '../src/component/telemetry.js';
import type { CycleEnd, MetricSet, NodeBatch, PipelineEvent } from '../src/model/types.js';
import { testContext } from '../src/testing/context.js';
import summarySource from '../sources/kubelet-summary/index.js';
import cadvisorSource from '../sources/kubelet-cadvisor/index.js';
import prometheusSource from '../sources/kubelet-prometheus/index.js';

const FIXTURES = new URL('../../shared/fixtures/', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, FIXTURES), 'utf8');
const SUMMARY = read('kubelet/nri-1.34/stats-summary.json');
const CADVISOR = read('cadvisor/seed-stats-container.json');
const METRICS_CADVISOR = read('prometheus/nri-1.27-metrics-cadvisor.prom');
const TICK = { cycle: 3, time: 1_694_017_540_000 };

type Json = Record<string, unknown>;

/** The object at `path` inside a parsed payload (numbers index arrays; negative ones count from the end). */
function at(value: unknown, ...path: (string | number)[]): Json {
  let current = value;
  for (const step of path) {
    current = typeof step === 'number' ? (current as unknown[]).at(step) : (current as Json)[step];
  }
  return current as Json;
}

/** One of the three sources: its type, a good payload, and how to put a value into its node's fs limit. */
interface SourceCase {
  readonly source: string;
  readonly good: string;
  readonly withFsLimit: (value: string) => string;
  readonly withCpuUsage: (value: string) => string;
  readonly run: (nodes: NodeServer[], extra?: Json) => Promise<Run>;
}

/** Splices a raw JSON number into the text, so values JSON.stringify cannot write (1e999) go in as they are. */
function spliceJson(text: string, change: (payload: Json, marker: string) => void, value: string): string {
  const payload = JSON.parse(text) as Json;
  change(payload, '@@HOSTILE@@');
  return JSON.stringify(payload).replace('"@@HOSTILE@@"', value);
}

const cadvisorRoot = (payload: Json): Json => at(payload, '/', 'stats', -1);

/** The first line that starts with `prefix`, its value replaced. */
function replaceSample(text: string, prefix: string, value: string): string {
  const start = text.indexOf(`\n${prefix}`) + 1;
  const end = text.indexOf('\n', start);
  const [series, , timestamp] = text.slice(start, end).split(' ');
  return `${text.slice(0, start)}${series} ${value} ${timestamp}${text.slice(end)}`;
}

const SOURCES: SourceCase[] = [
  {
    source: 'kubelet_summary',
    good: SUMMARY,
    withFsLimit: (v) => spliceJson(SUMMARY, (p, m) => (at(p, 'node', 'fs')['capacityBytes'] = m), v),
    withCpuUsage: (v) => spliceJson(SUMMARY, (p, m) => (at(p, 'node', 'cpu')['usageCoreNanoSeconds'] = m), v),
    run: (nodes, extra) => runSource(summarySource, nodes, extra),
  },
  {
    source: 'kubelet_cadvisor',
    good: CADVISOR,
    withFsLimit: (v) =>
      spliceJson(CADVISOR, (p, m) => (at(cadvisorRoot(p), 'filesystem', 0)['capacity'] = m), v),
    withCpuUsage: (v) =>
      spliceJson(CADVISOR, (p, m) => (at(cadvisorRoot(p), 'cpu', 'usage')['total'] = m), v),
    run: (nodes, extra) => runSource(cadvisorSource, nodes, { api: 'kubelet', ...extra }),
  },
  {
    source: 'kubelet_prometheus',
    good: METRICS_CADVISOR,
    withFsLimit: (v) =>
      replaceSample(METRICS_CADVISOR, 'container_fs_limit_bytes{container="",device="/dev/vda1",id="/"', v),
    withCpuUsage: (v) =>
      replaceSample(METRICS_CADVISOR, 'container_cpu_usage_seconds_total{container="",cpu="total",id="/"', v),
    run: (nodes, extra) => runSource(prometheusSource, nodes, { endpoint: 'cadvisor', ...extra }),
  },
];

interface NodeServer {
  readonly name: string;
  readonly server: Server;
  readonly port: number;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A fake kubelet answering every GET and POST with `body`. */
async function serve(name: string, body: string): Promise<NodeServer> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200).end(body));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { name, server, port: (server.address() as AddressInfo).port };
}

interface Run {
  readonly events: PipelineEvent[];
  readonly telemetry: Telemetry;
  readonly warnings: string[];
  batch(node: string): NodeBatch | undefined;
  end(): CycleEnd;
}

interface AnySource {
  readonly config: { parse(input: unknown): unknown };
  create(config: never, ctx: SourceContext): import('rxjs').Observable<PipelineEvent>;
}

async function runSource(source: AnySource, nodes: NodeServer[], extra: Json = {}): Promise<Run> {
  const warnings: string[] = [];
  const lines = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const entry = JSON.parse(chunk.toString()) as { level: number; msg: string };
      if (entry.level === 40) warnings.push(entry.msg);
      done();
    },
  });
  const telemetry = new Telemetry();
  const ctx: SourceContext = {
    ...testContext({ logger: pino({ level: 'warn' }, lines), telemetry, id: 'src' }),
    ticks: of(TICK),
    provideMetadata: () => {},
  };
  const config = source.config.parse({
    scheme: 'http',
    discovery: { static: nodes.map((n) => ({ name: n.name, address: '127.0.0.1', port: n.port })) },
    ...extra,
  });
  const events = await lastValueFrom(source.create(config as never, ctx).pipe(toArray()));
  await new Promise((resolve) => setImmediate(resolve));
  return {
    events,
    telemetry,
    warnings,
    batch: (node) =>
      events.find((e): e is NodeBatch => e.kind === 'batch' && e.scope === 'node' && e.node === node),
    end: () => events.find((e): e is CycleEnd => e.kind === 'cycle_end') as CycleEnd,
  };
}

const nodeSet = (batch: NodeBatch | undefined): MetricSet | undefined =>
  batch?.sets.find((s) => s.type === 'node');
const fsLimits = (set: MetricSet | undefined): number[] =>
  (set?.labeled ?? []).filter((v) => v.name === 'filesystem/limit').map((v) => v.value);
const omitted = (run: Run, node: string): number =>
  run.telemetry.value('heapstream_values_omitted_total', { source: 'src', node, reason: 'out_of_range' });

// The same hostile numbers through every source: the kubelet's uint64 "unknown" sentinel, 2^63 (one past
// int64), 1.2e32, a negative value, and infinity (1e999 in JSON, +Inf in Prometheus text).
const HOSTILE: [string, string, string][] = [
  ['uint64 sentinel', '18446744073709551615', '1.8446744073709552e+19'],
  ['2^63', '9223372036854775808', '9.223372036854775808e+18'],
  ['1.2e32', '1.2e32', '1.2e+32'],
  ['negative', '-5', '-5'],
  ['infinity', '1e999', '+Inf'],
];

describe.each(SOURCES)('$source: values a metric cannot hold', (src) => {
  it.each(HOSTILE)('omits and counts %s, names node and place, keeps the rest', async (_n, json, prom) => {
    const value = src.source === 'kubelet_prometheus' ? prom : json;
    const good = await serve('good', src.good);
    const hostile = await serve('hostile', src.withFsLimit(value));
    const run = await src.run([good, hostile]);

    expect(run.end()).toMatchObject({ nodesAnswered: 2, failures: [] });
    const goodLimits = fsLimits(nodeSet(run.batch('good')));
    const hostileLimits = fsLimits(nodeSet(run.batch('hostile')));
    expect(goodLimits.length).toBeGreaterThan(0);
    expect(hostileLimits).toHaveLength(goodLimits.length - 1);
    for (const v of hostileLimits) expect(v >= 0 && v < 2 ** 63).toBe(true);
    expect(run.batch('hostile')?.sets).toHaveLength(run.batch('good')?.sets.length ?? -1);
    expect(omitted(run, 'hostile')).toBe(1);
    expect(omitted(run, 'good')).toBe(0);
    expect(run.warnings).toHaveLength(1);
    expect(run.warnings[0]).toMatch(
      /^node hostile: 1 value\(s\) out of range omitted; first: .*filesystem\/limit/,
    );
  });

  it('omits and counts a negative counter (cpu/usage) the same way', async () => {
    const hostile = await serve('hostile', src.withCpuUsage('-1'));
    const run = await src.run([hostile]);
    expect(run.end().failures).toEqual([]);
    expect(nodeSet(run.batch('hostile'))?.values.get('cpu/usage')).toBeUndefined();
    expect(nodeSet(run.batch('hostile'))?.values.get('memory/usage')).toBeGreaterThan(0);
    expect(omitted(run, 'hostile')).toBe(1);
  });
});

describe('a node that answers nothing but NaN or Inf', () => {
  it('is answered with no usable value, warned about by name and counted', async () => {
    // Every container_* sample gets NaN, a few +Inf.
    const nan = METRICS_CADVISOR.split('\n')
      .map((line, i) => {
        if (!line.startsWith('container_') || !line.includes('}')) return line;
        const labelsEnd = line.lastIndexOf('}') + 1;
        const [, , timestamp] = line.slice(labelsEnd).split(' ');
        const bad = i % 50 === 0 ? '+Inf' : 'NaN';
        return `${line.slice(0, labelsEnd)} ${bad}${timestamp === undefined ? '' : ` ${timestamp}`}`;
      })
      .join('\n');
    const good = await serve('good', METRICS_CADVISOR);
    const hostile = await serve('only-nan', nan);
    const run = await SOURCES[2]!.run([good, hostile]);

    expect(run.end().failures).toEqual([]);
    expect(run.batch('good')?.sets.length).toBeGreaterThan(0);
    expect(run.batch('only-nan')?.sets ?? []).toEqual([]);
    expect(run.telemetry.value('heapstream_scrapes_empty_total', { source: 'src', node: 'only-nan' })).toBe(
      1,
    );
    expect(run.telemetry.value('heapstream_scrapes_empty_total', { source: 'src', node: 'good' })).toBe(0);
    expect(omitted(run, 'only-nan')).toBeGreaterThan(100);
    expect(run.warnings).toContainEqual(
      expect.stringMatching(/^node only-nan answered without a usable value/),
    );
  });
});

describe('kubelet_cadvisor: labels that are not strings', () => {
  /** The seed payload with one pod container added, labeled `labels`. */
  function withContainer(labels: Json, image: unknown = 'nginx'): string {
    const payload = JSON.parse(CADVISOR) as Json;
    const root = payload['/'] as Json;
    const container = (name: string, podLabels: Json, img: unknown): Json => ({
      name,
      spec: { ...at(root, 'spec'), labels: podLabels, image: img },
      stats: root['stats'],
    });
    const pod = { 'io.kubernetes.pod.namespace': 'ns', 'io.kubernetes.pod.name': 'web' };
    payload['/kubepods/besteffort/podA/bad'] = container(
      '/kubepods/besteffort/podA/bad',
      { ...pod, 'io.kubernetes.container.name': 'bad', ...labels },
      image,
    );
    payload['/kubepods/besteffort/podA/ok'] = container(
      '/kubepods/besteffort/podA/ok',
      { ...pod, 'io.kubernetes.container.name': 'ok' },
      'nginx',
    );
    return JSON.stringify(payload);
  }

  it.each([
    [
      'a number',
      { app: 42 },
      '["/kubepods/besteffort/podA/bad"].spec.labels["app"]: expected a string, got 42',
    ],
    [
      'an array as the pod name',
      { 'io.kubernetes.pod.name': ['web'] },
      '["/kubepods/besteffort/podA/bad"].spec.labels["io.kubernetes.pod.name"]: expected a string, got an array of 1',
    ],
  ])('leaves out the set whose labels hold %s, names the path, keeps the rest', async (_n, labels, path) => {
    const good = await serve('good', CADVISOR);
    const hostile = await serve('hostile', withContainer(labels));
    const run = await SOURCES[1]!.run([good, hostile]);

    expect(run.end().failures).toEqual([]);
    const keys = run.batch('hostile')?.sets.map((s) => s.key) ?? [];
    expect(keys).toContain('namespace:ns/pod:web/container:ok');
    expect(keys).not.toContain('namespace:ns/pod:web/container:bad');
    for (const set of run.batch('hostile')?.sets ?? []) {
      for (const v of Object.values(set.labels)) expect(typeof v).toBe('string');
    }
    expect(
      run.telemetry.value('heapstream_sets_omitted_total', {
        source: 'src',
        node: 'hostile',
        reason: 'invalid_label',
      }),
    ).toBe(1);
    expect(run.warnings).toContainEqual(expect.stringContaining(`node hostile: 1 set(s)`));
    expect(run.warnings).toContainEqual(expect.stringContaining(path));
  });

  it('leaves out a container whose image is not a string', async () => {
    const hostile = await serve('hostile', withContainer({}, { name: 'nginx' }));
    const run = await SOURCES[1]!.run([hostile]);
    const keys = run.batch('hostile')?.sets.map((s) => s.key) ?? [];
    expect(keys).toContain('namespace:ns/pod:web/container:ok');
    expect(keys).not.toContain('namespace:ns/pod:web/container:bad');
    expect(run.warnings).toContainEqual(
      expect.stringContaining(
        '["/kubepods/besteffort/podA/bad"].spec.image: expected a string, got an object',
      ),
    );
  });
});

describe('limits: a node over one fails alone with too_large, naming the node and the key', () => {
  /** The Summary with `count` pods, each a copy of the first. */
  function summaryWithPods(count: number): string {
    const payload = JSON.parse(SUMMARY) as Json;
    const pod = at(payload, 'pods', 0);
    payload['pods'] = Array.from({ length: count }, (_, i) => ({
      ...pod,
      podRef: { ...at(pod, 'podRef'), name: `p${i}` },
    }));
    return JSON.stringify(payload);
  }

  it('max_sets_per_node (kubelet_summary)', async () => {
    const good = await serve('good', SUMMARY);
    const big = await serve('big', summaryWithPods(60));
    const run = await SOURCES[0]!.run([good, big], { max_sets_per_node: 50 });
    expect(run.batch('good')?.sets.length).toBeGreaterThan(0);
    expect(run.batch('big')).toBeUndefined();
    expect(run.end().failures).toEqual([
      {
        node: 'big',
        reason: 'too_large',
        message: expect.stringContaining('max_sets_per_node (50)') as string,
      },
    ]);
    expect(run.end().failures[0]?.message).toMatch(/^node big: /);
    expect(
      run.telemetry.value('heapstream_scrape_errors_total', {
        source: 'src',
        node: 'big',
        reason: 'too_large',
      }),
    ).toBe(1);
  });

  it('max_sets_per_node (kubelet_cadvisor counts containers)', async () => {
    const payload = JSON.parse(CADVISOR) as Json;
    for (let i = 0; i < 5; i++)
      payload[`/system.slice/s${i}.service`] = { ...at(payload, '/'), name: `/s${i}` };
    const good = await serve('good', CADVISOR);
    const big = await serve('big', JSON.stringify(payload));
    const run = await SOURCES[1]!.run([good, big], { max_sets_per_node: 3 });
    expect(run.batch('good')?.sets.length).toBe(1);
    expect(run.end().failures.map((f) => [f.node, f.reason])).toEqual([['big', 'too_large']]);
    expect(run.end().failures[0]?.message).toContain('6 containers, over max_sets_per_node (3)');
  });

  it('max_sets_per_node and max_series (kubelet_prometheus)', async () => {
    const good = await serve('good', METRICS_CADVISOR);
    const big = await serve('big', METRICS_CADVISOR);
    const bySets = await SOURCES[2]!.run([big], { max_sets_per_node: 10 });
    expect(bySets.end().failures[0]?.message).toContain('max_sets_per_node (10)');
    const samples = METRICS_CADVISOR.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
    const exact = await SOURCES[2]!.run([good], { max_series: samples });
    expect(exact.batch('good')).toBeDefined();
    const run = await SOURCES[2]!.run([good, big], { max_series: samples - 1 });
    expect(
      run
        .end()
        .failures.map((f) => f.node)
        .sort(),
    ).toEqual(['big', 'good']);
    expect(run.end().failures[0]).toEqual({
      node: expect.any(String) as string,
      reason: 'too_large',
      message: expect.stringMatching(
        /^node \w+: \/metrics\/cadvisor holds more than max_series \(\d+\) samples; stopped at line \d+/,
      ) as string,
    });
  });
});

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { influxSinkConfig } from '../sinks/influxdb/config.js';
import { influxSink } from '../sinks/influxdb/influx-sink.js';
import { pointKey } from './support/influx-lines.js';
import type { Sink } from '../src/component/component.js';
import { createLogger } from '../src/component/logger.js';
import { SinkRunner } from '../src/engine/sink-runner.js';
import { sinkRunnerOptionsSchema } from '../src/config/sink-options.js';
import { Telemetry } from '../src/component/telemetry.js';
import type { MetricBatch, MetricSet, NodeBatch } from '../src/model/types.js';
import { summaryBatch } from '../src/testing/fixtures.js';
import { testContext } from '../src/testing/context.js';
import { removeOnExit } from './services/cleanup.js';
import { answersWith, startHttpService, type HttpService } from './services/http-service.js';
import { startInfluxDB1, startVictoriaMetrics } from './services/influxdb.js';
import { makeServiceTempDir } from './services/paths.js';
import { freeLoopbackPort } from './services/ports.js';
import { ManagedProcess } from './services/process.js';
import { SetValues } from '../src/model/set-values.js';

// The InfluxDB sink against real servers: InfluxDB 1.6 (api v1, read back with InfluxQL) and VictoriaMetrics
// (api v2 through @influxdata/influxdb-client, read back with /api/v1/export), on real kubelet payloads.

const FIXTURES = new URL('../../shared/fixtures/kubelet/', import.meta.url);
const T0 = Date.parse('2026-11-01T00:00:00Z');

/** A set whose labels need every kind of escaping, to prove they survive the round trip. */
const awkward: MetricSet = {
  type: 'pod',
  key: 'namespace:team a/pod:web,1',
  labels: {
    type: 'pod',
    nodename: 'node-1',
    namespace_name: 'team a',
    pod_name: 'web,1=x',
    labels: 'app:web,tier:fe,quote:"q",back:\\x,uni:日本',
    pod_id: 'never-written',
    container_base_image: '',
  },
  values: SetValues.from({
    'cpu/usage_rate': 319,
    'network/rx_rate': 0.000000125,
    'memory/usage': 125829120,
  }),
  labeled: [{ name: 'filesystem/usage', labels: { resource_id: 'Volume:data dir' }, value: 1048576 }],
  scrapeTime: T0,
  startTime: T0 - 1000,
};

/** One cycle from two real kubelets, plus the awkward set. */
function cycleBatches(cycle: number): NodeBatch[] {
  const timestamp = T0 + cycle * 15_000;
  const nri = summaryBatch(new URL('nri-1.34/stats-summary.json', FIXTURES), {
    node: 'datagen-1-34',
    cycle,
    timestamp,
  });
  const eks = summaryBatch(new URL('splunk-eks/stats-summary.json', FIXTURES), {
    node: 'ip-10-0-0-1',
    cycle,
    timestamp,
  });
  return [{ ...nri, sets: [...nri.sets, awkward] }, eks];
}

interface Point {
  readonly value: number;
  readonly time: number;
}

const EXCLUDED = new Set(['namespace_id', 'pod_id', 'hostname', 'host_id']);

/** What schema heapster should store for these batches, worked out from the sets (not from the encoder). */
function expectedPoints(batches: readonly MetricBatch[], clusterName: string): Map<string, Point> {
  const points = new Map<string, Point>();
  const tagsOf = (labels: Readonly<Record<string, string>>, extra: Readonly<Record<string, string>> = {}) => {
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...labels, ...extra }))
      if (!EXCLUDED.has(k) && v !== '') tags[k] = v;
    tags.cluster_name = clusterName;
    return tags;
  };
  for (const b of batches) {
    for (const s of b.sets) {
      for (const [name, value] of s.values) {
        points.set(pointKey(name, 'value', tagsOf(s.labels)) + `@${b.timestamp}`, {
          value,
          time: b.timestamp,
        });
      }
      for (const l of s.labeled) {
        points.set(pointKey(l.name, 'value', tagsOf(s.labels, l.labels)) + `@${b.timestamp}`, {
          value: l.value,
          time: b.timestamp,
        });
      }
    }
  }
  return points;
}

interface InfluxQLResult {
  results: {
    series?: { name: string; columns: string[]; values: (string | number | null)[][] }[];
    error?: string;
  }[];
}

/** Every point of a database, via InfluxQL. */
async function readInfluxDB(url: string, db: string, auth?: string): Promise<Map<string, Point>> {
  const q = new URLSearchParams({ db, epoch: 'ms', q: 'SELECT * FROM /.*/' });
  const response = await fetch(
    `${url}/query?${q.toString()}`,
    auth === undefined ? {} : { headers: { authorization: auth } },
  );
  const body = (await response.json()) as InfluxQLResult;
  const points = new Map<string, Point>();
  for (const series of body.results[0]?.series ?? []) {
    for (const row of series.values) {
      const tags: Record<string, string> = {};
      let time = 0;
      let value = Number.NaN;
      series.columns.forEach((column, i) => {
        const cell = row[i];
        if (column === 'time') time = cell as number;
        else if (column === 'value') value = cell as number;
        else if (cell !== null && cell !== undefined) tags[column] = String(cell);
      });
      points.set(pointKey(series.name, 'value', tags) + `@${time}`, { value, time });
    }
  }
  return points;
}

/** Every sample in VictoriaMetrics: InfluxDB `measurement field=` becomes the metric `measurement_field`. */
async function readVictoriaMetrics(url: string, clusterName: string): Promise<Map<string, Point>> {
  await fetch(`${url}/internal/force_flush`);
  const match = encodeURIComponent(`{__name__=~".+",cluster_name="${clusterName}"}`);
  const text = await (await fetch(`${url}/api/v1/export?match[]=${match}`)).text();
  const points = new Map<string, Point>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const row = JSON.parse(line) as {
      metric: Record<string, string>;
      values: number[];
      timestamps: number[];
    };
    const { __name__: name = '', ...tags } = row.metric;
    const measurement = name.slice(0, name.lastIndexOf('_value'));
    row.timestamps.forEach((time, i) => {
      points.set(pointKey(measurement, 'value', tags) + `@${time}`, { value: row.values[i] as number, time });
    });
  }
  return points;
}

function distinctTimes(points: Map<string, Point>): Set<number> {
  return new Set([...points.values()].map((p) => p.time));
}

function logCapture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(
        ...chunk
          .toString()
          .split('\n')
          .filter((l) => l !== ''),
      );
      done();
    },
  });
  return { logger: createLogger({ level: 'warn', destination }), lines };
}

function runnerFor(name: string, sink: Sink, options: Record<string, unknown>, telemetry = new Telemetry()) {
  const log = logCapture();
  const ctx = testContext({ id: name, telemetry, logger: log.logger });
  return { runner: new SinkRunner(name, sink, sinkRunnerOptionsSchema.parse(options), ctx), telemetry, log };
}

const FAST_RETRY = { initial_backoff: '100ms', max_backoff: '400ms' };

describe('InfluxDB 1.x (api v1, InfluxQL read-back)', () => {
  let influx: HttpService;
  beforeAll(async () => {
    influx = await startInfluxDB1();
  });
  afterAll(async () => {
    await influx.stop();
  });

  function v1Sink(config: Record<string, unknown>, name = 'influx') {
    const ctx = testContext({ id: name });
    return influxSink(influxSinkConfig.parse({ url: influx.url, api: 'v1', ...config }), ctx);
  }

  it('stores every value and tag of a cycle from real fixtures', async () => {
    const sink = v1Sink({
      database: 'roundtrip',
      create_database: true,
      cluster_name: 'prod',
      batch: { max_lines: 700 },
    });
    await sink.connect?.();
    const batches = cycleBatches(1);
    for (const b of batches) await sink.write(b);
    await sink.close();
    const expected = expectedPoints(batches, 'prod');
    const stored = await readInfluxDB(influx.url, 'roundtrip');
    expect(expected.size).toBeGreaterThan(700);
    expect(stored.size).toBe(expected.size);
    for (const [key, point] of expected) expect([key, stored.get(key)]).toEqual([key, point]);
  });

  it('reports a partial write with the rejected lines and stores the rest', async () => {
    const sink = v1Sink({ database: 'partial', create_database: true, cluster_name: 'prod' });
    await sink.connect?.();
    // memory/usage already holds floats, so InfluxDB refuses this batch's integers for it (a type conflict).
    await fetch(`${influx.url}/write?db=partial&precision=ms`, {
      method: 'POST',
      body: `memory/usage,x=y value=1.5 ${T0}`,
    });
    const [batch] = cycleBatches(2) as [NodeBatch];
    const conflicting = batch.sets.filter((s) => s.values.get('memory/usage') !== undefined).length;
    const error = await sink.write(batch).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).name).toBe('PermanentError');
    expect((error as Error).message).toContain(`rejected ${conflicting} of`);
    expect((error as Error).message).toContain('field type conflict');
    expect((error as Error).message).toMatch(/sample: memory\/usage,cluster_name=prod,/);
    const stored = await readInfluxDB(influx.url, 'partial');
    expect(stored.size).toBe(expectedPoints([batch], 'prod').size - conflicting + 1);
    await sink.close();
  });

  it('loses nothing produced while InfluxDB is down for several cycles (when_full: block)', async () => {
    const sink = v1Sink({ database: 'outage_block', create_database: true });
    const { runner, telemetry } = runnerFor('influx', sink, {
      buffer: { max_batches: 6, when_full: 'block' },
      retry: FAST_RETRY,
    });
    const produced: NodeBatch[] = [];
    let skippedCycles = 0;
    for (let cycle = 1; cycle <= 12; cycle++) {
      if (cycle === 3) await influx.stop();
      if (cycle === 9) await influx.start();
      // The engine skips a cycle while a `block` sink is full, so nothing is produced that cannot be kept.
      if (runner.isBlocking()) skippedCycles++;
      else {
        for (const b of cycleBatches(cycle)) {
          runner.accept(b);
          produced.push(b);
        }
      }
      await sleep(250);
    }
    await runner.close();
    const stored = await readInfluxDB(influx.url, 'outage_block');
    expect(skippedCycles).toBeGreaterThan(0);
    expect(telemetry.total('heapstream_sink_retries_total')).toBeGreaterThan(0);
    expect(telemetry.total('heapstream_sink_dropped_batches_total')).toBe(0);
    expect(telemetry.total('heapstream_sink_failed_batches_total')).toBe(0);
    expect(stored.size).toBe(expectedPoints(produced, 'default').size);
    expect(distinctTimes(stored)).toEqual(new Set(produced.map((b) => b.timestamp)));
  });

  it('with drop_oldest, stores exactly what the runner did not count as dropped', async () => {
    const sink = v1Sink({ database: 'outage_drop', create_database: true });
    const { runner, telemetry } = runnerFor('influx', sink, {
      buffer: { max_batches: 3, when_full: 'drop_oldest' },
      retry: FAST_RETRY,
    });
    const produced: NodeBatch[] = [];
    for (let cycle = 1; cycle <= 10; cycle++) {
      if (cycle === 3) await influx.stop();
      if (cycle === 8) await influx.start();
      // One batch per cycle here, so a dropped batch is a missing timestamp.
      const [nri] = cycleBatches(cycle) as [NodeBatch];
      runner.accept(nri);
      produced.push(nri);
      await sleep(200);
    }
    await runner.close();
    const dropped = telemetry.value('heapstream_sink_dropped_batches_total', {
      sink: 'influx',
      reason: 'drop_oldest',
    });
    expect(dropped).toBeGreaterThan(0);
    const stored = await readInfluxDB(influx.url, 'outage_drop');
    expect(distinctTimes(stored).size).toBe(produced.length - dropped);
    expect(stored.size).toBe(
      (produced.length - dropped) * expectedPoints([produced[0] as NodeBatch], 'x').size,
    );
  });

  it('fails loudly on an unknown database without create_database, without stalling another sink', async () => {
    const shared = new Telemetry();
    const bad = runnerFor(
      'missing',
      v1Sink({ database: 'does_not_exist' }, 'missing'),
      { retry: FAST_RETRY },
      shared,
    );
    const good = runnerFor(
      'good',
      v1Sink({ database: 'alongside', create_database: true }, 'good'),
      { retry: FAST_RETRY },
      shared,
    );
    const batches = [1, 2, 3].flatMap((c) => cycleBatches(c));
    const started = Date.now();
    for (const b of batches) {
      bad.runner.accept(b);
      good.runner.accept(b);
    }
    await good.runner.close();
    expect(Date.now() - started).toBeLessThan(10_000);
    await bad.runner.close();
    expect(shared.value('heapstream_sink_failed_batches_total', { sink: 'missing' })).toBe(batches.length);
    expect(shared.value('heapstream_sink_batches_sent_total', { sink: 'good' })).toBe(batches.length);
    expect(
      bad.log.lines.some((l) => l.includes('database not found') && l.includes('create_database: true')),
    ).toBe(true);
    expect((await readInfluxDB(influx.url, 'alongside')).size).toBe(expectedPoints(batches, 'default').size);
  });
});

/** An InfluxDB 1.x with authentication on, which startInfluxDB1() does not offer. */
async function startInfluxDB1WithAuth(): Promise<HttpService> {
  const dir = makeServiceTempDir('influxdb-auth');
  removeOnExit(dir);
  const [httpPort, rpcPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const url = `http://127.0.0.1:${httpPort}`;
  const configFile = join(dir, 'influxdb.conf');
  writeFileSync(
    configFile,
    [
      'reporting-enabled = false',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      `[meta]\n  dir = "${join(dir, 'meta')}"`,
      `[data]\n  dir = "${join(dir, 'data')}"\n  wal-dir = "${join(dir, 'wal')}"\n  query-log-enabled = false`,
      '[monitor]\n  store-enabled = false',
      `[http]\n  enabled = true\n  bind-address = "127.0.0.1:${httpPort}"\n  auth-enabled = true\n  log-enabled = false`,
      '[logging]\n  level = "warn"\n  suppress-logo = true',
    ].join('\n'),
  );
  const logFile = join(dir, 'influxd.log');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')));
  return startHttpService({
    name: 'influxdb 1.x (auth)',
    url,
    logFile,
    process: new ManagedProcess({
      name: 'influxdb-auth',
      command: 'influxd',
      args: ['run', '-config', configFile],
      logFile,
      env,
    }),
    isReady: () => answersWith(`${url}/ping`, 204),
    readyTimeoutMs: 60_000,
  });
}

describe('InfluxDB 1.x with authentication', () => {
  let influx: HttpService;
  beforeAll(async () => {
    await startInfluxDB1().then((s) => s.stop()); // installs influxd if it is missing
    influx = await startInfluxDB1WithAuth();
    const admin = new URLSearchParams({ q: "CREATE USER admin WITH PASSWORD 'right' WITH ALL PRIVILEGES" });
    await fetch(`${influx.url}/query`, { method: 'POST', body: admin });
  });
  afterAll(async () => {
    await influx.stop();
  });

  it('writes with the right password (from password_file) and fails loudly with a wrong one', async () => {
    const dir = makeServiceTempDir('influx-secret');
    removeOnExit(dir);
    writeFileSync(join(dir, 'password'), 'right\n');
    const shared = new Telemetry();
    const sinkFor = (name: string, password: Record<string, string>) =>
      influxSink(
        influxSinkConfig.parse({
          url: influx.url,
          api: 'v1',
          database: 'k8s',
          create_database: true,
          username: 'admin',
          ...password,
        }),
        testContext({ id: name, baseDir: dir }),
      );
    const good = runnerFor(
      'good',
      sinkFor('good', { password_file: 'password' }),
      { retry: FAST_RETRY },
      shared,
    );
    const bad = runnerFor('bad', sinkFor('bad', { password: 'wrong' }), { retry: FAST_RETRY }, shared);
    const batches = cycleBatches(1);
    for (const b of batches) {
      good.runner.accept(b);
      bad.runner.accept(b);
    }
    await Promise.all([good.runner.close(), bad.runner.close()]);
    expect(shared.value('heapstream_sink_batches_sent_total', { sink: 'good' })).toBe(batches.length);
    expect(shared.value('heapstream_sink_failed_batches_total', { sink: 'bad' })).toBe(batches.length);
    expect(bad.log.lines.some((l) => l.includes('refused the credentials'))).toBe(true);
    const auth = 'Basic ' + Buffer.from('admin:right').toString('base64');
    expect((await readInfluxDB(influx.url, 'k8s', auth)).size).toBe(expectedPoints(batches, 'default').size);
  });
});

describe('VictoriaMetrics (api v2 through @influxdata/influxdb-client, /api/v1/export read-back)', () => {
  let vm: HttpService;
  beforeAll(async () => {
    vm = await startVictoriaMetrics();
  });
  afterAll(async () => {
    await vm.stop();
  });

  // Both body encodings, with the awkward set's multi-byte labels in them.
  it.each([true, false])(
    'stores every value and tag of a cycle from real fixtures (gzip %s)',
    async (gzip) => {
      const ctx = testContext({ id: 'vm' });
      const clusterName = gzip ? 'prod' : 'plain';
      const sink = influxSink(
        influxSinkConfig.parse({
          url: vm.url,
          org: 'acme',
          bucket: 'k8s',
          token: 't',
          precision: 'ns',
          cluster_name: clusterName,
          gzip,
        }),
        ctx,
      );
      await sink.connect?.();
      const batches = cycleBatches(1);
      for (const b of batches) await sink.write(b);
      await sink.close();
      const expected = expectedPoints(batches, clusterName);
      const stored = await readVictoriaMetrics(vm.url, clusterName);
      expect(stored.size).toBe(expected.size);
      for (const [key, point] of expected) expect([key, stored.get(key)]).toEqual([key, point]);
    },
  );

  it('stores a tag value ending in a backslash, and one with a backslash before a space', async () => {
    const sink = influxSink(
      influxSinkConfig.parse({
        url: vm.url,
        org: 'acme',
        bucket: 'k8s',
        token: 't',
        cluster_name: 'backslash',
      }),
      testContext({ id: 'vm' }),
    );
    const set: MetricSet = {
      ...awkward,
      labels: { type: 'pod', nodename: 'node-1', pod_name: 'C:\\', labels: 'dir:a\\ b,x:\\\\y' },
      labeled: [],
    };
    const batch: NodeBatch = {
      kind: 'batch',
      scope: 'node',
      node: 'node-1',
      cycle: 1,
      timestamp: T0,
      sets: [set],
    };
    await sink.connect?.();
    await sink.write(batch);
    await sink.close();
    const stored = await readVictoriaMetrics(vm.url, 'backslash');
    const expected = expectedPoints([batch], 'backslash');
    expect(stored.size).toBe(3);
    for (const [key, point] of expected) expect([key, stored.get(key)]).toEqual([key, point]);
  });
});

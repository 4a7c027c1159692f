import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInfluxDB1, startVictoriaMetrics, type HttpService } from './services/influxdb.js';
import { startKafka, type KafkaService } from './services/kafka.js';
import { startSeaweedFS, type SeaweedFSService } from './services/seaweedfs.js';
import { environmentCredentials } from '../src/component/s3/credentials.js';
import { S3ObjectStore } from '../src/component/s3/s3-store.js';

const { Kafka, logLevel, Partitioners } = kafkajs;

interface ReceivedMessage {
  readonly offset: string;
  readonly key: string;
  readonly value: string;
}

/** Reads `count` messages of `topic` from the beginning with a fresh consumer group, then disconnects. */
async function consumeFromBeginning(
  client: InstanceType<typeof Kafka>,
  topic: string,
  count: number,
): Promise<ReceivedMessage[]> {
  const consumer = client.consumer({ groupId: `services-test-${randomUUID()}` });
  const received: ReceivedMessage[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const done = new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: ({ message }) => {
          received.push({
            offset: message.offset,
            key: message.key?.toString('utf8') ?? '',
            value: message.value?.toString('utf8') ?? '',
          });
          if (received.length >= count) resolve();
          return Promise.resolve();
        },
      });
    });
    await Promise.race([done, sleep(60_000)]);
  } finally {
    await consumer.disconnect();
  }
  return received;
}

describe('Kafka (KRaft, single node)', () => {
  let kafka: KafkaService;
  beforeAll(async () => {
    // A cluster id that starts with '-', as one random id in 64 does: formatting must not take it for an option.
    const id = randomBytes(16);
    id[0] = 0xf8 | (id[0]! & 0x03); // the top six bits are 62, which base64url writes as '-'
    kafka = await startKafka({ clusterId: id.toString('base64url') });
  });
  afterAll(async () => {
    await kafka?.stop();
  });

  it('delivers produced messages to a consumer, before and after a broker restart', async () => {
    expect(kafka.bootstrap).toMatch(/^127\.0\.0\.1:\d+$/);
    // kafkajs logs the broker's normal warm-up answers (topic being created, coordinator loading) as errors;
    // the assertions below are what tells whether delivery works.
    const client = new Kafka({
      clientId: 'services-test',
      brokers: [kafka.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    const topic = `services-test-${randomUUID()}`;
    const firstRound = ['node-a', 'node-b', 'node-c'].map((node, i) => ({
      key: node,
      value: `cpu/usage=${i + 1}`,
    }));
    await producer.connect();
    try {
      await producer.send({ topic, messages: firstRound });
      expect(await consumeFromBeginning(client, topic, 3)).toEqual([
        { offset: '0', key: 'node-a', value: 'cpu/usage=1' },
        { offset: '1', key: 'node-b', value: 'cpu/usage=2' },
        { offset: '2', key: 'node-c', value: 'cpu/usage=3' },
      ]);

      await kafka.restart();

      // The same producer reconnects to the same port; the topic's first messages survived in the data dir.
      const secondRound = ['node-d', 'node-e', 'node-f'].map((node) => ({
        key: node,
        value: `after-restart ${node}`,
      }));
      await producer.send({ topic, messages: secondRound });
      const all = await consumeFromBeginning(client, topic, 6);
      expect(all.map((m) => m.offset)).toEqual(['0', '1', '2', '3', '4', '5']);
      expect(all.slice(3)).toEqual([
        { offset: '3', key: 'node-d', value: 'after-restart node-d' },
        { offset: '4', key: 'node-e', value: 'after-restart node-e' },
        { offset: '5', key: 'node-f', value: 'after-restart node-f' },
      ]);
    } finally {
      await producer.disconnect();
    }
  });

  it('comes back after kill() with its topics intact', async () => {
    const client = new Kafka({
      clientId: 'services-test',
      brokers: [kafka.bootstrap],
      logLevel: logLevel.NOTHING,
    });
    const topic = `services-test-kill-${randomUUID()}`;
    const producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'before the crash' }] });
    await producer.disconnect();

    await kafka.kill();
    await kafka.start();

    expect(await consumeFromBeginning(client, topic, 1)).toEqual([
      { offset: '0', key: 'k', value: 'before the crash' },
    ]);
  });
});

/** Fixed sample times in milliseconds, recent enough for any retention. */
const baseMs = Math.floor(Date.now() / 60_000) * 60_000 - 600_000;
const lineProtocol = [
  `cpu,nodename=node-a,type=node usage_rate=125.5,limit=4000i ${baseMs}`,
  `cpu,nodename=node-a,type=node usage_rate=250.25,limit=4000i ${baseMs + 15_000}`,
  `cpu,nodename=node-b,type=node usage_rate=7,limit=2000i ${baseMs}`,
].join('\n');

async function post(url: string, body = ''): Promise<Response> {
  const response = await fetch(url, { method: 'POST', body });
  if (response.status >= 300) throw new Error(`POST ${url}: ${response.status} ${await response.text()}`);
  return response;
}

interface InfluxQueryResult {
  results: { series?: { columns: string[]; values: unknown[][] }[]; error?: string }[];
}

describe('InfluxDB 1.x', () => {
  let influx: HttpService;
  beforeAll(async () => {
    influx = await startInfluxDB1();
  });
  afterAll(async () => {
    await influx?.stop();
  });

  async function selectNodeA(): Promise<InfluxQueryResult> {
    const query = `SELECT "usage_rate", "limit" FROM "cpu" WHERE "nodename" = 'node-a'`;
    const response = await fetch(`${influx.url}/query?db=k8s&epoch=ms&q=${encodeURIComponent(query)}`);
    expect(response.status).toBe(200);
    return (await response.json()) as InfluxQueryResult;
  }

  it('stores line protocol written to /write and returns it from an InfluxQL query, also after a restart', async () => {
    expect(influx.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await post(`${influx.url}/query?q=${encodeURIComponent('CREATE DATABASE "k8s"')}`);
    const written = await post(`${influx.url}/write?db=k8s&precision=ms`, lineProtocol);
    expect(written.status).toBe(204);

    const expected = {
      columns: ['time', 'usage_rate', 'limit'],
      values: [
        [baseMs, 125.5, 4000],
        [baseMs + 15_000, 250.25, 4000],
      ],
    };
    expect((await selectNodeA()).results[0]?.series?.[0]).toMatchObject(expected);

    await influx.stop();
    await influx.start();
    expect((await selectNodeA()).results[0]?.series?.[0]).toMatchObject(expected);
  });
});

interface ExportedSeries {
  metric: Record<string, string>;
  values: number[];
  timestamps: number[];
}

describe('VictoriaMetrics (InfluxDB v2 write API)', () => {
  let vm: HttpService;
  beforeAll(async () => {
    vm = await startVictoriaMetrics();
  });
  afterAll(async () => {
    await vm?.stop();
  });

  /** Exported series of `metric`, sorted by node; polls because freshly written samples become searchable later. */
  async function exportSeries(metric: string, expectedSeries: number): Promise<ExportedSeries[]> {
    let series: ExportedSeries[] = [];
    for (let attempt = 0; attempt < 40 && series.length < expectedSeries; attempt++) {
      await fetch(`${vm.url}/internal/force_flush`).then((r) => r.body?.cancel());
      const match = encodeURIComponent(`{__name__="${metric}"}`);
      const response = await fetch(`${vm.url}/api/v1/export?match[]=${match}`);
      expect(response.status).toBe(200);
      const text = await response.text();
      series = text
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as ExportedSeries);
      if (series.length < expectedSeries) await sleep(250);
    }
    return series.sort((a, b) => (a.metric['nodename'] ?? '').localeCompare(b.metric['nodename'] ?? ''));
  }

  it('accepts line protocol on /api/v2/write and exports the same samples', async () => {
    expect(vm.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const written = await post(`${vm.url}/api/v2/write?bucket=k8s&org=heapstream&precision=ms`, lineProtocol);
    expect(written.status).toBe(204);

    const usage = await exportSeries('cpu_usage_rate', 2);
    expect(usage).toHaveLength(2);
    expect(usage[0]?.metric).toMatchObject({ __name__: 'cpu_usage_rate', nodename: 'node-a', type: 'node' });
    expect(usage[0]?.values).toEqual([125.5, 250.25]);
    expect(usage[0]?.timestamps).toEqual([baseMs, baseMs + 15_000]);
    expect(usage[1]?.metric).toMatchObject({ nodename: 'node-b' });
    expect(usage[1]?.values).toEqual([7]);

    const limit = await exportSeries('cpu_limit', 2);
    expect(limit.map((s) => s.values)).toEqual([[4000, 4000], [2000]]);
  });
});

describe('SeaweedFS (weed mini, S3)', () => {
  let weed: SeaweedFSService;
  beforeAll(async () => {
    weed = await startSeaweedFS();
  });
  afterAll(async () => {
    await weed?.stop();
  });

  it('keeps its objects across stop and start, on the same endpoint', async () => {
    expect(weed.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const store = new S3ObjectStore({
      bucket: 'services',
      region: weed.region,
      endpoint: weed.s3Endpoint,
      forcePathStyle: true,
      credentials: environmentCredentials({
        AWS_ACCESS_KEY_ID: weed.accessKeyId,
        AWS_SECRET_ACCESS_KEY: weed.secretAccessKey,
      }),
    });
    await store.createBucket();
    const body = randomBytes(4096);
    await store.put('kept.bin', body);
    await weed.stop();
    await weed.start();
    expect(Buffer.compare(Buffer.from((await store.get('kept.bin')) ?? []), body)).toBe(0);
    // An unsigned request is refused: the server checks credentials.
    const anonymous = await fetch(`${weed.s3Endpoint}/services/kept.bin`);
    expect(anonymous.status).toBe(403);
  });
});

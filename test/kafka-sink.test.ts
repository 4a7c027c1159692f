import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import kafkajs, { type KafkaMessage } from 'kafkajs';
import { pino } from 'pino';
import { mergeMap, of } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import kafkaSinkDef from '../sinks/kafka/index.js';
import { parsePipelineConfig } from '../src/config/index.js';
import { createBuiltinRegistry } from '../src/builtins.js';
import { defineSource } from '../src/component/component.js';
import { createPipeline } from '../src/engine/pipeline.js';
import { sinkRunnerOptionsSchema } from '../src/config/sink-options.js';
import { SinkRunner } from '../src/engine/sink-runner.js';
import { Telemetry } from '../src/component/telemetry.js';
import type { MetricSet, NodeBatch } from '../src/model/types.js';
import { collectingSink } from '../src/testing/collecting-sink.js';
import { testContext } from '../src/testing/context.js';
import { cycleEnd, summaryBatch } from '../src/testing/fixtures.js';
import { startKafka, type KafkaService } from './services/kafka.js';

const { Kafka, logLevel } = kafkajs;

const fixtures = ['nri-1.34', 'nri-1.32', 'otel-minikube'].map(
  (name) => new URL(`../../shared/fixtures/kubelet/${name}/stats-summary.json`, import.meta.url),
);

/** One cycle of three real kubelet payloads, as three node batches. */
function cycleBatches(cycle: number): NodeBatch[] {
  return fixtures.map((file, i) => {
    const batch = summaryBatch(file, {
      node: `node-${i}`,
      cycle,
      timestamp: Date.UTC(2026, 0, 1) + cycle * 15_000,
    });
    // Each cycle's sets get their own sample time, so messages of different cycles can be told apart.
    const sets = batch.sets.map((s) => ({ ...s, scrapeTime: batch.timestamp - 1_000 + i }));
    return { ...batch, sets };
  });
}

let topicCounter = 0;
function freshTopic(what: string): string {
  topicCounter++;
  return `hs-${what}-${topicCounter}-${Date.now()}`;
}

describe('kafka sink against a real broker', () => {
  let kafka: KafkaService;
  let client: InstanceType<typeof Kafka>;

  beforeAll(async () => {
    kafka = await startKafka();
    client = new Kafka({
      clientId: 'heapstream-test-reader',
      brokers: [kafka.bootstrap],
      logLevel: logLevel.NOTHING,
    });
  });
  afterAll(async () => {
    await kafka?.stop();
  });

  /** Messages in a topic, from the broker's offsets: what was written, duplicates included. */
  async function storedCount(topic: string): Promise<number> {
    const admin = client.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
    } finally {
      await admin.disconnect();
    }
  }

  /** Every message of a topic, read back with a consumer from the beginning. */
  async function readAll(topic: string): Promise<KafkaMessage[]> {
    const expected = await storedCount(topic);
    const consumer = client.consumer({ groupId: `reader-${topic}` });
    const messages: KafkaMessage[] = [];
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`read ${messages.length} of ${expected}`)), 60_000);
        if (expected === 0) {
          clearTimeout(timer);
          resolve();
          return;
        }
        void consumer.run({
          eachBatch: ({ batch }) => {
            messages.push(...batch.messages);
            if (messages.length >= expected) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        });
      });
    } finally {
      await consumer.disconnect();
    }
    return messages;
  }

  function sinkFor(config: Record<string, unknown>) {
    return kafkaSinkDef.create(
      kafkaSinkDef.config.parse({ brokers: [kafka.bootstrap], ...config }),
      testContext(),
    );
  }

  function json(message: KafkaMessage): Record<string, unknown> {
    return JSON.parse(message.value?.toString('utf8') ?? 'null') as Record<string, unknown>;
  }

  it('set format: every set of a real cycle comes back with its values, labels and node key', async () => {
    const topic = freshTopic('set');
    const sink = sinkFor({ topic, format: 'set', key: 'node' });
    const batches = cycleBatches(1);
    await sink.connect?.();
    for (const batch of batches) await sink.write(batch);
    await sink.close();

    const messages = await readAll(topic);
    const sets = batches.flatMap((b) => b.sets.map((s) => ({ node: b.node, set: s })));
    expect(messages).toHaveLength(sets.length);
    const byId = new Map(messages.map((m) => [`${String(json(m).key)}@${String(json(m).time)}`, m]));
    for (const { node, set } of sets) {
      const message = byId.get(`${set.key}@${new Date(set.scrapeTime).toISOString()}`);
      expect(message, set.key).toBeDefined();
      const body = json(message as KafkaMessage);
      expect(body.type).toBe(set.type);
      expect(body.labels).toEqual(set.labels);
      expect(body.values).toEqual(set.values);
      expect(body.labeled).toEqual(set.labeled);
      expect(message?.key?.toString()).toBe(set.labels.nodename ?? node);
    }
    // Every node batch's sets are keyed by its own node.
    expect(new Set(messages.map((m) => m.key?.toString()))).toEqual(new Set(['node-0', 'node-1', 'node-2']));
  });

  it('heapster format: every value comes back with its tags and timestamp, keyed by pod', async () => {
    const topic = freshTopic('heapster');
    const sink = sinkFor({ topic, format: 'heapster', key: 'pod', compression: 'gzip' });
    const batches = cycleBatches(2);
    for (const batch of batches) await sink.write(batch);
    await sink.close();

    const messages = await readAll(topic);
    const got = new Map<string, { value: number; key: string | undefined; time: string }>();
    for (const m of messages) {
      const body = json(m) as {
        MetricsName: string;
        MetricsValue: { value: number };
        MetricsTimestamp: string;
        MetricsTags: Record<string, string>;
      };
      got.set(JSON.stringify([body.MetricsName, body.MetricsTags]), {
        value: body.MetricsValue.value,
        key: m.key?.toString(),
        time: body.MetricsTimestamp,
      });
    }
    let expected = 0;
    for (const batch of batches) {
      const time = new Date(batch.timestamp).toISOString().replace('.000Z', 'Z');
      for (const set of batch.sets) {
        const ns = set.labels.namespace_name;
        const pod = set.labels.pod_name;
        const key = ns !== undefined && pod !== undefined ? `${ns}/${pod}` : set.key;
        const check = (name: string, tags: Record<string, string>, value: number) => {
          expected++;
          const found = got.get(JSON.stringify([name, sorted(tags)]));
          expect(found, `${set.key} ${name}`).toEqual({ value, key, time });
        };
        for (const [name, value] of set.values) check(name, set.labels, value);
        for (const lv of set.labeled) check(lv.name, { ...set.labels, ...lv.labels }, lv.value);
      }
    }
    expect(messages).toHaveLength(expected);
  });

  it('batch format with topic parts: a batch larger than max_message_bytes arrives in parts, every set once', async () => {
    const topic = freshTopic('batch');
    const sink = sinkFor({ topic, format: 'batch', max_message_bytes: 16_384 });
    const batches = cycleBatches(3);
    for (const batch of batches) await sink.write(batch);
    await sink.close();
    const messages = await readAll(topic);
    expect(messages.length).toBeGreaterThan(batches.length);
    const keysByNode = new Map<string, string[]>();
    for (const m of messages) {
      expect(m.value?.length).toBeLessThanOrEqual(16_384);
      const body = json(m) as { node: string; sets: { key: string }[] };
      expect(m.key?.toString()).toBe(body.node);
      keysByNode.set(body.node, [...(keysByNode.get(body.node) ?? []), ...body.sets.map((s) => s.key)]);
    }
    for (const batch of batches) expect(keysByNode.get(batch.node)).toEqual(batch.sets.map((s) => s.key));
  });

  it('topic_per_type sends pods to their own topic', async () => {
    const [all, pods] = [freshTopic('all'), freshTopic('pods')];
    const sink = sinkFor({ topic: all, topic_per_type: { pod: pods } });
    const batch = cycleBatches(4)[0] as NodeBatch;
    await sink.write(batch);
    await sink.close();
    const podCount = batch.sets.filter((s) => s.type === 'pod').length;
    expect(podCount).toBeGreaterThan(0);
    expect(await storedCount(pods)).toBe(podCount);
    expect(await storedCount(all)).toBe(batch.sets.length - podCount);
  });

  function runnerFor(topic: string, options: Record<string, unknown>, telemetry: Telemetry) {
    const ctx = testContext({ telemetry, id: 'lake' });
    const sink = kafkaSinkDef.create(
      kafkaSinkDef.config.parse({
        brokers: [kafka.bootstrap],
        topic,
        request_timeout: '3s',
        connect_timeout: '1s',
      }),
      ctx,
    );
    const runnerOptions = sinkRunnerOptionsSchema.parse({
      retry: { initial_backoff: '100ms', max_backoff: '500ms' },
      write_timeout: '15s',
      shutdown_timeout: '60s',
      ...options,
    });
    return new SinkRunner('lake', sink, runnerOptions, ctx);
  }

  it.each(['restarts', 'crashes (SIGKILL) and starts again'])(
    'loses nothing and duplicates nothing while the broker %s under a running writer (when_full: block)',
    async (fault) => {
      const topic = freshTopic('restart');
      const telemetry = new Telemetry();
      const runner = runnerFor(
        topic,
        { buffer: { max_batches: 20, when_full: 'block' }, max_in_flight: 8 },
        telemetry,
      );
      let producedSets = 0;
      let producedBatches = 0;
      let writing = true;
      const writer = (async () => {
        for (let cycle = 1; writing; cycle++) {
          for (const batch of cycleBatches(cycle)) {
            runner.accept(batch);
            producedSets += batch.sets.length;
            producedBatches++;
          }
          await sleep(60);
        }
      })();
      await sleep(1_000);
      if (fault === 'restarts') await kafka.restart();
      else {
        await kafka.kill();
        await kafka.start();
      }
      await sleep(1_000);
      writing = false;
      await writer;
      await runner.close();

      expect(telemetry.value('heapstream_sink_retries_total', { sink: 'lake' })).toBeGreaterThan(0);
      expect(telemetry.value('heapstream_sink_batches_sent_total', { sink: 'lake' })).toBe(producedBatches);
      expect(telemetry.total('heapstream_sink_failed_batches_total')).toBe(0);
      // Exactly once: the broker holds as many messages as sets were produced, and each one once.
      expect(await storedCount(topic)).toBe(producedSets);
      const messages = await readAll(topic);
      const ids = new Set(messages.map((m) => `${String(json(m).key)}@${String(json(m).time)}`));
      expect(ids.size).toBe(producedSets);
    },
  );

  it('with drop_oldest and a small buffer while the broker is down, what is missing equals the drop counter', async () => {
    const topic = freshTopic('drop');
    const telemetry = new Telemetry();
    const runner = runnerFor(topic, { buffer: { max_batches: 3, when_full: 'drop_oldest' } }, telemetry);
    // Create the topic and connect while the broker is up.
    const first = cycleBatches(1);
    for (const batch of first) runner.accept(batch);
    await waitFor(
      () => telemetry.value('heapstream_sink_batches_sent_total', { sink: 'lake' }) === first.length,
    );
    await kafka.stop();
    const accepted: NodeBatch[] = [...first];
    for (let cycle = 2; cycle <= 6; cycle++) {
      for (const batch of cycleBatches(cycle)) {
        runner.accept(batch);
        accepted.push(batch);
      }
      await sleep(100);
    }
    await kafka.start();
    await runner.close();

    const dropped = telemetry.value('heapstream_sink_dropped_batches_total', {
      sink: 'lake',
      reason: 'drop_oldest',
    });
    const sent = telemetry.value('heapstream_sink_batches_sent_total', { sink: 'lake' });
    expect(dropped).toBeGreaterThan(0);
    expect(sent + dropped).toBe(accepted.length);
    const messages = await readAll(topic);
    const cycles = new Set(messages.map((m) => `${String(json(m).time)}`));
    // Each batch has its own sample time: the batches in Kafka are the ones not dropped, each complete.
    const deliveredBatches = accepted.filter((b) =>
      cycles.has(new Date((b.sets[0] as MetricSet).scrapeTime).toISOString()),
    );
    expect(deliveredBatches).toHaveLength(sent);
    expect(messages).toHaveLength(deliveredBatches.reduce((n, b) => n + b.sets.length, 0));
    expect(
      telemetry.value('heapstream_sink_dropped_sets_total', { sink: 'lake', reason: 'drop_oldest' }),
    ).toBe(accepted.filter((b) => !deliveredBatches.includes(b)).reduce((n, b) => n + b.sets.length, 0));
  });

  /** A pipeline of a replaying source (real payloads, two nodes per cycle), a kafka sink and a collecting sink. */
  async function pipelineWithBrokenKafka(kafkaYaml: string) {
    const replay = defineSource({
      type: 'replay',
      description: 'Replays real kubelet payloads, for tests.',
      config: z.strictObject({}),
      create: (_config, ctx) =>
        ctx.ticks.pipe(
          mergeMap((tick) => of(...cycleBatches(tick.cycle).slice(0, 2), cycleEnd(tick.cycle, 2))),
        ),
    });
    const { definition, collected } = collectingSink();
    const registry = createBuiltinRegistry().register(replay, definition);
    const dataDir = await mkdtemp(join(tmpdir(), 'heapstream-kafka-'));
    const yaml = [
      'resolution: 1s',
      `data_dir: ${dataDir}`,
      'source: { type: replay }',
      'sinks:',
      `  lake: ${kafkaYaml}`,
      '  out: { type: collect }',
    ];
    const config = parsePipelineConfig(yaml.join('\n'), 'test.yaml', registry, {});
    const lines: string[] = [];
    const logger = pino(
      { level: 'info' },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      }),
    );
    const pipeline = createPipeline(config, { registry, logger, cycles: 3 });
    const started = Date.now();
    await pipeline.run();
    const elapsed = Date.now() - started;
    const errors = lines
      .map((l) => JSON.parse(l) as { level: number; msg: string; err?: string })
      .filter((l) => l.level >= 50);
    return { pipeline, collected, errors, elapsed, dataDir };
  }

  it('bad SASL credentials fail every batch permanently, logged once and dead-lettered, without holding back the other sink', async () => {
    const { pipeline, collected, errors, elapsed, dataDir } = await pipelineWithBrokenKafka(
      `{ type: kafka, brokers: [${kafka.bootstrap}], sasl: { mechanism: scram-sha-512, username: u, password: wrong } }`,
    );
    expect(collected.batches).toHaveLength(6);
    expect(collected.marks).toHaveLength(3);
    expect(pipeline.telemetry.value('heapstream_sink_failed_batches_total', { sink: 'lake' })).toBe(6);
    expect(pipeline.telemetry.value('heapstream_sink_retries_total', { sink: 'lake' })).toBe(0);
    // One line per kind of error, not one per batch.
    expect(errors).toHaveLength(1);
    expect(errors[0]?.msg).toMatch(
      /^sink lake: could not deliver \d+ sets, e\.g\. .* of node .*; not retried/,
    );
    expect(errors[0]?.err).toMatch(/PermanentError: kafka 127\.0\.0\.1:\d+: connecting: .*SASL/);
    const sets = collected.batches.reduce((n, b) => n + b.sets.length, 0);
    expect(pipeline.telemetry.value('heapstream_sink_dead_lettered_sets_total', { sink: 'lake' })).toBe(sets);
    const deadLetters = await readFile(join(dataDir, 'dead-letter', 'lake.jsonl'), 'utf8');
    expect(deadLetters.trim().split('\n')).toHaveLength(sets);
    expect(elapsed).toBeLessThan(6_000);
  });

  it('an unreachable broker fails each batch after max_attempts, without holding back the other sink', async () => {
    const { pipeline, collected, errors } = await pipelineWithBrokenKafka(
      '{ type: kafka, brokers: ["127.0.0.1:9"], connect_timeout: 500ms, ' +
        'retry: { max_attempts: 2, initial_backoff: 50ms, max_backoff: 100ms } }',
    );
    expect(collected.batches).toHaveLength(6);
    expect(pipeline.telemetry.value('heapstream_sink_failed_batches_total', { sink: 'lake' })).toBe(6);
    expect(pipeline.telemetry.value('heapstream_sink_retries_total', { sink: 'lake' })).toBe(6);
    expect(errors.map((e) => e.msg)).toEqual(Array(6).fill('sink lake: batch failed after 2 attempts'));
    expect(errors[0]?.err).toMatch(/RetryableError: kafka 127\.0\.0\.1:9: connecting: .*ECONNREFUSED/);
  });
});

function sorted(labels: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(labels).sort()) out[key] = labels[key] as string;
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/**
 * Kafka sink throughput: metric sets per second to a local single-node broker (started here on loopback, unless
 * KAFKA_BOOTSTRAP names one), then the same messages, encoded beforehand, sent by a bare kafkajs producer in
 * requests of the same size: the ceiling that kafkajs and the broker set on this machine. Prints the numbers;
 * nothing is written to the docs.
 *
 *   npx tsx bench/kafka-throughput.ts [--seconds 10] [--format set|heapster|batch] [--compression none|gzip]
 *                                     [--in-flight 64] [--no-baseline]
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { chunkRecords } from '../sinks/kafka/chunks.js';
import { kafkaSinkConfig } from '../sinks/kafka/config.js';
import { encodeBatch, type KafkaRecord } from '../sinks/kafka/encode.js';
import { rememberingPartitioner } from '../sinks/kafka/partitioner.js';
import kafkaSinkDef from '../sinks/kafka/index.js';
import type { NodeBatch } from '../src/model/types.js';
import type { PieceWriter } from '../src/component/pieces.js';
import { PieceSender } from '../src/engine/piece-sender.js';
import { testContext } from '../src/testing/context.js';
import { summaryBatch } from '../src/testing/fixtures.js';
import { startKafka, type KafkaService } from '../test/services/kafka.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    format: { type: 'string', default: 'set' },
    compression: { type: 'string', default: 'none' },
    'in-flight': { type: 'string', default: '64' },
    'no-baseline': { type: 'boolean', default: false },
  },
});
const seconds = Number(args.seconds);
const inFlight = Number(args['in-flight']);

const fixtures = ['nri-1.34', 'nri-1.30', 'otel-minikube', 'splunk-eks'].map(
  (name) => new URL(`../../shared/fixtures/kubelet/${name}/stats-summary.json`, import.meta.url),
);

// 200 nodes' batches, decoded before timing: the benchmark measures the sink, not the decoder.
const batches: NodeBatch[] = [];
for (let i = 0; i < 200; i++) {
  batches.push(summaryBatch(fixtures[i % fixtures.length] as URL, { node: `node-${i}`, cycle: 1 }));
}
const setsPerRound = batches.reduce((n, b) => n + b.sets.length, 0);

interface Measured {
  sets: number;
  elapsed: number;
  cpuMicros: number;
}

function report(what: string, m: Measured): void {
  const rate = Math.round(m.sets / m.elapsed);
  console.log(
    `${what}: ${m.sets} metric sets in ${m.elapsed.toFixed(2)} s = ${rate.toLocaleString('en')} sets/s; ` +
      `this process's CPU ${(m.cpuMicros / m.sets).toFixed(1)} µs per set ` +
      `(${(m.cpuMicros / 1e6 / m.elapsed).toFixed(2)} cores)`,
  );
}

/** Runs `round` until `seconds` have passed, counting sets, time and this process's CPU. */
async function measure(round: (n: number) => Promise<number>): Promise<Measured> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let sets = 0;
  for (let n = 1; performance.now() < deadline; n++) sets += await round(n);
  const elapsed = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { sets, elapsed, cpuMicros: cpu.user + cpu.system };
}

async function sinkRun(bootstrap: string): Promise<Measured> {
  const config = {
    brokers: [bootstrap],
    topic: `bench-sink-${Date.now()}`,
    format: args.format,
    compression: args.compression,
  };
  const sink = kafkaSinkDef.create(kafkaSinkDef.config.parse(config), testContext());
  // What the sink runner does with a piecewise sink: each batch's progress, and requests shared by those in flight.
  const sender = new PieceSender(sink.pieces as PieceWriter<unknown>);
  const deliver = (batch: NodeBatch): Promise<void> => sender.write(sender.plan(batch));
  await sink.connect?.();
  for (const batch of batches.slice(0, 20)) await deliver(batch); // topic creation, JIT
  const pending = new Set<Promise<void>>();
  const result = await measure(async (n) => {
    for (const batch of batches) {
      // A new batch object per round, as the pipeline makes; `in-flight` writes at once, as max_in_flight.
      const write = deliver({ ...batch, cycle: n + 1 });
      pending.add(write);
      void write.finally(() => pending.delete(write));
      if (pending.size >= inFlight) await Promise.race(pending);
    }
    return setsPerRound;
  });
  await Promise.all(pending);
  await sink.close();
  return result;
}

/** The same messages, encoded before timing, through the sink's producer settings, one request at a time. */
async function baselineRun(bootstrap: string): Promise<Measured> {
  const { Kafka, logLevel, CompressionTypes } = kafkajs;
  const config = kafkaSinkConfig.parse({
    brokers: [bootstrap],
    format: args.format,
    topic: `bench-raw-${Date.now()}`,
  });
  const records: KafkaRecord[] = [];
  for (const batch of batches) records.push(...encodeBatch(batch, config).records);
  const requests = chunkRecords(records, config.max_message_bytes);
  const producer = new Kafka({ brokers: [bootstrap], logLevel: logLevel.NOTHING }).producer({
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: rememberingPartitioner,
  });
  await producer.connect();
  const compression = args.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  const send = async () => {
    for (const request of requests)
      await producer.sendBatch({ topicMessages: request.topicMessages, acks: -1, compression });
  };
  await send();
  const result = await measure(async () => {
    await send();
    return setsPerRound;
  });
  await producer.disconnect();
  return result;
}

let kafka: KafkaService | undefined;
const bootstrap = process.env.KAFKA_BOOTSTRAP ?? (kafka = await startKafka()).bootstrap;
try {
  console.log(
    `${os.cpus().length} cores, load average ${os.loadavg()[0]?.toFixed(1)}; ${batches.length} node batches of ` +
      `${setsPerRound} sets per round; format ${args.format}, compression ${args.compression}, in flight ${inFlight}`,
  );
  report('kafka sink', await sinkRun(bootstrap));
  if (!args['no-baseline']) report('bare kafkajs, messages encoded beforehand', await baselineRun(bootstrap));
} finally {
  await kafka?.stop();
}

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs, { type KafkaMessage } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKafka, type KafkaService } from './services/kafka.js';
import { freeLoopbackPort } from './services/ports.js';
import {
  batchId,
  checkDelivered,
  writeDurableConfig,
  killWhileDownThenRecover,
} from './support/durable-delivery.js';

const { Kafka, logLevel } = kafkajs;

// The "done when" with a real broker: the broker is stopped, heapstream (the real CLI) runs several cycles
// with its Kafka sink buffered on disk, is killed with SIGKILL, restarted, and the broker started: every batch
// made before the kill is read back from the topic once, but for the last cycle's batches not yet written to the
// buffer when the kill came; duplicates, if any, are at most what heapstream counted as redelivered.
/** Kept below the Kafka sink's default (16) and the batches made, so the bound says something. */
const MAX_IN_FLIGHT = 2;
let dir: string;
let kafka: KafkaService;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'heapstream-disk-kafka-'));
  kafka = await startKafka();
});
afterAll(async () => {
  await kafka?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Every message of a topic, read from the beginning: as many as the broker's offsets say it holds. */
async function readTopic(topic: string): Promise<KafkaMessage[]> {
  const client = new Kafka({
    clientId: 'heapstream-test-reader',
    brokers: [kafka.bootstrap],
    logLevel: logLevel.NOTHING,
  });
  const admin = client.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const expected = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const messages: KafkaMessage[] = [];
  if (expected === 0) return messages;
  const consumer = client.consumer({ groupId: `reader-${topic}-${Date.now()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${messages.length} of ${expected}`)), 60_000);
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

/** Batch id → messages holding its first part (`format: batch`: one message per node batch, split if large). */
function arrivalsOf(messages: readonly KafkaMessage[]): Map<string, number> {
  const arrivals = new Map<string, number>();
  for (const message of messages) {
    const body = JSON.parse(message.value?.toString('utf8') ?? '{}') as {
      scope?: string;
      node?: string;
      time?: string;
      part?: number;
    };
    if (body.scope !== 'node' || body.node === undefined || body.time === undefined || body.part !== 0)
      continue;
    const id = batchId(body.node, Date.parse(body.time));
    arrivals.set(id, (arrivals.get(id) ?? 0) + 1);
  }
  return arrivals;
}

describe('heapstream run with a Kafka sink buffered on disk, the broker down across a SIGKILL', () => {
  it('delivers every batch made before the kill once the broker is back, duplicates counted and bounded', async () => {
    const topic = `hs-durable-${Date.now()}`;
    const config = await writeDurableConfig({
      dir,
      port: await freeLoopbackPort(),
      firstAddress: '127.0.22.1',
      sinkLines: [
        'type: kafka',
        `brokers: ['${kafka.bootstrap}']`,
        `topic: ${topic}`,
        'format: batch',
        'connect_timeout: 1s',
        'request_timeout: 2s',
        `max_in_flight: ${MAX_IN_FLIGHT}`,
      ],
    });
    const { made, redelivered, log } = await killWhileDownThenRecover(config, kafka);

    const check = checkDelivered(made, arrivalsOf(await readTopic(topic)));
    // Nothing lost but, at most, batches of the cycle being made at the kill (not yet written to the buffer).
    expect(check.lostBeyondBound, log).toEqual([]);
    expect(check.delivered).toBeGreaterThanOrEqual(3 * 3);
    // Duplicates only as counted, and at most max_in_flight per restart (the batches handed to the sink at the kill).
    expect(check.duplicates).toBeLessThanOrEqual(redelivered);
    expect(redelivered, log).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(log).toMatch(/the disk buffer holds \d+ batches from before; delivering them first/);
  });
});

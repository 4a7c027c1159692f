import kafkajs, { type ProducerBatch } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { PermanentError, RetryableError } from '../../src/component/errors.js';
import type { MetricBatch, NodeBatch } from '../../src/model/types.js';
import { piecewiseWrites } from '../../src/testing/piecewise-writes.js';
import { testContext } from '../../src/testing/context.js';
import { cycleEnd, summaryBatch } from '../../src/testing/fixtures.js';
import { deepFreeze } from '../../src/testing/deep-freeze.js';
import { kafkaSinkConfig } from './config.js';
import { kafkaSink, type ProducerLike } from './kafka-sink.js';

const { KafkaJSConnectionError } = kafkajs;
// kafkajs' typings omit the constructor arguments these classes take at run time.
const KafkaJSProtocolError = kafkajs.KafkaJSProtocolError as unknown as new (e: object) => Error;
const KafkaJSSASLAuthenticationError = kafkajs.KafkaJSSASLAuthenticationError as unknown as new (
  message: string,
) => Error;

const fixture = new URL('../../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url);
// Sinks only read: every batch here is deep-frozen, so a sink that changes one fails with a TypeError.
const decoded = deepFreeze(summaryBatch(fixture, { node: 'n1' }));

function batch(cycle: number, node = 'n1'): NodeBatch {
  return deepFreeze({ ...decoded, node, cycle, sets: decoded.sets.slice(0, 4) });
}

/** A producer that records each request's messages; sends wait for `release` when gated, or fail as told. */
function fakeKafka() {
  const requests: string[][] = [];
  const failures: (Error | undefined)[] = [];
  const connectFailures: Error[] = [];
  let connects = 0;
  let gate: Promise<void> | undefined;
  let open: (() => void) | undefined;
  const producer: ProducerLike = {
    connect() {
      connects++;
      const failure = connectFailures.shift();
      return failure === undefined ? Promise.resolve() : Promise.reject(failure);
    },
    async sendBatch(request: ProducerBatch) {
      const values = (request.topicMessages ?? []).flatMap((t) => t.messages.map((m) => String(m.value)));
      requests.push(values);
      if (gate !== undefined) await gate;
      const failure = failures.shift();
      if (failure !== undefined) throw failure;
      return [];
    },
    disconnect: () => Promise.resolve(),
  };
  return {
    newProducer: () => producer,
    requests,
    failures,
    connectFailures,
    connects: () => connects,
    hold() {
      gate = new Promise((resolve) => (open = resolve));
    },
    release() {
      gate = undefined;
      open?.();
    },
  };
}

function sinkWith(kafka: ReturnType<typeof fakeKafka>, config: Record<string, unknown> = {}) {
  const parsed = kafkaSinkConfig.parse({ brokers: ['127.0.0.1:9092'], ...config });
  return kafkaSink(parsed, testContext(), kafka.newProducer);
}

/** The `key@time` of each set message of a request, to compare requests by content. */
function setKeys(values: readonly string[]): string[] {
  return values.map((v) => (JSON.parse(v) as { key: string }).key);
}

describe('kafka sink delivery (fake producer)', () => {
  it('sends each cycle mark as a message of its own with format batch, and has no cycleEnd otherwise', async () => {
    const kafka = fakeKafka();
    const sink = sinkWith(kafka, { format: 'batch' });
    await sink.cycleEnd?.(cycleEnd(3, 2));
    expect(kafka.requests).toHaveLength(1);
    expect(JSON.parse(kafka.requests[0]?.[0] as string)).toMatchObject({ kind: 'cycle_end', cycle: 3 });
    expect(typeof sinkWith(fakeKafka()).cycleEnd).toBe('undefined');
  });

  it('writes in flight together share one produce request', async () => {
    const kafka = fakeKafka();
    const sink = sinkWith(kafka);
    const write = piecewiseWrites(sink);
    await sink.connect?.();
    kafka.hold();
    const first = write(batch(1));
    await Promise.resolve();
    const rest = [2, 3, 4].map((c) => write(batch(c)));
    kafka.release();
    await Promise.all([first, ...rest]);
    expect(kafka.requests.map((r) => r.length)).toEqual([4, 12]);
    expect(kafka.connects()).toBe(1);
  });

  it('sends a failed request again unchanged before anything new, then the rest', async () => {
    const kafka = fakeKafka();
    const write = piecewiseWrites(sinkWith(kafka));
    const a = batch(1, 'a');
    const b = batch(1, 'b');
    kafka.failures.push(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'));
    const results = await Promise.allSettled([write(a), write(b)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toBeInstanceOf(RetryableError);
    const failed = kafka.requests[0] as string[];
    expect(failed).toHaveLength(8);

    // The runner retries b first this time, with a new batch c behind it.
    const c = batch(2, 'c');
    await Promise.all([write(b), write(c), write(a)]);
    expect(kafka.requests[1]).toEqual(failed);
    expect(setKeys(kafka.requests[2] as string[])).toEqual(c.sets.map((s) => s.key));
    expect(kafka.requests).toHaveLength(3);
  });

  it('does not send again the pieces of a batch that were acknowledged', async () => {
    const kafka = fakeKafka();
    // Small requests: one set each.
    const write = piecewiseWrites(sinkWith(kafka, { max_message_bytes: 2_000 }));
    const big: MetricBatch = deepFreeze({
      ...decoded,
      sets: decoded.sets.filter((s) => s.type === 'pod').slice(0, 3),
    });
    kafka.hold();
    const attempt = write(big);
    // Fail the second request only.
    kafka.failures.push(undefined, new KafkaJSConnectionError('Connection error: reset'));
    kafka.release();
    await expect(attempt).rejects.toBeInstanceOf(RetryableError);
    await write(big);
    const sent = kafka.requests.map((r) => setKeys(r));
    expect(sent).toHaveLength(4);
    const keys = big.sets.map((s) => s.key);
    expect(sent).toEqual([[keys[0]], [keys[1]], [keys[1]], [keys[2]]]);
  });

  it('bad credentials and too-large messages are permanent; the latter starts a new producer', async () => {
    const kafka = fakeKafka();
    const sink = sinkWith(kafka);
    kafka.connectFailures.push(new KafkaJSSASLAuthenticationError('SASL PLAIN authentication failed'));
    await expect(sink.write(batch(1))).rejects.toThrow(PermanentError);
    await expect(sink.write(batch(1))).resolves.toBeUndefined();
    expect(kafka.connects()).toBe(2);

    kafka.failures.push(
      new KafkaJSProtocolError({
        message: 'The request included a message larger than the max message size',
        type: 'MESSAGE_TOO_LARGE',
        code: 10,
        retriable: false,
      }),
    );
    const error = await sink.write(batch(2)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect(String(error)).toContain(
      'kafka 127.0.0.1:9092: producing 4 messages: The request included a message larger',
    );
    await sink.write(batch(3));
    expect(kafka.connects()).toBe(3);
  });

  it('delivers the sets that fit and fails the write for those larger than max_message_bytes', async () => {
    const kafka = fakeKafka();
    const sink = sinkWith(kafka, { max_message_bytes: 1_300 });
    const mixed: MetricBatch = deepFreeze({ ...decoded, sets: decoded.sets.slice(0, 12) });
    const error = await sink.write(mixed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    const delivered = kafka.requests.flat().length;
    expect(delivered).toBeGreaterThan(0);
    expect(delivered).toBeLessThan(12);
    expect(String(error)).toMatch(
      /\d+ metric sets do not fit in max_message_bytes \(1300\) and were not sent, e\.g\. /,
    );
  });

  it('close is idempotent and later writes fail permanently', async () => {
    const kafka = fakeKafka();
    const sink = sinkWith(kafka);
    await sink.write(batch(1));
    await sink.close();
    await sink.close();
    await expect(sink.write(batch(2))).rejects.toBeInstanceOf(PermanentError);
    expect(kafka.requests).toHaveLength(1);
  });
});

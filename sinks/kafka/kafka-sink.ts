import kafkajs, { type ProducerBatch } from 'kafkajs';
import type { ComponentContext, Sink } from '../../src/component/component.js';
import { PermanentError } from '../../src/component/errors.js';
import type { MetricBatch } from '../../src/model/types.js';
import { chunkRecords, mergeChunks, type SendChunk } from './chunks.js';
import { kafkaClientConfig } from './client-options.js';
import type { KafkaSinkConfig } from './config.js';
import { BatchEncoder } from './encode.js';
import { classifyKafkaError } from './kafka-errors.js';
import { rememberingPartitioner } from './partitioner.js';

const { Kafka, CompressionTypes } = kafkajs;

/** A batch on its way: its pieces (each fits one request), how many are acknowledged, and what could not fit. */
interface DeliveryPlan {
  readonly batch: MetricBatch;
  readonly chunks: readonly SendChunk[];
  readonly oversize: readonly string[];
  acknowledged: number;
}

/** A write waiting for its batch to be acknowledged. */
interface PendingWrite {
  readonly plan: DeliveryPlan;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** One piece of one batch inside a produce request. */
interface RequestPart {
  readonly plan: DeliveryPlan;
  readonly chunk: number;
}

/**
 * The Kafka sink: encodes each batch (set, heapster or batch format) into pieces under max_message_bytes and
 * resolves a write once all of its pieces are acknowledged (acks: -1 by default).
 *
 * Writes the runner has in flight at the same time (`max_in_flight`) share produce requests, up to
 * max_message_bytes each: a node's batch is small, and a request per batch would spend the time on round trips.
 * One request is in flight at a time, as the idempotent producer's sequence numbers need.
 *
 * Delivery is exactly once per partition across broker restarts: the producer is idempotent and kept across
 * failures, a request that failed is sent again first and unchanged (same messages, same sequence numbers, so
 * the broker drops what it already appended), and pieces already acknowledged are not sent again when the
 * runner retries a batch.
 *
 * @example
 * const sink = kafkaSink(kafkaSinkConfig.parse({ brokers: ['127.0.0.1:9092'] }), ctx);
 * await sink.write(batch); await sink.close();
 */
export function kafkaSink(
  config: KafkaSinkConfig,
  ctx: ComponentContext,
  newProducer: () => ProducerLike = kafkajsProducer(config, ctx),
): Sink {
  return new KafkaSink(config, newProducer);
}

/** What the sink uses of a kafkajs producer; tests pass a fake to `kafkaSink`. */
export interface ProducerLike {
  connect(): Promise<void>;
  sendBatch(batch: ProducerBatch): Promise<unknown>;
  disconnect(): Promise<void>;
}

function kafkajsProducer(config: KafkaSinkConfig, ctx: ComponentContext): () => ProducerLike {
  const kafka = new Kafka(kafkaClientConfig(config, ctx.logger, ctx.baseDir));
  return () =>
    kafka.producer({
      idempotent: config.idempotent,
      maxInFlightRequests: config.idempotent ? 1 : 5,
      createPartitioner: rememberingPartitioner,
      // Limited so that a send never outlives by much the write the runner gave up on (it logs that this
      // "may invalidate EoS": it does not here, because a failed request is sent again unchanged).
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
}

class KafkaSink implements Sink {
  private readonly where: string;
  private readonly encoder: BatchEncoder;
  private readonly plans = new WeakMap<MetricBatch, DeliveryPlan>();
  private readonly compression;
  private producer: ProducerLike | undefined;
  private queue: PendingWrite[] = [];
  /** A request that failed: its outcome is unknown, so it goes again, unchanged, before anything else. */
  private inDoubt: RequestPart[] | undefined;
  private sending = false;
  private connecting: Promise<ProducerLike> | undefined;
  private closed = false;

  constructor(
    private readonly config: KafkaSinkConfig,
    private readonly makeProducer: () => ProducerLike,
  ) {
    this.encoder = new BatchEncoder(config);
    this.where = `kafka ${config.brokers.join(',')}`;
    this.compression = config.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
  }

  async connect(): Promise<void> {
    await this.ensureProducer();
  }

  write(batch: MetricBatch): Promise<void> {
    if (this.closed) return Promise.reject(new PermanentError(`${this.where}: the sink is closed`));
    // Encoded on arrival, so that encoding overlaps the request in flight.
    let plan = this.plans.get(batch);
    if (plan === undefined) {
      const { records, oversize } = this.encoder.encode(batch);
      const chunks = chunkRecords(records, this.config.max_message_bytes);
      plan = { batch, chunks, oversize, acknowledged: 0 };
      this.plans.set(batch, plan);
    }
    const waiting = plan;
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ plan: waiting, resolve, reject });
      void this.pump();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.failQueued(new PermanentError(`${this.where}: the sink is closed`));
    const producer = this.producer;
    this.producer = undefined;
    if (producer !== undefined) await producer.disconnect();
  }

  /** Sends requests while writes are waiting; on a failure, fails every waiting write (the runner retries). */
  private async pump(): Promise<void> {
    if (this.sending) return;
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        this.settleCompleted();
        if (this.queue.length === 0) break;
        try {
          const producer = await this.ensureProducer();
          // Taken after connecting, so that writes arriving meanwhile share the request.
          await this.send(producer, this.inDoubt ?? this.nextRequest());
        } catch (err) {
          // Every waiting write fails now: the runner retries each with its backoff, and the next attempt
          // starts with the request in doubt (an error while connecting leaves it as it was: nothing was sent).
          this.failQueued(err);
        }
      }
    } finally {
      this.sending = false;
    }
  }

  private async send(producer: ProducerLike, parts: RequestPart[]): Promise<void> {
    const chunks: SendChunk[] = [];
    for (const part of parts) chunks.push(part.plan.chunks[part.chunk] as SendChunk);
    const request = mergeChunks(chunks);
    try {
      await producer.sendBatch({
        topicMessages: request.topicMessages,
        acks: this.config.acks,
        timeout: this.config.request_timeout,
        compression: this.compression,
      });
    } catch (err) {
      const classified = classifyKafkaError(err, `${this.where}: producing ${request.records} messages`);
      if (classified.resetProducer) {
        // A new producer has new sequence numbers: the broker could not tell a resend from new data anyway.
        this.inDoubt = undefined;
        await this.dropProducer();
      } else {
        this.inDoubt = parts;
      }
      throw classified.error;
    }
    this.inDoubt = undefined;
    for (const part of parts) part.plan.acknowledged = Math.max(part.plan.acknowledged, part.chunk + 1);
  }

  /** The next pieces in write order, as many as fit in one request; a batch's pieces stay in order. */
  private nextRequest(): RequestPart[] {
    const parts: RequestPart[] = [];
    const taken = new Set<DeliveryPlan>();
    let bytes = 0;
    for (const { plan } of this.queue) {
      if (taken.has(plan)) continue; // the runner's retry of a write still waiting here
      taken.add(plan);
      for (let chunk = plan.acknowledged; chunk < plan.chunks.length; chunk++) {
        const size = (plan.chunks[chunk] as SendChunk).bytes;
        if (parts.length > 0 && bytes + size > this.config.max_message_bytes) return parts;
        parts.push({ plan, chunk });
        bytes += size;
      }
    }
    return parts;
  }

  /** Resolves the writes whose batches are fully acknowledged (or fails them for the sets that did not fit). */
  private settleCompleted(): void {
    const waiting: PendingWrite[] = [];
    for (const write of this.queue) {
      const plan = write.plan;
      if (plan.acknowledged < plan.chunks.length) {
        waiting.push(write);
        continue;
      }
      this.plans.delete(plan.batch);
      if (plan.oversize.length === 0) write.resolve();
      else write.reject(this.oversizeError(plan));
    }
    this.queue = waiting;
  }

  private oversizeError(plan: DeliveryPlan): PermanentError {
    return new PermanentError(
      `${this.where}: ${plan.oversize.length} metric sets do not fit in max_message_bytes ` +
        `(${this.config.max_message_bytes}) and were not sent, e.g. ${plan.oversize[0]}; the rest of the batch ` +
        `was delivered. Raise max_message_bytes (and the topic's max.message.bytes) or use format heapster`,
      // The rest is acknowledged: the runner must not send any of the batch again (it would be duplicated).
      { partial: true },
    );
  }

  private failQueued(err: unknown): void {
    const failed = this.queue;
    this.queue = [];
    for (const write of failed) write.reject(err);
  }

  private ensureProducer(): Promise<ProducerLike> {
    if (this.closed) return Promise.reject(new PermanentError(`${this.where}: the sink is closed`));
    if (this.producer !== undefined) return Promise.resolve(this.producer);
    this.connecting ??= this.newProducer().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async newProducer(): Promise<ProducerLike> {
    const producer = this.makeProducer();
    try {
      await producer.connect();
    } catch (err) {
      await disconnectQuietly(producer);
      throw classifyKafkaError(err, `${this.where}: connecting`).error;
    }
    if (this.closed) {
      await disconnectQuietly(producer);
      throw new PermanentError(`${this.where}: the sink is closed`);
    }
    this.producer = producer;
    return producer;
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer !== undefined) await disconnectQuietly(producer);
  }
}

async function disconnectQuietly(producer: ProducerLike): Promise<void> {
  try {
    await producer.disconnect();
  } catch {
    // Already broken; the next attempt starts a new producer.
  }
}

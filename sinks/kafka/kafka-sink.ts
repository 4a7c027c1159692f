import kafkajs, { type Kafka as KafkaClient, type Producer } from 'kafkajs';
import type { ComponentContext, Sink } from '../../src/engine/component.js';
import { PermanentError } from '../../src/errors.js';
import type { MetricBatch } from '../../src/model/types.js';
import { chunkRecords, type SendChunk } from './chunks.js';
import { kafkaClientConfig } from './client-options.js';
import type { KafkaSinkConfig } from './config.js';
import { encodeBatch } from './encode.js';
import { classifyKafkaError } from './kafka-errors.js';

const { Kafka, CompressionTypes, Partitioners } = kafkajs;

/** A batch on its way: its produce requests, how many were acknowledged, and the sets too large to send. */
interface DeliveryPlan {
  readonly chunks: readonly SendChunk[];
  readonly oversize: readonly string[];
  acknowledged: number;
}

/**
 * The Kafka sink: encodes each batch (set, heapster or batch format), splits it into produce requests under
 * max_message_bytes, and resolves once every request is acknowledged (acks: -1 by default).
 *
 * Delivery is exactly once per partition across broker restarts: the producer is idempotent and kept across
 * failures, a failed request is sent again with the same sequence numbers (the broker drops what it already
 * has), and requests already acknowledged are not sent again when the runner retries the batch. Sends are
 * serialized, so a retry never overtakes an attempt the runner gave up waiting for.
 *
 * @example
 * const sink = kafkaSink(kafkaSinkConfig.parse({ brokers: ['127.0.0.1:9092'] }), ctx);
 * await sink.write(batch); await sink.close();
 */
export function kafkaSink(config: KafkaSinkConfig, ctx: ComponentContext): Sink {
  return new KafkaSink(config, ctx);
}

class KafkaSink implements Sink {
  private readonly kafka: KafkaClient;
  private readonly where: string;
  private readonly plans = new WeakMap<MetricBatch, DeliveryPlan>();
  private producer: Producer | undefined;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly config: KafkaSinkConfig,
    ctx: ComponentContext,
  ) {
    this.kafka = new Kafka(kafkaClientConfig(config, ctx.logger, ctx.baseDir));
    this.where = `kafka ${config.brokers.join(',')}`;
  }

  connect(): Promise<void> {
    return this.serialized(async () => {
      await this.ensureProducer();
    });
  }

  write(batch: MetricBatch): Promise<void> {
    if (this.closed) return Promise.reject(new PermanentError(`${this.where}: the sink is closed`));
    // Encoding happens outside the send queue, so one batch is encoded while the previous one is in flight.
    let plan = this.plans.get(batch);
    if (plan === undefined) {
      const { records, oversize } = encodeBatch(batch, this.config);
      plan = { chunks: chunkRecords(records, this.config.max_message_bytes), oversize, acknowledged: 0 };
      this.plans.set(batch, plan);
    }
    const delivering = plan;
    return this.serialized(() => this.deliver(batch, delivering));
  }

  async close(): Promise<void> {
    this.closed = true;
    const producer = this.producer;
    this.producer = undefined;
    if (producer !== undefined) await producer.disconnect();
  }

  private async deliver(batch: MetricBatch, plan: DeliveryPlan): Promise<void> {
    const compression = this.config.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    while (plan.acknowledged < plan.chunks.length) {
      const chunk = plan.chunks[plan.acknowledged] as SendChunk;
      const producer = await this.ensureProducer();
      try {
        await producer.sendBatch({
          topicMessages: chunk.topicMessages,
          acks: this.config.acks,
          timeout: this.config.request_timeout,
          compression,
        });
      } catch (err) {
        const classified = classifyKafkaError(err, `${this.where}: producing ${chunk.records} messages`);
        if (classified.resetProducer) await this.dropProducer();
        throw classified.error;
      }
      plan.acknowledged++;
    }
    this.plans.delete(batch);
    if (plan.oversize.length > 0) {
      throw new PermanentError(
        `${this.where}: ${plan.oversize.length} metric sets do not fit in max_message_bytes ` +
          `(${this.config.max_message_bytes}) and were not sent, e.g. ${plan.oversize[0]}; the rest of the batch ` +
          `was delivered. Raise max_message_bytes (and the topic's max.message.bytes) or use format heapster`,
      );
    }
  }

  private async ensureProducer(): Promise<Producer> {
    if (this.closed) throw new PermanentError(`${this.where}: the sink is closed`);
    if (this.producer !== undefined) return this.producer;
    const producer = this.kafka.producer({
      idempotent: this.config.idempotent,
      maxInFlightRequests: this.config.idempotent ? 1 : 5,
      createPartitioner: Partitioners.DefaultPartitioner,
      retry: { retries: 3, initialRetryTime: 100, maxRetryTime: 1_000 },
    });
    try {
      await producer.connect();
    } catch (err) {
      await disconnectQuietly(producer);
      throw classifyKafkaError(err, `${this.where}: connecting`).error;
    }
    this.producer = producer;
    return producer;
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    if (producer !== undefined) await disconnectQuietly(producer);
  }

  /** Runs sends one after another: an idempotent producer's sequence numbers need them in order. */
  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

async function disconnectQuietly(producer: Producer): Promise<void> {
  try {
    await producer.disconnect();
  } catch {
    // Already broken; the next attempt starts a new producer.
  }
}

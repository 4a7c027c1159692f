import kafkajs, { type ProducerBatch } from 'kafkajs';
import type { ComponentContext, Sink } from '../../src/component/component.js';
import { PermanentError } from '../../src/component/errors.js';
import type { CycleEnd, MetricBatch } from '../../src/model/types.js';
import { writeAllPieces, type EncodedBatch, type PieceWriter } from '../../src/component/pieces.js';
import { chunkRecords, mergeChunks, type SendChunk } from './chunks.js';
import { kafkaClientConfig } from '../../src/component/kafka-client.js';
import type { KafkaSinkConfig } from './config.js';
import { BatchEncoder } from './encode.js';
import { classifyKafkaError } from './kafka-errors.js';
import { rememberingPartitioner } from './partitioner.js';

const { Kafka, CompressionTypes } = kafkajs;

/**
 * The Kafka sink: encodes each batch (set, heapster or batch format) into pieces under max_message_bytes and
 * resolves a write once all of its pieces are acknowledged (acks: -1 by default).
 *
 * The sink keeps no queue: it is a piecewise sink (see PieceWriter) that merges, so the runner lets the batches
 * it has in flight (`max_in_flight`) share produce requests of up to max_message_bytes (a node's batch is small,
 * and a request per batch would spend the time on round trips), one request at a time, as the idempotent
 * producer's sequence numbers need.
 *
 * Delivery is exactly once per partition across broker restarts: the producer is idempotent and kept across
 * failures, the runner sends a request that failed again first and unchanged (same messages, same sequence
 * numbers, so the broker drops what it already appended), and pieces already acknowledged are not sent again
 * when it retries a batch.
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
  private readonly compression;
  private producer: ProducerLike | undefined;
  private connecting: Promise<ProducerLike> | undefined;
  private closed = false;
  readonly pieces: PieceWriter<SendChunk>;
  /** With `format: batch` only: the cycle's mark as a message of its own (see README, Formats). */
  readonly cycleEnd?: (mark: CycleEnd) => Promise<void>;

  constructor(
    private readonly config: KafkaSinkConfig,
    private readonly makeProducer: () => ProducerLike,
  ) {
    this.encoder = new BatchEncoder(config);
    this.where = `kafka ${config.brokers.join(',')}`;
    this.compression = config.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
    this.pieces = {
      encode: (batch) => this.encode(batch),
      send: (chunks) => this.send(chunks),
      merge: { maxBytes: config.max_message_bytes, bytesOf: (chunk) => chunk.bytes },
    };
    if (config.format === 'batch') {
      this.cycleEnd = (mark) => this.send(chunkRecords([this.encoder.cycleEnd(mark)], Infinity));
    }
  }

  async connect(): Promise<void> {
    await this.ensureProducer();
  }

  write(batch: MetricBatch): Promise<void> {
    return writeAllPieces(this.pieces, batch);
  }

  async close(): Promise<void> {
    this.closed = true;
    const producer = this.producer;
    this.producer = undefined;
    if (producer !== undefined) await producer.disconnect();
  }

  /** A batch in pieces that each fit one request, and the sets too large for any, reported once the rest is sent. */
  private encode(batch: MetricBatch): EncodedBatch<SendChunk> {
    const { records, oversize } = this.encoder.encode(batch);
    const pieces = chunkRecords(records, this.config.max_message_bytes);
    if (oversize.length === 0) return { pieces };
    return { pieces, settle: () => this.oversizeError(oversize) };
  }

  private async send(chunks: readonly SendChunk[]): Promise<void> {
    if (this.closed) throw new PermanentError(`${this.where}: the sink is closed`);
    const producer = await this.ensureProducer();
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
      // A new producer has new sequence numbers: the broker could not tell a resend from new data anyway.
      if (classified.resetProducer) await this.dropProducer();
      throw classified.error;
    }
  }

  private oversizeError(oversize: readonly string[]): PermanentError {
    return new PermanentError(
      `${this.where}: ${oversize.length} metric sets do not fit in max_message_bytes ` +
        `(${this.config.max_message_bytes}) and were not sent, e.g. ${oversize[0]}; the rest of the batch ` +
        `was delivered. Raise max_message_bytes (and the topic's max.message.bytes) or use format heapster`,
      // The rest is acknowledged: the runner must not send any of the batch again (it would be duplicated).
      { partial: true },
    );
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

import kafkajs, { type EachMessagePayload } from 'kafkajs';
import { Observable } from 'rxjs';
import type { SourceContext } from '../../src/component/component.js';
import { LogLimiter } from '../../src/component/log-limiter.js';
import { kafkaClientConfig } from '../../src/component/kafka-client.js';
import { readBatchMessage } from '../../src/model/batch-message.js';
import type { PipelineEvent } from '../../src/model/types.js';
import { CycleAssembler, type Outcome } from './assembler.js';
import { OffsetBook } from './offsets.js';
import type { KafkaSourceConfig } from './config.js';

const { Kafka } = kafkajs;

/** How long a stop waits for the sinks to finish the cycles emitted, so that their offsets are committed. */
const DRAIN_WAIT_MS = 30_000;

/** Wait between attempts to join the group while the brokers cannot be reached. */
const RECONNECT_MS = [1_000, 2_000, 5_000, 10_000, 30_000];

/**
 * A second tier's source: joins `group_id`, reads the `batch` format of `topic`, and emits node batches and
 * cycle marks as a kubelet source would (see CycleAssembler), so any processor (aggregate…) and sink can run
 * after it. It stops when the pipeline's clock stops (shutdown or `--cycles`): it has no ticks of its own to
 * follow, the first tier's marks pace it.
 *
 * At least once: offsets are committed only once the sinks are done with the cycles the messages belong to
 * (ctx.delivered, see OffsetBook), so a crash reads again every cycle not finished. Without ctx.delivered (an
 * embedder's context), kafkajs commits what was handed to the pipeline.
 *
 * @example
 * kafkaSource(kafkaSourceConfig.parse({ brokers: ['127.0.0.1:9092'] }), ctx).subscribe(...)
 */
export function kafkaSource(config: KafkaSourceConfig, ctx: SourceContext): Observable<PipelineEvent> {
  // SASL and TLS files are read now: a missing one is a configuration error at start, as for the sink.
  const client = kafkaClientConfig(config, ctx.logger, ctx.baseDir);
  return new Observable<PipelineEvent>((subscriber) => {
    const t = ctx.telemetry;
    t.describe('heapstream_kafka_source_messages_total', 'Messages read, by what became of them.');
    const counters = new Map<Outcome | 'bad', ReturnType<typeof t.counter>>();
    const count = (outcome: Outcome | 'bad'): void => {
      let counter = counters.get(outcome);
      if (counter === undefined) {
        counter = t.counter('heapstream_kafka_source_messages_total', { source: ctx.id, outcome });
        counters.set(outcome, counter);
      }
      counter.inc();
    };
    const limitedLog = new LogLimiter(ctx.logger, ctx.clock);
    // Marks emitted and not yet delivered by every sink, by cluster and cycle: a stop waits for them (see stop).
    const undelivered = new Set<string>();
    const markKey = (cluster: string | undefined, cycle: number) =>
      (cluster ?? '') + '\u0000' + String(cycle);
    let allDelivered: (() => void) | undefined;
    t.describe(
      'heapstream_kafka_source_cycles_total',
      'Cycles closed, by outcome: complete, or incomplete (a sharded cycle closed before every partition’s mark came).',
    );
    const cycles = {
      complete: t.counter('heapstream_kafka_source_cycles_total', { source: ctx.id, outcome: 'complete' }),
      incomplete: t.counter('heapstream_kafka_source_cycles_total', {
        source: ctx.id,
        outcome: 'incomplete',
      }),
    };
    const assembler = new CycleAssembler(
      (event) => {
        if (event.kind === 'cycle_end') {
          undelivered.add(markKey(event.cluster, event.cycle));
          const shard = event.shard;
          if (shard === undefined || shard.partitions.length >= shard.of) cycles.complete.inc();
        }
        subscriber.next(event);
      },
      {
        now: () => ctx.clock.now(),
        deadlineMs: config.cycle_deadline,
        incomplete: (mark, missing) => {
          cycles.incomplete.inc();
          ctx.logger.warn(
            {
              cluster: mark.cluster,
              cycle: mark.cycle,
              missingPartitions: missing,
              nodesAnswered: mark.nodesAnswered,
              nodesExpected: mark.nodesExpected,
            },
            `source ${ctx.id}: cycle ${mark.cycle} closed incomplete: no mark for ${missing.length} of ${mark.shard?.of ?? 0} partitions; its sums lack their nodes`,
          );
        },
      },
    );
    // Deadlines are checked a few times per deadline, so a cycle closes at most a quarter late.
    const deadlines = setInterval(
      () => assembler.expire(),
      Math.max(100, Math.min(1_000, config.cycle_deadline / 4)),
    );
    // At least once when the engine says what the sinks are done with; else kafkajs commits what was emitted.
    const delivered = ctx.delivered;
    const book = new OffsetBook();
    /** Clusters named by the messages: a delivered mark of another was named by the pipeline's cluster_name. */
    const clustersRead = new Set<string | undefined>();
    const kafka = new Kafka(client);
    const consumer = kafka.consumer({
      groupId: config.group_id,
      sessionTimeout: config.session_timeout,
      // A node batch part is at most the sink's max_message_bytes; let one fetch carry many.
      maxBytesPerPartition: 16 * 1024 * 1024,
    });
    let stopped = false;

    const onMessage = ({ topic, partition, message }: EachMessagePayload): Promise<void> => {
      if (stopped) return Promise.resolve();
      const text = message.value?.toString('utf8');
      const offset = Number(message.offset);
      try {
        if (text === undefined) throw new Error('the message has no value');
        const read = readBatchMessage(text);
        const of = read.kind === 'batch' ? read : read.mark;
        clustersRead.add(of.cluster);
        const outcome = assembler.accept(read);
        count(outcome);
        const settled = outcome === 'duplicate';
        book.read(topic, partition, offset, settled ? undefined : { cluster: of.cluster, cycle: of.cycle });
      } catch (error) {
        book.read(topic, partition, offset);
        count('bad');
        const reason = error instanceof Error ? error.message : String(error);
        limitedLog.log(
          'warn',
          `bad:${topic}:${partition}`,
          { topic, partition, offset: message.offset, reason },
          `source ${ctx.id}: skipped a message that is not in the batch format (${reason})`,
        );
      }
      return Promise.resolve();
    };

    const start = async (): Promise<void> => {
      for (let attempt = 0; !stopped; attempt++) {
        try {
          await consumer.connect();
          await consumer.subscribe({ topics: [config.topic], fromBeginning: config.from_beginning });
          await consumer.run({ autoCommit: delivered === undefined, eachMessage: onMessage });
          ctx.logger.info({ topic: config.topic, group: config.group_id }, `source ${ctx.id}: consuming`);
          return;
        } catch (error) {
          const wait = RECONNECT_MS[Math.min(attempt, RECONNECT_MS.length - 1)] as number;
          ctx.logger.warn(
            { err: error, brokers: config.brokers, retryInMs: wait },
            `source ${ctx.id}: cannot join consumer group ${config.group_id}`,
          );
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
      }
    };

    const commit = async (): Promise<void> => {
      const commits = book.commits();
      if (commits.length === 0) return;
      try {
        await consumer.commitOffsets(commits);
      } catch (error) {
        // The next delivered cycle commits a later offset, which covers this one.
        ctx.logger.warn({ err: error, commits }, `source ${ctx.id}: committing offsets failed`);
      }
    };
    let committing = Promise.resolve();
    const deliveries = delivered?.subscribe((mark) => {
      const cluster = clustersRead.has(mark.cluster) ? mark.cluster : undefined;
      book.delivered(cluster, mark.cycle);
      undelivered.delete(markKey(cluster, mark.cycle));
      committing = committing.then(commit);
      if (undelivered.size === 0) allDelivered?.();
    });
    consumer.on(consumer.events.GROUP_JOIN, (event) => book.keepOnly(event.payload.memberAssignment));

    /**
     * Stops reading, then waits (up to DRAIN_WAIT_MS) until the sinks are done with the marks emitted, so that
     * their offsets are committed before the consumer leaves: a clean stop reads nothing twice at the next start.
     */
    const stop = async (): Promise<void> => {
      if (stopped) return;
      stopped = true;
      clearInterval(deadlines);
      if (deliveries !== undefined && undelivered.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          allDelivered = resolve;
          timer = setTimeout(resolve, DRAIN_WAIT_MS);
        });
        clearTimeout(timer);
        await committing;
      }
      deliveries?.unsubscribe();
      try {
        await consumer.disconnect();
      } catch (error) {
        ctx.logger.debug({ err: error }, `source ${ctx.id}: disconnecting`);
      }
    };

    void start();
    // The clock only says when to stop: the first tier's marks pace this source.
    const ticks = ctx.ticks.subscribe({
      complete: () => void stop().then(() => subscriber.complete()),
      error: (error: unknown) => void stop().then(() => subscriber.error(error)),
    });
    return () => {
      ticks.unsubscribe();
      void stop();
    };
  });
}

import kafkajs, { type Admin, type Consumer } from 'kafkajs';
import type { SourceContext } from '../component/component.js';
import { kafkaClientConfig } from '../component/kafka-client.js';
import type { ShardCoverage } from '../model/shard.js';
import type { ShardingConfig } from './sharding-config.js';

const { Kafka } = kafkajs;

/** Wait between attempts to join while the brokers cannot be reached. */
const RETRY_MS = [1_000, 2_000, 5_000, 10_000];

/**
 * One collector replica's membership in the sharding group (`sharding:` of a kubelet source): it makes the
 * assignment topic if it is missing, joins the group, and keeps the partitions the group last gave it (GROUP_JOIN).
 * The source reads `coverage()` at each tick, so a rebalance takes effect at the next cycle.
 *
 * Through a rebalance the replica keeps its old partitions until the new assignment comes (Kafka's eager protocol
 * hands every member its new share at the same moment), so nodes are neither dropped nor scraped twice for longer
 * than one cycle. While the brokers cannot be reached it keeps what it had: every replica does the same, so the
 * cluster stays covered; a replica cut off alone scrapes its old share alongside the new owner until it rejoins
 * (its batches reach the second tier late, where a node's second batch in a cycle is skipped).
 *
 * @example
 * const membership = new ShardMembership(config.sharding, ctx); membership.start();
 * const { partitions, of } = membership.coverage();
 */
export class ShardMembership {
  private partitions: readonly number[] = [];
  private of: number;
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private stopped = false;
  private readonly owned;

  constructor(
    private readonly config: ShardingConfig,
    private readonly ctx: SourceContext,
  ) {
    this.of = config.partitions;
    const kafka = new Kafka(kafkaClientConfig(config, ctx.logger, ctx.baseDir));
    this.admin = kafka.admin();
    this.consumer = kafka.consumer({
      groupId: config.group_id,
      sessionTimeout: config.session_timeout,
      heartbeatInterval: config.heartbeat_interval,
      // A member that does not rejoin a rebalance in this time is left out, as a dead one would be.
      rebalanceTimeout: config.session_timeout,
      // Nothing is ever written to the topic: kafkajs heartbeats between fetches, so a fetch must not wait
      // longer than a heartbeat interval, or a rebalance is noticed late.
      maxWaitTimeInMs: config.heartbeat_interval,
      retry: { restartOnFailure: () => Promise.resolve(true) },
    });
    ctx.telemetry.describe(
      'heapstream_shard_partitions',
      'Partitions of the sharding topic this replica holds (it scrapes the nodes that hash to them).',
    );
    this.owned = ctx.telemetry.gauge('heapstream_shard_partitions', { source: ctx.id });
    this.warnIfSlowerThanCycles();
  }

  /** What this replica covers now: no partition before it first joined the group. */
  coverage(): ShardCoverage {
    return { partitions: this.partitions, of: this.of };
  }

  /** Joins in the background, retrying while the brokers cannot be reached. */
  start(): void {
    const { consumer, ctx, config } = this;
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const held = [...(event.payload.memberAssignment[config.topic] ?? [])].sort((a, b) => a - b);
      this.partitions = held;
      this.owned.set(held.length);
      ctx.logger.info(
        { group: config.group_id, partitions: held, of: this.of, leader: event.payload.isLeader },
        `source ${ctx.id}: sharding group joined; scraping the nodes of ${held.length} of ${this.of} partitions from the next cycle`,
      );
    });
    consumer.on(consumer.events.REBALANCING, () => {
      ctx.logger.info(
        { group: config.group_id },
        `source ${ctx.id}: sharding group rebalancing; keeping the current partitions until the new assignment`,
      );
    });
    consumer.on(consumer.events.CRASH, (event) => {
      ctx.logger.warn(
        { err: event.payload.error, group: config.group_id, restart: event.payload.restart },
        `source ${ctx.id}: sharding group membership failed; keeping the current partitions while it rejoins`,
      );
    });
    void this.join();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    // Leaving the group hands this replica's partitions to the others at once, without waiting for a timeout.
    try {
      await this.consumer.disconnect();
      await this.admin.disconnect();
    } catch (error) {
      this.ctx.logger.debug({ err: error }, `source ${this.ctx.id}: leaving the sharding group`);
    }
  }

  private async join(): Promise<void> {
    const { consumer, config, ctx } = this;
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        this.of = await this.ensureTopic();
        if (this.stopped) return;
        await consumer.connect();
        await consumer.subscribe({ topics: [config.topic], fromBeginning: false });
        await consumer.run({ autoCommit: false, eachMessage: () => Promise.resolve() });
        // Stopped while joining: stop() disconnected before the consumer ran; leave the group now.
        if (this.stopped) await consumer.disconnect();
        return;
      } catch (error) {
        const wait = RETRY_MS[Math.min(attempt, RETRY_MS.length - 1)] as number;
        ctx.logger.warn(
          { err: error, brokers: config.brokers, group: config.group_id, retryInMs: wait },
          `source ${ctx.id}: cannot join the sharding group; scraping the partitions held so far (${this.partitions.length})`,
        );
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  /** Makes the assignment topic with `partitions` partitions if it is missing; returns the count it has. */
  private async ensureTopic(): Promise<number> {
    const { admin, config, ctx } = this;
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: config.topic, numPartitions: config.partitions }],
      waitForLeaders: true,
    });
    const metadata = await admin.fetchTopicMetadata({ topics: [config.topic] });
    const count = metadata.topics[0]?.partitions.length ?? 0;
    if (count === 0) throw new Error(`the sharding topic ${config.topic} has no partitions`);
    if (count !== config.partitions) {
      // Every replica reads the same topic, so they still agree; the hash follows the topic, not the file.
      ctx.logger.warn(
        { topic: config.topic, partitions: count, configured: config.partitions },
        `source ${ctx.id}: sharding.partitions is ${config.partitions} but topic ${config.topic} has ${count}; using ${count}`,
      );
    }
    return count;
  }

  /** The promise in the docs: a dead replica's nodes are scraped again within two cycles. */
  private warnIfSlowerThanCycles(): void {
    const { config, ctx } = this;
    const takeover = config.session_timeout + 2 * config.heartbeat_interval;
    if (takeover <= ctx.resolutionMs) return;
    ctx.logger.warn(
      {
        session_timeout: config.session_timeout,
        heartbeat_interval: config.heartbeat_interval,
        resolution: ctx.resolutionMs,
      },
      `source ${ctx.id}: sharding.session_timeout + 2 × heartbeat_interval exceeds the resolution: a dead replica's nodes may go unscraped for more than two cycles`,
    );
  }
}

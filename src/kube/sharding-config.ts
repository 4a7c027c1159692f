import { z } from 'zod';
import { duration } from '../component/duration.js';
import { kafkaBrokersSchema, kafkaSaslSchema, kafkaTlsSchema } from '../component/kafka-client.js';

/**
 * `sharding:` of a kubelet source: several collector replicas split a cluster's nodes by joining one Kafka
 * consumer group on a small assignment topic. A node belongs to partition shardOf(name, partitions); a replica
 * scrapes the nodes of the partitions the group gave it.
 */
export const shardingSchema = z
  .strictObject({
    brokers: kafkaBrokersSchema,
    topic: z
      .string()
      .min(1)
      .default('heapstream-shards')
      .describe(
        'The assignment topic: nothing is written to it, its partitions are what the group hands out.',
      ),
    partitions: z
      .number()
      .int()
      .min(1)
      .max(1024)
      .default(12)
      .describe(
        'Partitions of the assignment topic, made with this many if it does not exist; an existing topic’s own count wins.',
      ),
    group_id: z
      .string()
      .min(1)
      .default('heapstream-shards')
      .describe('Consumer group of the replicas of one cluster’s collector; one group per cluster.'),
    client_id: z.string().min(1).default('heapstream').describe('Kafka client id, seen in broker logs.'),
    session_timeout: duration()
      .prefault('10s')
      .describe(
        'Time without a heartbeat after which the group gives a replica’s partitions to the others. Keep session_timeout + 2 × heartbeat_interval under the resolution.',
      ),
    heartbeat_interval: duration()
      .prefault('1s')
      .describe('How often a replica tells the group it is alive, and learns of a rebalance.'),
    connect_timeout: duration().prefault('10s').describe('Time to open a connection to a broker.'),
    request_timeout: duration().prefault('30s').describe('Time a broker has to answer one request.'),
    sasl: kafkaSaslSchema.optional().describe('SASL authentication, as the kafka sink’s.'),
    tls: kafkaTlsSchema.optional().describe('TLS to the brokers, as the kafka sink’s.'),
  })
  .superRefine((value, ctx) => {
    if (value.heartbeat_interval * 3 > value.session_timeout) {
      ctx.addIssue({
        code: 'custom',
        path: ['heartbeat_interval'],
        message: 'at most a third of session_timeout, or one late heartbeat loses the partitions',
      });
    }
  });

export type ShardingConfig = z.output<typeof shardingSchema>;

import { z } from 'zod';
import { duration } from '../../src/component/duration.js';
import { kafkaBrokersSchema, kafkaSaslSchema, kafkaTlsSchema } from '../../src/component/kafka-client.js';

/** The `kafka` source's keys. */
export const kafkaSourceConfig = z.strictObject({
  brokers: kafkaBrokersSchema,
  topic: z
    .string()
    .min(1)
    .default('heapstream-metrics')
    .describe("The topic a first tier's kafka sink writes with format: batch."),
  group_id: z
    .string()
    .min(1)
    .default('heapstream')
    .describe('Consumer group: the processes of one second tier share it, and its committed offsets.'),
  client_id: z
    .string()
    .min(1)
    .default('heapstream')
    .describe('Kafka client id, seen in broker logs and quotas.'),
  from_beginning: z
    .boolean()
    .default(false)
    .describe(
      'Where a group without committed offsets starts: the oldest message kept (true) or new ones only.',
    ),
  connect_timeout: duration().prefault('10s').describe('Time to open a connection to a broker.'),
  request_timeout: duration().prefault('30s').describe('Time a broker has to answer one request.'),
  session_timeout: duration()
    .prefault('30s')
    .describe('Time without a heartbeat after which the group gives this process’s partitions to another.'),
  cycle_deadline: duration()
    .prefault('30s')
    .describe(
      'A cycle whose marks have not all come this long after its first message is closed with what came (incomplete).',
    ),
  sasl: kafkaSaslSchema.optional().describe('SASL authentication (over TLS, unless the network is trusted).'),
  tls: kafkaTlsSchema.optional().describe('TLS to the brokers; `tls: {}` verifies them with the system CAs.'),
});

export type KafkaSourceConfig = z.output<typeof kafkaSourceConfig>;

import { z } from 'zod';
import { duration } from '../../src/component/duration.js';
import { setTypeSchema } from '../../src/component/set-type-schema.js';
import { kafkaBrokersSchema, kafkaSaslSchema, kafkaTlsSchema } from '../../src/component/kafka-client.js';

export const kafkaSinkConfig = z
  .strictObject({
    brokers: kafkaBrokersSchema,
    topic: z
      .string()
      .min(1)
      .default('heapstream-metrics')
      .describe('Topic for every message, or for the set types that topic_per_type does not name.'),
    topic_per_type: z
      .partialRecord(setTypeSchema, z.string().min(1))
      .optional()
      .describe('Set type → topic, e.g. { pod: k8s-pods, node: k8s-nodes }; other types go to `topic`.'),
    client_id: z
      .string()
      .min(1)
      .default('heapstream')
      .describe('Kafka client id, seen in broker logs and quotas.'),
    format: z
      .enum(['set', 'heapster', 'batch'])
      .default('set')
      .describe(
        'set: one JSON message per metric set. heapster: one message per metric value, as Heapster wrote them. ' +
          'batch: one message per batch (split in parts when larger than max_message_bytes).',
      ),
    key: z
      .enum(['node', 'namespace', 'pod', 'none'])
      .default('node')
      .describe(
        "Message key, so that one object's messages stay in order on one partition: node name, namespace, " +
          '"<namespace>/<pod>", or none (no key). Sets without that label use their set key.',
      ),
    compression: z.enum(['none', 'gzip']).default('none').describe('Compression of the record batches.'),
    acks: z
      .union([z.literal(-1), z.literal(0), z.literal(1)])
      .default(-1)
      .describe(
        '-1: every in-sync replica has the data (required by the idempotent producer); 1: the leader; 0: none.',
      ),
    idempotent: z
      .boolean()
      .default(true)
      .describe(
        'Idempotent producer: retries after a broker failure do not write duplicates. Needs acks: -1.',
      ),
    max_message_bytes: z
      .number()
      .int()
      .min(1024)
      .default(1_000_000)
      .describe("Largest produce request (record batch) sent; keep it under the broker's message.max.bytes."),
    connect_timeout: duration().prefault('10s').describe('Time to open a connection to a broker.'),
    request_timeout: duration().prefault('10s').describe('Time a broker has to answer one request.'),
    sasl: kafkaSaslSchema
      .optional()
      .describe('SASL authentication (over TLS, unless the network is trusted).'),
    tls: kafkaTlsSchema
      .optional()
      .describe('TLS to the brokers; `tls: {}` verifies them with the system CAs.'),
  })
  .superRefine((config, ctx) => {
    if (config.idempotent && config.acks !== -1) {
      ctx.addIssue({
        code: 'custom',
        path: ['acks'],
        message: `the idempotent producer needs acks: -1 (or set idempotent: false to use acks: ${config.acks})`,
      });
    }
    if (config.format === 'batch' && (config.key === 'namespace' || config.key === 'pod')) {
      ctx.addIssue({
        code: 'custom',
        path: ['key'],
        message: `format batch carries a whole node's batch in one message: key it by node or none, not ${config.key}`,
      });
    }
    if (config.format === 'batch' && config.topic_per_type !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['topic_per_type'],
        message: 'format batch mixes every set type in one message: use `topic`, or format set or heapster',
      });
    }
  });

export type KafkaSinkConfig = z.output<typeof kafkaSinkConfig>;

import { z } from 'zod';
import { duration } from '../../src/component/duration.js';
import { setTypeSchema } from '../../src/component/set-type-schema.js';

const sasl = z
  .strictObject({
    mechanism: z
      .enum(['plain', 'scram-sha-256', 'scram-sha-512'])
      .describe('SASL mechanism: plain, scram-sha-256 or scram-sha-512.'),
    username: z.string().min(1).describe('SASL user name.'),
    password: z
      .string()
      .min(1)
      .optional()
      .describe('SASL password; write it as ${env:NAME}, never inline. Or use password_file.'),
    password_file: z
      .string()
      .min(1)
      .optional()
      .describe("File holding the SASL password (trimmed); relative to the pipeline file's directory."),
  })
  .superRefine((value, ctx) => {
    if ((value.password === undefined) === (value.password_file === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of password or password_file' });
    }
  });

const tls = z
  .strictObject({
    ca_file: z
      .string()
      .min(1)
      .optional()
      .describe('PEM CA bundle to verify the brokers with; the system CAs if absent.'),
    cert_file: z.string().min(1).optional().describe('PEM client certificate, for mutual TLS.'),
    key_file: z.string().min(1).optional().describe('PEM private key of cert_file.'),
    server_name: z
      .string()
      .min(1)
      .optional()
      .describe("Name to verify the brokers' certificates against, when it differs from the address."),
    insecure_skip_verify: z
      .boolean()
      .default(false)
      .describe('Accept any broker certificate. For tests only: anyone on the path can read the data.'),
  })
  .superRefine((value, ctx) => {
    if ((value.cert_file === undefined) !== (value.key_file === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'cert_file and key_file go together: give both or neither' });
    }
  });

export const kafkaSinkConfig = z
  .strictObject({
    brokers: z
      .array(z.string().regex(/^(\[[^\]]+\]|[^\s:[\]]+):\d+$/, 'a broker is host:port, e.g. kafka-0:9092'))
      .min(1)
      .describe('Bootstrap brokers, host:port; the rest of the cluster is discovered from them.'),
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
    sasl: sasl.optional().describe('SASL authentication (over TLS, unless the network is trusted).'),
    tls: tls.optional().describe('TLS to the brokers; `tls: {}` verifies them with the system CAs.'),
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

import { z } from 'zod';
import { duration } from '../../src/component/duration.js';

const V1_KEYS = ['database', 'retention_policy', 'username', 'password', 'password_file'];
const V2_KEYS = ['org', 'bucket', 'token', 'token_file'];

export const influxSinkConfig = z
  .strictObject({
    url: z
      .url({ protocol: /^https?$/ })
      .describe('InfluxDB base URL, e.g. http://influxdb:8086 (no /api/v2 or /write path).'),
    api: z
      .enum(['v1', 'v2'])
      .default('v2')
      .describe(
        'v2: /api/v2/write via @influxdata/influxdb-client (InfluxDB 2.x, 3.x, 1.8+). v1: /write?db= (InfluxDB 1.x).',
      ),
    org: z
      .string()
      .min(1)
      .optional()
      .describe('v2: organization name (InfluxDB 2.x needs it; 1.8 and 3.x ignore it).'),
    bucket: z
      .string()
      .min(1)
      .optional()
      .describe('v2: bucket (on InfluxDB 1.8: `database/retention_policy`).'),
    token: z
      .string()
      .min(1)
      .optional()
      .describe('v2: API token, usually `${env:INFLUX_TOKEN}` (1.8: `user:password`).'),
    token_file: z
      .string()
      .min(1)
      .optional()
      .describe('v2: file holding the token (relative to the pipeline file).'),
    database: z
      .string()
      .min(1)
      .optional()
      .describe('v1: database to write to; `k8s` (as Heapster) if absent.'),
    retention_policy: z
      .string()
      .min(1)
      .optional()
      .describe("v1: retention policy; the database's default if absent."),
    username: z.string().min(1).optional().describe('v1: user for HTTP basic auth.'),
    password: z.string().min(1).optional().describe('v1: password, usually `${env:INFLUX_PASSWORD}`.'),
    password_file: z.string().min(1).optional().describe('v1: file holding the password.'),
    create_database: z
      .boolean()
      .default(false)
      .describe(
        'v1: run CREATE DATABASE on connect (needs admin rights); otherwise the database must exist.',
      ),
    schema: z
      .enum(['heapster', 'fields'])
      .default('heapster')
      .describe(
        "heapster: one measurement per metric, field `value` (Heapster's default). fields: one measurement per group (`cpu`), one field per metric (`usage_rate`), like Heapster's withfields.",
      ),
    cluster_name: z
      .string()
      .min(1)
      .default('default')
      .describe('Value of the `cluster_name` tag on every point.'),
    precision: z
      .enum(['ns', 'us', 'ms', 's'])
      .default('ms')
      .describe('Timestamp precision written and declared to the server.'),
    batch: z
      .strictObject({
        max_lines: z.number().int().positive().default(5000).describe('Lines per HTTP request at most.'),
        max_bytes: z
          .number()
          .int()
          .positive()
          .default(2 * 1024 * 1024)
          .describe('Uncompressed bytes per HTTP request at most (a single longer line is sent alone).'),
      })
      .prefault({}),
    gzip: z.boolean().default(true).describe('Compress request bodies of 1 KiB or more with gzip.'),
    timeout: duration().prefault('10s').describe('Timeout of one HTTP request.'),
    exclude_tags: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Labels never written as tags, beyond namespace_id, pod_id, hostname and host_id (always left out). [workload_kind, workload_name] gives exactly Heapster’s tags.',
      ),
    disable_counter_metrics: z
      .boolean()
      .default(false)
      .describe(
        'Leave out cumulative counters that have a rate (cpu/usage, network/rx…), as Heapster could.',
      ),
  })
  .superRefine((config, ctx) => {
    const foreign = config.api === 'v1' ? V2_KEYS : V1_KEYS;
    for (const key of foreign) {
      if ((config as Record<string, unknown>)[key] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `${key} applies to api: ${config.api === 'v1' ? 'v2' : 'v1'} only`,
        });
      }
    }
    if (config.api === 'v2' && config.bucket === undefined) {
      ctx.addIssue({ code: 'custom', path: ['bucket'], message: 'api: v2 needs a bucket' });
    }
    if (config.api === 'v2' && config.create_database) {
      ctx.addIssue({
        code: 'custom',
        path: ['create_database'],
        message: 'create_database applies to api: v1 only',
      });
    }
    if (config.token !== undefined && config.token_file !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['token_file'], message: 'set token or token_file, not both' });
    }
    if (config.password !== undefined && config.password_file !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['password_file'],
        message: 'set password or password_file, not both',
      });
    }
    if (
      (config.password !== undefined || config.password_file !== undefined) &&
      config.username === undefined
    ) {
      ctx.addIssue({ code: 'custom', path: ['username'], message: 'a password needs a username' });
    }
  });

export type InfluxSinkConfig = z.output<typeof influxSinkConfig>;

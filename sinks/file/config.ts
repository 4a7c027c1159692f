import { z } from 'zod';
import { duration } from '../../src/component/duration.js';
import { MIN_PART_BYTES } from '../../src/component/s3/s3-store.js';
import { parseObjectPath } from './object-target.js';
import { tableConfig } from './iceberg/config.js';
import { DEFAULT_PARTITION, parsePartitionTemplate } from './partition.js';
import { zstdCompressor, zstdUnavailableMessage } from './zstd.js';

const MIB = 1024 * 1024;

/** Keys that would put a secret in the pipeline file; refused with a message that says where secrets go instead. */
const INLINE_SECRET_KEYS = [
  'access_key_id',
  'secret_access_key',
  'session_token',
  'aws_access_key_id',
  'aws_secret_access_key',
  'aws_session_token',
  'access_key',
  'secret_key',
];

/**
 * The secret keys as known to the shape (so the loader does not call them merely "unknown"), though the preprocess
 * below removes them before the shape sees them; a JSON Schema reader (an editor) sees that no value fits.
 */
const refusedSecretKeys = Object.fromEntries(
  INLINE_SECRET_KEYS.map((key) => [
    key,
    z.never().optional().describe('Refused: secrets never go in the pipeline file; see credentials.source.'),
  ]),
);

/** Refuses inline secrets by name before the strict schema would call them merely unknown. */
function noInlineSecrets<T extends z.ZodType>(schema: T) {
  return z.preprocess((value, ctx) => {
    if (typeof value !== 'object' || value === null) return value;
    const rest: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    for (const key of INLINE_SECRET_KEYS) {
      if (!(key in rest)) continue;
      delete rest[key];
      ctx.issues.push({
        code: 'custom',
        path: [key],
        input: value,
        message:
          `inline credentials are not accepted (${key}): they would end up in git and ConfigMaps; ` +
          'use credentials.source env (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), file (an AWS credentials file) or web_identity',
      });
    }
    return rest;
  }, schema);
}

const s3Credentials = noInlineSecrets(
  z
    .strictObject({
      ...refusedSecretKeys,
      source: z
        .enum(['env', 'file', 'web_identity'])
        .default('env')
        .describe(
          'env: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. file: an AWS shared-credentials file. web_identity: AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE exchanged at STS (EKS IRSA).',
        ),
      file: z
        .string()
        .min(1)
        .optional()
        .describe(
          "source file: the AWS shared-credentials file (INI), relative to the pipeline file's directory.",
        ),
      profile: z.string().min(1).default('default').describe('source file: the profile (section) to read.'),
      sts_endpoint: z
        .url()
        .optional()
        .describe('source web_identity: the STS endpoint (default https://sts.<region>.amazonaws.com).'),
    })
    .superRefine((credentials, ctx) => {
      if (credentials.source === 'file' && credentials.file === undefined) {
        ctx.addIssue({ code: 'custom', path: ['file'], message: 'source file needs `file: <path>`' });
      }
      if (credentials.source !== 'file' && credentials.file !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['file'], message: 'file is read only with `source: file`' });
      }
    }),
);

const s3Options = noInlineSecrets(
  z.strictObject({
    ...refusedSecretKeys,
    endpoint: z
      .url()
      .optional()
      .describe(
        'S3 endpoint URL; https://s3.<region>.amazonaws.com when absent. Set it for MinIO, SeaweedFS, Ceph, R2.',
      ),
    region: z.string().min(1).default('us-east-1').describe('The region requests are signed for.'),
    force_path_style: z
      .boolean()
      .default(false)
      .describe(
        'Address the bucket in the path (endpoint/bucket/key) instead of the host name (bucket.endpoint).',
      ),
    credentials: s3Credentials.prefault({}),
    multipart_threshold: z
      .number()
      .int()
      .min(MIN_PART_BYTES)
      .default(16 * MIB)
      .describe('Files larger than this many bytes are uploaded in parts (at least 5 MiB).'),
    part_size: z
      .number()
      .int()
      .min(MIN_PART_BYTES)
      .default(8 * MIB)
      .describe('Bytes per part of a multipart upload (at least 5 MiB, the S3 minimum).'),
    max_staged_bytes: z
      .number()
      .int()
      .min(1)
      .default(4 * 1024 * MIB)
      .describe(
        'Once completed files waiting for upload in the staging directory exceed this many bytes, writes are refused with a retryable error until uploads catch up (default 4 GiB).',
      ),
    staging_dir: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Local directory where files are written and rolled before upload, relative to the pipeline file's directory (default <data_dir>/staging/<sink id>). Keep it on a persistent volume: files left there are uploaded at the next start.",
      ),
  }),
);

export const fileSinkConfig = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .describe(
        "Directory of the data lake (a relative path resolves against the pipeline file's directory), or `s3://bucket/prefix` to upload each completed file to object storage (see `s3`).",
      ),
    format: z
      .enum(['parquet', 'jsonl'])
      .default('parquet')
      .describe('parquet: typed columns, one file per partition and roll. jsonl: one JSON object per line.'),
    partition: z
      .string()
      .default(DEFAULT_PARTITION)
      .superRefine((text, ctx) => {
        const parsed = parsePartitionTemplate(text);
        if (typeof parsed === 'string') ctx.addIssue({ code: 'custom', message: parsed });
      })
      .describe(
        'Hive-style partition directories under `path`: {date} {year} {month} {day} {hour} {minute} (UTC, batch time) and {type}.',
      ),
    compression: z
      .enum(['snappy', 'zstd', 'gzip', 'none'])
      .optional()
      .describe(
        'parquet: snappy (default), zstd (Node ≥ 22.15), gzip or none. jsonl: none (default) or gzip.',
      ),
    row_group_size: z
      .number()
      .int()
      .positive()
      .default(50_000)
      .describe('parquet only: rows buffered before a row group is written.'),
    roll: z
      .strictObject({
        max_bytes: z
          .number()
          .int()
          .positive()
          .default(128 * MIB)
          .describe(
            'Complete a file once it holds this many bytes (parquet: checked at row group boundaries).',
          ),
        max_age: duration()
          .default(300_000)
          .describe('Complete a file this long after it was opened, so rows become visible.'),
      })
      .prefault({}),
    s3: s3Options.optional(),
    // Compared with file ages, never waited for: months are fine, unlike a timer's duration.
    retention: duration({ max: Number.MAX_SAFE_INTEGER })
      .optional()
      .describe(
        'Delete completed files last modified longer ago than this (e.g. 168h); keep them all if absent.',
      ),
    table: tableConfig,
  })
  .superRefine((config, ctx) => {
    const target = parseObjectPath(config.path);
    if (target !== undefined && target.bucket === '') {
      ctx.addIssue({ code: 'custom', path: ['path'], message: 's3:// needs a bucket: s3://bucket/prefix' });
    }
    if (target === undefined && config.s3 !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['s3'], message: 's3 options need `path: s3://bucket/prefix`' });
    }
    if (config.format === 'jsonl' && (config.compression === 'snappy' || config.compression === 'zstd')) {
      ctx.addIssue({
        code: 'custom',
        path: ['compression'],
        message: `jsonl files take compression "gzip" or "none", not "${config.compression}"`,
      });
    }
    if (config.table !== undefined && target !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['path'],
        message:
          'with a table, `path` is the local directory files wait in until they are committed; the bucket is ' +
          "the table's (table.storage and the catalog's warehouse)",
      });
    }
    if (config.table !== undefined && config.format !== 'parquet') {
      ctx.addIssue({
        code: 'custom',
        path: ['format'],
        message: 'an Iceberg table takes Parquet files: format parquet',
      });
    }
    if (config.table !== undefined && config.retention !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['retention'],
        message:
          "with a table, `path` only stages files until they are committed; expire the table's snapshots instead",
      });
    }
    // A capability of this Node, not of the file: still checked here, so that validate refuses what run would.
    if (config.format === 'parquet' && config.compression === 'zstd' && zstdCompressor() === undefined) {
      ctx.addIssue({ code: 'custom', path: ['compression'], message: zstdUnavailableMessage() });
    }
  });

export type FileSinkConfig = z.output<typeof fileSinkConfig>;

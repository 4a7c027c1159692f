import { z } from 'zod';
import { duration } from '../../src/component/duration.js';
import { tableConfig } from './iceberg/config.js';
import { DEFAULT_PARTITION, parsePartitionTemplate } from './partition.js';
import { zstdCompressor, zstdUnavailableMessage } from './zstd.js';

const MIB = 1024 * 1024;

export const fileSinkConfig = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .describe(
        "Directory of the data lake; a relative path resolves against the pipeline file's directory.",
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
    // Compared with file ages, never waited for: months are fine, unlike a timer's duration.
    retention: duration({ max: Number.MAX_SAFE_INTEGER })
      .optional()
      .describe(
        'Delete completed files last modified longer ago than this (e.g. 168h); keep them all if absent.',
      ),
    table: tableConfig,
  })
  .superRefine((config, ctx) => {
    if (config.format === 'jsonl' && (config.compression === 'snappy' || config.compression === 'zstd')) {
      ctx.addIssue({
        code: 'custom',
        path: ['compression'],
        message: `jsonl files take compression "gzip" or "none", not "${config.compression}"`,
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

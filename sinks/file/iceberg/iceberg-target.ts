/**
 * The file sink's Iceberg table (`table:` key): which partition directory a set's row goes to, the field ids of
 * each new Parquet file, and the commit of each roll's files (table-writer.ts). Files are staged under the sink's
 * `path` (`time_day=YYYY-MM-DD/type=T/part-….parquet`) until committed; intents wait in `path/_iceberg/`.
 */
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import type { ComponentContext } from '../../../src/component/component.js';
import type { ObjectStore } from '../../../src/component/object-store.js';
import {
  environmentCredentials,
  webIdentityCredentials,
  webIdentityFromEnvironment,
} from '../../../src/component/s3/credentials.js';
import { S3ObjectStore } from '../../../src/component/s3/s3-store.js';
import type { Counter } from '../../../src/component/telemetry.js';
import { SET_TYPES, type SetType } from '../../../src/model/catalogue.js';
import type { ParquetPartFile } from '../part-file.js';
import { parquetSchema, type SchemaElement } from '../parquet-columns.js';
import { layoutFor } from '../schema.js';
import type { TableConfig } from './config.js';
import { dataFileOf } from './data-file.js';
import { RestCatalog } from './rest-catalog.js';
import { FieldIds, type IcebergField } from './table-schema.js';
import { IcebergTableWriter, type PendingFile } from './table-writer.js';

const DAY_MS = 86_400_000;

/** The last day formatted, since nearly every row of a batch falls on the same day as the one before. */
let lastDay = NaN;
let lastDayText = '';

/** The directory under `path` of rows of one set type whose `time` falls on one UTC day. */
export function icebergPartitionDir(type: SetType, timeMs: number): string {
  const day = Math.floor(timeMs / DAY_MS);
  if (day !== lastDay) {
    lastDayText = new Date(day * DAY_MS).toISOString().slice(0, 10);
    lastDay = day;
  }
  return `time_day=${lastDayText}/type=${type}`;
}

/** Top-level columns that the files of every set type have. */
const EVERYWHERE: ReadonlySet<string> = new Set(
  SET_TYPES.map((t) => topLevelNames(parquetSchema(layoutFor(t)))).reduce((a, b) =>
    a.filter((n) => b.includes(n)),
  ),
);

function topLevelNames(schema: readonly SchemaElement[]): string[] {
  const names: string[] = [];
  let at = 1;
  const skip = (): void => {
    const element = schema[at++] as SchemaElement;
    for (let i = 0; i < (element.num_children ?? 0); i++) skip();
  };
  while (at < schema.length) {
    names.push((schema[at] as SchemaElement).name);
    skip();
  }
  return names;
}

/** The columns every table starts with: all but the metric columns, which come with the first files that have them. */
function initialFields(): IcebergField[] {
  const layout = layoutFor('pod');
  const metrics = new Set(layout.metrics.map((m) => m.column));
  const ids = new FieldIds([], 0, EVERYWHERE);
  ids.annotate(parquetSchema(layout));
  return ids.fields.filter((f) => !metrics.has(f.name));
}

function s3StoreFor(config: TableConfig['storage']): (location: string) => ObjectStore {
  return (location) => {
    const match = /^s3a?:\/\/([^/]+)\/?(.*)$/.exec(location);
    if (match === null) {
      throw new Error(
        `table: the table's location ${location} is not s3://bucket/prefix; only S3 storage is supported`,
      );
    }
    const credentials =
      config.credentials === 'web_identity'
        ? webIdentityCredentials(webIdentityFromEnvironment(config.region))
        : environmentCredentials();
    return new S3ObjectStore({
      bucket: match[1] as string,
      prefix: (match[2] ?? '').replace(/\/+$/, ''),
      region: config.region,
      ...(config.endpoint !== undefined ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.force_path_style,
      credentials,
    });
  };
}

function readCredential(
  config: TableConfig['catalog'],
  baseDir: string,
): { credential?: string; token?: string } {
  const fromEnv = (name: string | undefined, key: string): string | undefined => {
    if (name === undefined) return undefined;
    const value = process.env[name];
    if (value === undefined || value === '')
      throw new Error(`table.catalog.${key}: ${name} is not set in the environment`);
    return value;
  };
  let credential = fromEnv(config.credential_env, 'credential_env');
  if (config.credential_file !== undefined) {
    const path = resolve(baseDir, config.credential_file);
    credential = readFileSync(path, 'utf8').trim();
  }
  const token = fromEnv(config.token_env, 'token_env');
  return { ...(credential !== undefined ? { credential } : {}), ...(token !== undefined ? { token } : {}) };
}

/**
 * @example
 * const target = new IcebergTarget(config.table, root, ctx); await target.connect();
 * const schema = target.fileSchema('pod'); … await target.commit([{ file, dir }]);
 */
export class IcebergTarget {
  private readonly writer: IcebergTableWriter;
  private opened = false;
  private readonly commits: Counter;
  private readonly retries: Counter;
  private readonly orphans: Counter;
  private readonly schemaChanges: Counter;

  constructor(
    config: TableConfig,
    private readonly root: string,
    private readonly ctx: ComponentContext,
  ) {
    const catalog = new RestCatalog({
      uri: config.catalog.uri,
      timeoutMs: config.catalog.timeout,
      ...(config.catalog.warehouse !== undefined ? { warehouse: config.catalog.warehouse } : {}),
      ...readCredential(config.catalog, ctx.baseDir),
    });
    const t = ctx.telemetry;
    const sink = ctx.id;
    t.describe(
      'heapstream_file_sink_table_commits_total',
      'Snapshots the file sink committed to its Iceberg table.',
    );
    t.describe(
      'heapstream_file_sink_table_commit_retries_total',
      'Commit attempts that failed (conflict or unknown outcome) and were tried again after reloading the table.',
    );
    t.describe(
      'heapstream_file_sink_table_orphans_total',
      'Files that cannot be committed: of an unfinished commit but neither on disk nor in storage, or staged without a commit intent.',
    );
    t.describe(
      'heapstream_file_sink_table_schema_changes_total',
      'Commits that added columns to the table schema.',
    );
    this.commits = t.counter('heapstream_file_sink_table_commits_total', { sink });
    this.retries = t.counter('heapstream_file_sink_table_commit_retries_total', { sink });
    this.orphans = t.counter('heapstream_file_sink_table_orphans_total', { sink });
    this.schemaChanges = t.counter('heapstream_file_sink_table_schema_changes_total', { sink });
    const logger = ctx.logger;
    const table = `${config.namespace}.${config.name}`;
    this.writer = new IcebergTableWriter({
      catalog,
      storeFor: s3StoreFor(config.storage),
      everywhere: EVERYWHERE,
      namespace: config.namespace.split('.'),
      name: config.name,
      outbox: join(root, '_iceberg'),
      events: {
        committed: (commit, snapshotId, schemaChanged) => {
          this.commits.inc();
          if (schemaChanged) this.schemaChanges.inc();
          logger.info(
            {
              table,
              snapshot: String(snapshotId),
              files: commit.files.length,
              commit: commit.commitId,
              schemaChanged,
            },
            'file sink: committed files to the Iceberg table',
          );
        },
        orphaned: (file, commitId) => {
          this.orphans.inc();
          logger.error(
            { table, file: file.local, key: file.key, commit: commitId },
            'file sink: a file of an unfinished commit is neither on disk nor in storage; its rows are not in the table',
          );
        },
        retried: (commitId, err) => {
          this.retries.inc();
          logger.warn(
            { table, commit: commitId, err },
            'file sink: Iceberg commit failed, reloading the table to retry',
          );
        },
      },
    });
  }

  /** Loads (or creates) the table and completes what a previous run left uncommitted. */
  async connect(): Promise<void> {
    if (this.opened) return;
    await this.writer.open(initialFields());
    await this.setAsideStrays();
    this.opened = true;
  }

  /**
   * Completed files with no intent: a previous run died between completing them and writing their intent. Their
   * metrics were never recorded, so they are not committed; they are counted as orphans and moved to
   * `_iceberg/orphaned/` (where an operator can load them by hand), so they are reported once.
   */
  private async setAsideStrays(): Promise<void> {
    let entries: string[];
    try {
      entries = await readdir(this.root, { recursive: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const rel = entry.split(sep).join('/');
      if (rel.startsWith('_iceberg/') || !/(^|\/)part-[^/]+\.parquet$/.test(rel)) continue;
      const target = join(this.root, '_iceberg', 'orphaned', rel);
      await mkdir(dirname(target), { recursive: true });
      await rename(join(this.root, entry), target);
      this.orphans.inc();
      this.ctx.logger.error(
        { file: target },
        'file sink: a staged file has no commit intent (the previous run stopped before writing it); set aside, not committed',
      );
    }
  }

  /** A new file's Parquet schema, with the table's field ids (new columns get new ids). */
  fileSchema(type: SetType | 'all'): SchemaElement[] {
    return this.writer.ids.annotate(parquetSchema(layoutFor(type)));
  }

  /** Records the files one roll completed as one commit to make (a local intent); fast, no network. */
  async stage(files: readonly ParquetPartFile[]): Promise<void> {
    if (files.length === 0) return;
    const store = this.writer.store;
    const pending: PendingFile[] = files.map((file) => {
      const rel = relative(this.root, file.finalPath).split(sep).join('/');
      const partition = /^time_day=(\d{4}-\d{2}-\d{2})\/type=([^/]+)\//.exec(rel);
      if (partition === null)
        throw new Error(`iceberg: ${file.finalPath} is not in a table partition directory`);
      const key = `data/${rel}`;
      return {
        local: file.finalPath,
        key,
        dataFile: dataFileOf(file.footer(), {
          path: store.url(key),
          partition: {
            timeDay: Date.parse(`${partition[1] as string}T00:00:00Z`) / DAY_MS,
            type: partition[2] as string,
          },
        }),
      };
    });
    await this.writer.stage(pending);
  }

  /** Uploads and commits every staged roll, oldest first; throws the first failure (they stay staged). */
  completePending(): Promise<void> {
    return this.writer.completePending();
  }
}

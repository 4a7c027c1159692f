/**
 * Commits the file sink's rolled Parquet files to an Iceberg table, one append snapshot per roll, so that no row
 * is committed twice and none is lost to a crash:
 *
 * 1. the roll's files and their metrics are written to a local intent (`<path>/_iceberg/<commit id>.json`,
 *    written whole and renamed), which is what a restart finds;
 * 2. each file is uploaded to the table's storage (an upload is a whole object or none; repeating one is harmless);
 * 3. one commit adds them, with the commit id in the snapshot summary (`heapstream.commit-id`) and the requirement
 *    that the branch still points at the snapshot the commit was built on. Before every attempt the table is
 *    loaded and its snapshots searched for the commit id, so a retry after an ambiguous failure (a timeout, a
 *    5xx) never commits the files again;
 * 4. the local files and the intent are removed.
 *
 * At start, every intent left by a previous run is completed the same way. A file of an intent that is neither
 * on disk nor in storage cannot be committed: it is reported and counted as an orphan.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ObjectStore } from '../../../src/component/object-store.js';
import { manifestFile, manifestList, type DataFile } from './manifest.js';
import { readAvroContainer } from './avro-read.js';
import {
  CommitConflict,
  CommitUnknown,
  currentSchema,
  type RestCatalog,
  type Snapshot,
  type TableMetadata,
  type TableUpdate,
} from './rest-catalog.js';
import { FieldIds, partitionSpec, type IcebergField, type IcebergSchema } from './table-schema.js';

/** The summary key that makes a commit recognisable when it is retried. */
export const COMMIT_ID_KEY = 'heapstream.commit-id';

/** One file of a commit: where it is on disk, its key in the table's storage, and its manifest entry. */
export interface PendingFile {
  readonly local: string;
  readonly key: string;
  readonly dataFile: DataFile;
}

/** What a roll commits, as written to its intent file. */
export interface PendingCommit {
  readonly commitId: string;
  readonly files: readonly PendingFile[];
  /** The columns (with ids) the files were written with, which the commit adds to the table if it lacks them. */
  readonly fields: readonly IcebergField[];
}

export interface TableEvents {
  committed(commit: PendingCommit, snapshotId: bigint, schemaChanged: boolean): void;
  orphaned(file: PendingFile, commitId: string): void;
  /** A commit attempt that failed and is tried again (conflict or unknown outcome). */
  retried(commitId: string, err: unknown): void;
}

const MAX_ATTEMPTS = 5;

/** Commit ids sort by creation time, so intents are completed in the order their rolls happened. */
function newCommitId(): string {
  return `${Date.now().toString(36).padStart(9, '0')}-${randomUUID()}`;
}

/** A random positive 63-bit id, as Iceberg snapshot ids are. */
function newSnapshotId(): bigint {
  return BigInt.asUintN(63, randomBytes(8).readBigUInt64BE());
}

function sameId(a: number | bigint | null | undefined, b: bigint): boolean {
  return a !== undefined && a !== null && BigInt(a) === b;
}

/**
 * @example
 * const table = new IcebergTableWriter({ catalog, store, namespace: ['metrics'], name: 'sets', outbox, events });
 * await table.open(initialFields); const ids = table.ids; … await table.commitFiles(files);
 */
export class IcebergTableWriter {
  private fieldIds: FieldIds | undefined;
  private table: TableMetadata | undefined;
  private objectStore: ObjectStore | undefined;

  constructor(
    private readonly options: {
      readonly catalog: RestCatalog;
      /** The object store for the table's location (`s3://bucket/prefix`), where data and manifests go. */
      readonly storeFor: (location: string) => ObjectStore;
      readonly namespace: readonly string[];
      readonly name: string;
      /** Top-level columns every file has; the others are optional in the table (FieldIds). */
      readonly everywhere: ReadonlySet<string>;
      /** Local directory for intents. */
      readonly outbox: string;
      readonly events: TableEvents;
    },
  ) {}

  /** The table's storage; available once `open` resolved. */
  get store(): ObjectStore {
    if (this.objectStore === undefined) throw new Error('iceberg: table not open');
    return this.objectStore;
  }

  /** Field ids for new files; available once `open` resolved. */
  get ids(): FieldIds {
    if (this.fieldIds === undefined) throw new Error('iceberg: table not open');
    return this.fieldIds;
  }

  /**
   * Loads the table (creating namespace and table with `initial` columns if absent), then completes the commits
   * a previous run left. `initial` is a Parquet-derived field list; the catalog assigns the created table's ids.
   */
  async open(initial: readonly IcebergField[]): Promise<void> {
    const { catalog, namespace, name } = this.options;
    await catalog.init();
    await catalog.ensureNamespace(namespace);
    let table = await catalog.loadTable(namespace, name);
    if (table === undefined) {
      const schema: IcebergSchema = { type: 'struct', 'schema-id': 0, fields: initial };
      // The catalog chooses the location (under its warehouse) and may renumber the ids: both are read back.
      table = await catalog.createTable(namespace, name, { schema, spec: partitionSpec(schema) });
    }
    this.table = table;
    this.objectStore = this.options.storeFor(table.location);
    const ids = new FieldIds(currentSchema(table).fields, table['last-column-id'], this.options.everywhere);
    const pending = await this.pendingCommits();
    // Files of unfinished commits were written with ids the table may not have yet: keep them reserved.
    for (const commit of pending) ids.merge(commit.fields);
    this.fieldIds = ids;
    for (const commit of pending) await this.complete(commit);
  }

  /** Writes the intent for one roll's files (step 1), so that they are committed whatever happens next. */
  async stage(files: readonly PendingFile[]): Promise<void> {
    if (files.length === 0) return;
    const commit: PendingCommit = { commitId: newCommitId(), files, fields: this.ids.fields };
    await mkdir(this.options.outbox, { recursive: true });
    const path = this.intentPath(commit.commitId);
    await writeFile(`${path}.tmp`, JSON.stringify(commit));
    await rename(`${path}.tmp`, path);
  }

  /**
   * Completes every intent in the outbox (steps 2–4), oldest first: the latest roll's and any an earlier roll or
   * run could not finish. Throws the first failure; the intents stay for the next call.
   */
  async completePending(): Promise<void> {
    for (const commit of await this.pendingCommits()) await this.complete(commit);
  }

  /** Intents waiting in the outbox: the previous run's, or this run's whose commit failed. */
  async pendingCommits(): Promise<PendingCommit[]> {
    let names: string[];
    try {
      names = await readdir(this.options.outbox);
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ENOENT') return [];
      throw err;
    }
    const out: PendingCommit[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      out.push(JSON.parse(await readFile(join(this.options.outbox, name), 'utf8')) as PendingCommit);
    }
    return out;
  }

  private intentPath(commitId: string): string {
    return join(this.options.outbox, `${commitId}.json`);
  }

  private async complete(commit: PendingCommit): Promise<void> {
    const store = this.store;
    const present: PendingFile[] = [];
    for (const file of commit.files) {
      // Streamed from the staged file (one part in memory at a time), not read whole.
      let uploaded = true;
      try {
        await store.putFile(file.key, file.local, { contentType: 'application/vnd.apache.parquet' });
      } catch (err) {
        if ((err as { code?: unknown }).code !== 'ENOENT') throw err;
        uploaded = false;
      }
      if (uploaded) {
        present.push(file);
      } else if ((await store.list(file.key)).some((o) => o.key === file.key)) {
        present.push(file);
      } else {
        this.options.events.orphaned(file, commit.commitId);
      }
    }
    if (present.length > 0) await this.commit({ ...commit, files: present });
    for (const file of commit.files) await unlink(file.local).catch(() => undefined);
    await unlink(this.intentPath(commit.commitId)).catch(() => undefined);
  }

  private async commit(commit: PendingCommit): Promise<void> {
    const { catalog, namespace, name } = this.options;
    let lastError: unknown;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const table =
        attempt === 0 && this.table !== undefined ? this.table : await catalog.loadTable(namespace, name);
      if (table === undefined) throw new Error(`iceberg: table ${namespace.join('.')}.${name} is gone`);
      this.table = table;
      // Already applied: an earlier attempt (or run) got through but never heard back.
      if ((table.snapshots ?? []).some((s) => s.summary[COMMIT_ID_KEY] === commit.commitId)) return;
      try {
        const { updates, requirements, schemaChanged, snapshotId } = await this.prepare(table, commit);
        this.table = await catalog.commit(namespace, name, requirements, updates);
        this.options.events.committed(commit, snapshotId, schemaChanged);
        return;
      } catch (err) {
        if (!(err instanceof CommitConflict || err instanceof CommitUnknown)) throw err;
        lastError = err;
        this.table = undefined;
        this.options.events.retried(commit.commitId, err);
      }
    }
    throw lastError;
  }

  /** Writes the manifest and manifest list of a new snapshot on top of the table's current one. */
  private async prepare(table: TableMetadata, commit: PendingCommit) {
    const store = this.store;
    const current = currentSchema(table);
    const missing = commit.fields.filter((f) => !current.fields.some((c) => c.name === f.name));
    const schemaChanged = missing.length > 0;
    const highest = Math.max(...table.schemas.map((s) => s['schema-id']));
    const schema: IcebergSchema = schemaChanged
      ? { type: 'struct', 'schema-id': highest + 1, fields: [...current.fields, ...missing] }
      : current;
    const lastColumnId = Math.max(table['last-column-id'], ...commit.fields.map((f) => maxId(f)));
    const parentId = table.refs?.main?.['snapshot-id'] ?? table['current-snapshot-id'] ?? undefined;
    const parent =
      parentId === undefined || parentId === null || Number(parentId) === -1
        ? undefined
        : (table.snapshots ?? []).find((s) => sameId(s['snapshot-id'], BigInt(parentId)));
    const snapshotId = newSnapshotId();
    const sequenceNumber = BigInt((table['last-sequence-number'] ?? 0) + 1);
    const files = commit.files.map((f) => f.dataFile);
    const spec = partitionSpec(schema);
    const manifestKey = `metadata/${commit.commitId}-m0.avro`;
    const manifest = manifestFile({ snapshotId, schema, spec, files });
    await store.put(manifestKey, manifest, { contentType: 'application/avro' });
    const listKey = `metadata/snap-${snapshotId}-${commit.commitId}.avro`;
    const inherited = parent === undefined ? [] : await this.parentManifests(parent);
    const list = manifestList({
      snapshotId,
      parentSnapshotId: parent === undefined ? undefined : BigInt(parent['snapshot-id']),
      sequenceNumber,
      added: { path: store.url(manifestKey), length: manifest.length, files },
      inherited,
    });
    await store.put(listKey, list, { contentType: 'application/avro' });
    const addedRecords = files.reduce((n, f) => n + f.recordCount, 0);
    const addedSize = files.reduce((n, f) => n + f.sizeInBytes, 0);
    const total = (key: string, added: number): string => String(Number(parent?.summary[key] ?? 0) + added);
    const updates: TableUpdate[] = [];
    if (schemaChanged) {
      updates.push({ action: 'add-schema', schema, 'last-column-id': lastColumnId });
      // -1: the schema added by this commit.
      updates.push({ action: 'set-current-schema', 'schema-id': -1 });
    }
    updates.push({
      action: 'add-snapshot',
      snapshot: {
        'snapshot-id': snapshotId,
        ...(parent !== undefined ? { 'parent-snapshot-id': BigInt(parent['snapshot-id']) } : {}),
        'sequence-number': sequenceNumber,
        'timestamp-ms': Date.now(),
        'manifest-list': store.url(listKey),
        'schema-id': schema['schema-id'],
        summary: {
          operation: 'append',
          [COMMIT_ID_KEY]: commit.commitId,
          'added-data-files': String(files.length),
          'added-records': String(addedRecords),
          'added-files-size': String(addedSize),
          'total-data-files': total('total-data-files', files.length),
          'total-records': total('total-records', addedRecords),
          'total-files-size': total('total-files-size', addedSize),
        },
      },
    });
    updates.push({
      action: 'set-snapshot-ref',
      'ref-name': 'main',
      type: 'branch',
      'snapshot-id': snapshotId,
    });
    const requirements = [
      {
        type: 'assert-ref-snapshot-id' as const,
        ref: 'main',
        'snapshot-id': parent === undefined ? null : BigInt(parent['snapshot-id']),
      },
      ...(schemaChanged
        ? [{ type: 'assert-current-schema-id' as const, 'current-schema-id': current['schema-id'] }]
        : []),
    ];
    return { updates, requirements, schemaChanged, snapshotId };
  }

  /** The parent snapshot's manifest list entries, to repeat in the new list. */
  private async parentManifests(parent: Snapshot): Promise<Record<string, unknown>[]> {
    const store = this.store;
    const base = store.url('');
    const location = parent['manifest-list'];
    if (!location.startsWith(base)) {
      throw new Error(`iceberg: the parent snapshot's manifest list ${location} is outside ${base}`);
    }
    const bytes = await store.get(location.slice(base.length));
    if (bytes === undefined) throw new Error(`iceberg: manifest list ${location} is missing`);
    return readAvroContainer(bytes).records as Record<string, unknown>[];
  }
}

function maxId(field: IcebergField): number {
  return Math.max(field.id, ...nestedIds(field.type));
}

function nestedIds(type: IcebergField['type']): number[] {
  if (typeof type === 'string') return [];
  if (type.type === 'struct') return type.fields.flatMap((f) => [f.id, ...nestedIds(f.type)]);
  if (type.type === 'list') return [type['element-id'], ...nestedIds(type.element)];
  return [type['key-id'], type['value-id'], ...nestedIds(type.key), ...nestedIds(type.value)];
}

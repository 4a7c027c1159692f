// The file sink's s3:// target end to end: the real `heapstream run` (simulated cluster, real kubelet payloads)
// writes Parquet and JSON Lines through the file sink into a real S3 server (SeaweedFS on loopback, signatures
// checked). What is read back over S3 is compared, row by row and value by value, with what the same pipeline wrote
// to a local directory through the same sink for the same cycles.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentCredentials } from '../src/component/s3/credentials.js';
import { S3ObjectStore } from '../src/component/s3/s3-store.js';
import { runCli } from './support/cli.js';
import { eventually } from './support/eventually.js';
import { startTcpGate } from './support/tcp-gate.js';
import { startSeaweedFS, type SeaweedFSService } from './services/seaweedfs.js';

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const REPO = join(import.meta.dirname, '..');

let weed: SeaweedFSService;
let dir: string;
let duck: DuckDBConnection;
let credentialsFile: string;

function bucketStore(prefix: string): S3ObjectStore {
  return new S3ObjectStore({
    bucket: 'lake',
    prefix,
    region: weed.region,
    endpoint: weed.s3Endpoint,
    forcePathStyle: true,
    credentials: environmentCredentials({
      AWS_ACCESS_KEY_ID: weed.accessKeyId,
      AWS_SECRET_ACCESS_KEY: weed.secretAccessKey,
    }),
  });
}

beforeAll(async () => {
  weed = await startSeaweedFS();
  await bucketStore('').createBucket();
  dir = await mkdtemp(join(tmpdir(), 'heapstream-file-sink-s3-'));
  duck = await (await DuckDBInstance.create(':memory:')).connect();
  credentialsFile = join(dir, 'aws-credentials');
  await writeFile(
    credentialsFile,
    `[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n` +
      `[lake]\naws_access_key_id = ${weed.accessKeyId}\naws_secret_access_key = ${weed.secretAccessKey}\n`,
  );
});
afterAll(async () => {
  duck?.closeSync();
  await weed?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** The YAML of one file sink writing to `s3://lake/<prefix>`, with credentials from the file or the environment. */
function s3Sink(
  name: string,
  prefix: string,
  format: 'parquet' | 'jsonl',
  fromFile: boolean,
  extra: string[] = [],
) {
  return [
    `  ${name}:`,
    '    type: file',
    `    path: s3://lake/${prefix}`,
    `    format: ${format}`,
    '    s3:',
    `      endpoint: ${weed.s3Endpoint}`,
    `      region: ${weed.region}`,
    '      force_path_style: true',
    `      staging_dir: ${join(dir, `${prefix}-staging`)}`,
    fromFile
      ? `      credentials: { source: file, file: ${credentialsFile}, profile: lake }`
      : '      credentials: { source: env }',
    ...extra,
  ];
}

function localSink(name: string, path: string, format: 'parquet' | 'jsonl', extra: string[] = []) {
  return [`  ${name}:`, '    type: file', `    path: ${path}`, `    format: ${format}`, ...extra];
}

async function pipeline(name: string, address: string, sinks: string[]): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    [
      'resolution: 1s',
      `data_dir: ${join(dir, `${name}-data`)}`,
      'source:',
      '  type: kubelet_summary',
      `  discovery: { simulated: { nodes: 2, pods_per_node: 5, first_address: ${address}, seed: 11 } }`,
      'sinks:',
      ...sinks,
    ].join('\n') + '\n',
  );
  return file;
}

/** The environment the child reads `credentials.source: env` from. */
function s3Env(): NodeJS.ProcessEnv {
  return { ...process.env, AWS_ACCESS_KEY_ID: weed.accessKeyId, AWS_SECRET_ACCESS_KEY: weed.secretAccessKey };
}

/** Downloads every object under `prefix` into a fresh local directory (same relative keys). */
async function download(prefix: string): Promise<{ dir: string; keys: string[] }> {
  const store = bucketStore(prefix);
  const target = await mkdtemp(join(dir, 'download-'));
  const objects = await store.list('');
  for (const object of objects) {
    const body = await store.get(object.key);
    if (body === undefined) throw new Error(`listed ${object.key} but GET found nothing`);
    const path = join(target, object.key);
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, body);
  }
  return { dir: target, keys: objects.map((o) => o.key) };
}

async function filesUnder(root: string, suffix: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true }).catch(() => [] as string[]);
  return entries
    .filter((e) => e.endsWith(suffix) && !e.split('/').some((p) => p.startsWith('.')))
    .map((e) => join(root, e));
}

type Row = Record<string, unknown>;
const rowId = (r: Row): string =>
  `${String(r['type'])} ${String(r['key'])} ${String(r['batch_time_us'] ?? r['batch_time'])}`;
const byId = (a: Row, b: Row): number => (rowId(a) < rowId(b) ? -1 : rowId(a) > rowId(b) ? 1 : 0);

async function jsonlRows(root: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const file of await filesUnder(root, '.jsonl')) {
    for (const line of (await readFile(file, 'utf8')).split('\n'))
      if (line !== '') rows.push(JSON.parse(line) as Row);
  }
  return rows.sort(byId);
}

/** Every row of the Parquet files under `root`, read by DuckDB, bigints and nested values as JSON text. */
async function parquetRows(root: string): Promise<Row[]> {
  const files = await filesUnder(root, '.parquet');
  if (files.length === 0) return [];
  const list = files.map((f) => `'${f.replace(/'/g, "''")}'`).join(', ');
  const reader = await duck.runAndReadAll(`SELECT * FROM read_parquet([${list}], union_by_name = true)`);
  const rows = reader.getRowObjectsJson() as Row[];
  // The file a row sits in differs between the two sinks (their writer ids); the row does not.
  for (const row of rows) delete row['filename'];
  return rows.sort(byId);
}

function startChild(file: string): {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run', '-c', file], {
    cwd: REPO,
    env: s3Env(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

describe('file sink → S3 (SeaweedFS)', () => {
  it('stores in the bucket the same Parquet and JSON Lines rows it writes locally, every value', async () => {
    const local = join(dir, 'same-local');
    const file = await pipeline('same', '127.41.0.1', [
      ...s3Sink('s3_parquet', 'same/pq', 'parquet', false),
      ...s3Sink('s3_jsonl', 'same/jl', 'jsonl', true),
      ...localSink('local_parquet', join(local, 'pq'), 'parquet'),
      ...localSink('local_jsonl', join(local, 'jl'), 'jsonl'),
    ]);
    const previous = { id: process.env['AWS_ACCESS_KEY_ID'], secret: process.env['AWS_SECRET_ACCESS_KEY'] };
    // runCli's child inherits this process's environment: `source: env` reads the keys from there.
    process.env['AWS_ACCESS_KEY_ID'] = weed.accessKeyId;
    process.env['AWS_SECRET_ACCESS_KEY'] = weed.secretAccessKey;
    const run = await runCli(['run', '-c', file, '--cycles', '3'], 90_000).finally(() => {
      process.env['AWS_ACCESS_KEY_ID'] = previous.id;
      process.env['AWS_SECRET_ACCESS_KEY'] = previous.secret;
      if (previous.id === undefined) delete process.env['AWS_ACCESS_KEY_ID'];
      if (previous.secret === undefined) delete process.env['AWS_SECRET_ACCESS_KEY'];
    });
    expect(run.code, run.stderr).toBe(0);

    const pq = await download('same/pq');
    const jl = await download('same/jl');
    // The same Hive-style partition directories as the local lake, complete files only.
    const dirsOf = (keys: string[]) => [...new Set(keys.map((k) => k.slice(0, k.lastIndexOf('/'))))].sort();
    const localKeys = async (root: string, suffix: string) =>
      (await filesUnder(root, suffix)).map((f) => f.slice(root.length + 1));
    expect(pq.keys.length).toBeGreaterThan(0);
    expect(pq.keys.every((k) => /(^|\/)part-[^/]+\.parquet$/.test(k))).toBe(true);
    expect(jl.keys.every((k) => /(^|\/)part-[^/]+\.jsonl$/.test(k))).toBe(true);
    expect(dirsOf(pq.keys)).toEqual(dirsOf(await localKeys(join(local, 'pq'), '.parquet')));
    expect(dirsOf(jl.keys)).toEqual(dirsOf(await localKeys(join(local, 'jl'), '.jsonl')));

    const localParquet = await parquetRows(join(local, 'pq'));
    const localJsonl = await jsonlRows(join(local, 'jl'));
    expect(localJsonl.length).toBeGreaterThan(0);
    expect(localParquet.length).toBe(localJsonl.length);
    expect(await parquetRows(pq.dir)).toEqual(localParquet);
    expect(await jsonlRows(jl.dir)).toEqual(localJsonl);
    // Uploaded files leave the staging directory.
    expect(await filesUnder(join(dir, 'same/pq-staging'), '.parquet')).toEqual([]);
  });

  it('loses nothing while the S3 server is stopped for several cycles (when_full: block), and uploads resume', async () => {
    const local = join(dir, 'outage-local');
    const fast = ['    roll: { max_age: 1s }', '    retry: { initial_backoff: 200ms, max_backoff: 1s }'];
    const file = await pipeline('outage', '127.42.0.1', [
      ...s3Sink('s3_jsonl', 'outage/jl', 'jsonl', false, [...fast, '    buffer: { when_full: block }']),
      ...localSink('local_jsonl', local, 'jsonl', ['    roll: { max_age: 1s }']),
    ]);
    const store = bucketStore('outage/jl');
    const run = startChild(file);
    try {
      const watch = { stopped: () => run.child.exitCode !== null, context: run.stderr };
      await eventually(
        'objects in the bucket',
        async () => ((await store.list('')).length > 1 ? true : undefined),
        watch,
      );
      await weed.stop();
      // Several cycles go by with the server down: the local lake grows by at least three batch times.
      const before = new Set((await jsonlRows(local)).map((r) => r['batch_time']));
      await eventually(
        'three cycles and a failed upload while the server is down',
        async () => {
          const times = new Set((await jsonlRows(local)).map((r) => r['batch_time']));
          const failed = /not uploaded yet|upload failed/.test(run.stderr());
          return times.size - before.size >= 3 && failed ? true : undefined;
        },
        watch,
      );
      await weed.start();
      const afterOutage = new Set((await jsonlRows(local)).map((r) => r['batch_time']));
      // Uploads resume: a batch time collected during the outage reaches the bucket.
      await eventually(
        'the batch times of the outage in the bucket',
        async () => {
          const stored = new Set(
            (await jsonlRows((await download('outage/jl')).dir)).map((r) => r['batch_time']),
          );
          return [...afterOutage].filter((t) => !before.has(t)).every((t) => stored.has(t))
            ? true
            : undefined;
        },
        { ...watch, ms: 90_000 },
      );
    } finally {
      run.child.kill('SIGTERM');
      await run.exited;
    }
    // Drained at shutdown: every row the local sink wrote is in the bucket, value for value, and no row twice.
    expect(await jsonlRows((await download('outage/jl')).dir)).toEqual(await jsonlRows(local));
  });

  it('refuses writes past s3.max_staged_bytes while uploads are slow (not failing), takes them again once uploads catch up, loses nothing', async () => {
    // The sink reaches SeaweedFS through a gate that can hold traffic: a held upload neither fails nor finishes.
    const gate = await startTcpGate({ host: '127.0.0.1', port: Number(new URL(weed.s3Endpoint).port) });
    const local = join(dir, 'slow-local');
    const s3 = s3Sink('s3_jsonl', 'slow/jl', 'jsonl', false, [
      '      max_staged_bytes: 1', // any completed file waiting for upload is over the bound
      '    roll: { max_age: 1s }',
      '    retry: { initial_backoff: 200ms, max_backoff: 1s }',
      '    buffer: { when_full: block }',
    ]).map((line) => line.replace(weed.s3Endpoint, gate.url));
    const file = await pipeline('slow', '127.44.0.1', [
      ...s3,
      ...localSink('local_jsonl', local, 'jsonl', ['    roll: { max_age: 1s }']),
    ]);
    const store = bucketStore('slow/jl');
    const run = startChild(file);
    try {
      const watch = { stopped: () => run.child.exitCode !== null, context: run.stderr };
      await eventually(
        'objects in the bucket',
        async () => ((await store.list('')).length > 0 ? true : undefined),
        watch,
      );
      gate.hold();
      const heldAt = run.stderr().length;
      const before = new Set((await jsonlRows(local)).map((r) => r['batch_time']));
      // The upload in flight hangs; the next roll's file waits behind it, over the bound: writes are refused.
      await eventually(
        'a write refused for s3.max_staged_bytes while uploads hang',
        () => {
          // The refusal (the runner logs each failed write) since the hold; the sink's own warning at any time
          // (it is logged when refusals start, which may be just before the hold).
          const refused = /over s3\.max_staged_bytes \(1\); writes are refused until uploads catch up/;
          const warned = /staging is over s3\.max_staged_bytes/;
          const log = run.stderr();
          return Promise.resolve(refused.test(log.slice(heldAt)) && warned.test(log) ? true : undefined);
        },
        watch,
      );
      // Slow, not failing: no upload failed while held (the request timeout is far away).
      expect(run.stderr().slice(heldAt)).not.toMatch(/upload failed|not uploaded yet/);
      const openedAt = run.stderr().length;
      gate.open();
      const duringHold = new Set((await jsonlRows(local)).map((r) => r['batch_time']));
      await eventually(
        'writes accepted again and the batch times of the hold in the bucket',
        async () => {
          if (!/writes accepted again/.test(run.stderr().slice(openedAt))) return undefined;
          const stored = new Set(
            (await jsonlRows((await download('slow/jl')).dir)).map((r) => r['batch_time']),
          );
          return [...duringHold].filter((t) => !before.has(t)).every((t) => stored.has(t)) ? true : undefined;
        },
        { ...watch, ms: 90_000 },
      );
    } finally {
      gate.open();
      run.child.kill('SIGTERM');
      await run.exited;
      await gate.close();
    }
    // With when_full: block nothing refused was lost, and nothing was taken twice.
    expect(await jsonlRows((await download('slow/jl')).dir)).toEqual(await jsonlRows(local));
  });

  it('uploads at the next start what a SIGKILLed run completed but had not uploaded', async () => {
    const staging = join(dir, 'crash/jl-staging');
    const sink = s3Sink('s3_jsonl', 'crash/jl', 'jsonl', false, ['    roll: { max_age: 1s }']);
    const file = await pipeline('crash', '127.43.0.1', sink);
    await weed.stop();
    let left: Row[];
    try {
      const run = startChild(file);
      // With the server down, completed files stay in the staging directory; then the process dies at once.
      await eventually(
        'completed files in the staging directory',
        async () => ((await filesUnder(staging, '.jsonl')).length > 1 ? true : undefined),
        { stopped: () => run.child.exitCode !== null, context: run.stderr },
      );
      run.child.kill('SIGKILL');
      await run.exited;
      left = await jsonlRows(staging);
      expect(left.length).toBeGreaterThan(0);
    } finally {
      await weed.start();
    }
    const restart = await pipeline('crash-restart', '127.43.0.1', sink);
    const previous = process.env['AWS_ACCESS_KEY_ID'];
    process.env['AWS_ACCESS_KEY_ID'] = weed.accessKeyId;
    process.env['AWS_SECRET_ACCESS_KEY'] = weed.secretAccessKey;
    const again = await runCli(['run', '-c', restart, '--cycles', '1'], 90_000);
    if (previous === undefined) delete process.env['AWS_ACCESS_KEY_ID'];
    expect(again.code, again.stderr).toBe(0);
    const stored = await jsonlRows((await download('crash/jl')).dir);
    // Every row of the files the killed run left is in the bucket once.
    const storedIds = stored.map(rowId);
    for (const row of left) expect(storedIds.filter((id) => id === rowId(row))).toHaveLength(1);
    expect(stored.filter((r) => left.some((l) => rowId(l) === rowId(r)))).toEqual(left);
    expect(await filesUnder(staging, '.jsonl')).toEqual([]);
  });
});

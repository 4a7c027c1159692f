import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdir } from 'node:fs/promises';
import { RestCatalog } from '../sinks/file/iceberg/rest-catalog.js';
import type { PendingCommit } from '../sinks/file/iceberg/table-writer.js';
import { environmentCredentials } from '../src/component/s3/credentials.js';
import { S3ObjectStore } from '../src/component/s3/s3-store.js';
import { startCatalogProxy } from './support/catalog-proxy.js';
import { ensureIcebergReaders, runReader } from './services/iceberg-readers.js';
import { startSeaweedFS, type SeaweedFSService } from './services/seaweedfs.js';
import { eventually } from './support/eventually.js';
import { DUCKDB_QUERY, DUCKDB_SCAN, PYICEBERG_SCAN, type TableAccess } from './support/iceberg-read.js';
import { byTimeAndKey, rowToLine, sortLabeled, type SetLine } from './support/iceberg-rows.js';

// The file sink commits simulator cycles to an Iceberg table on a real SeaweedFS (S3 and its Iceberg REST catalog),
// run as the real `heapstream run` in a child process; readers nobody here wrote (pyiceberg and DuckDB's
// iceberg_scan) read the table back, and every row must equal the line the stdout sink printed for that set.

const MAIN = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
let weed: SeaweedFSService;
let dir: string;

beforeAll(async () => {
  await ensureIcebergReaders();
  weed = await startSeaweedFS({ tableBuckets: ['lake'] });
  dir = await mkdtemp(join(tmpdir(), 'heapstream-iceberg-'));
  // The table bucket is created in the background after the server answers: wait until it takes a namespace.
  const catalog = new RestCatalog({ uri: weed.icebergUri, warehouse: 's3://lake', credential: credential() });
  await eventually('the catalog serves the lake warehouse', async () => {
    await catalog.init();
    await catalog.ensureNamespace(['metrics']);
    return true;
  });
}, 600_000);
afterAll(async () => {
  await weed?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

function credential(): string {
  return `${weed.accessKeyId}:${weed.secretAccessKey}`;
}

function access(name: string): TableAccess {
  return {
    catalogUri: weed.icebergUri,
    warehouse: 's3://lake',
    credential: credential(),
    s3Endpoint: weed.s3Endpoint,
    accessKeyId: weed.accessKeyId,
    secretAccessKey: weed.secretAccessKey,
    namespace: 'metrics',
    name,
  };
}

interface PipelineOptions {
  readonly table: string;
  readonly catalogUri?: string;
  readonly types?: readonly string[];
  readonly firstAddress: string;
  /** roll.max_age; 1s by default, so that a run commits several snapshots. */
  readonly rollAge?: string;
  /** table.catalog.timeout; the default if absent. */
  readonly catalogTimeout?: string;
}

/** A simulated cluster through rate and aggregate, to stdout and to the table, both with the same selection. */
async function pipeline(name: string, options: PipelineOptions): Promise<string> {
  const select = options.types === undefined ? '' : `, select: { types: [${options.types.join(', ')}] }`;
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    [
      'resolution: 1s',
      `data_dir: ${join(dir, `${options.table}-data`)}`,
      'source:',
      '  type: kubelet_summary',
      `  discovery: { simulated: { nodes: 2, pods_per_node: 4, first_address: ${options.firstAddress}, seed: 11 } }`,
      'processors:',
      '  - type: rate',
      '  - type: aggregate',
      'sinks:',
      `  out: { type: stdout${select} }`,
      '  lake:',
      '    type: file',
      `    path: ${join(dir, `${options.table}-staging`)}`,
      `    roll: { max_age: ${options.rollAge ?? '1s'} }`,
      '    buffer: { type: disk, sync: every_batch }',
      ...(options.types === undefined ? [] : [`    select: { types: [${options.types.join(', ')}] }`]),
      '    table:',
      '      format: iceberg',
      `      catalog: { type: rest, uri: ${options.catalogUri ?? weed.icebergUri}, warehouse: s3://lake, credential_env: TEST_CATALOG_CREDENTIAL${options.catalogTimeout === undefined ? '' : `, timeout: ${options.catalogTimeout}`} }`,
      '      namespace: metrics',
      `      name: ${options.table}`,
      `      storage: { endpoint: ${weed.s3Endpoint}, force_path_style: true }`,
    ].join('\n') + '\n',
  );
  return file;
}

interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly lines: SetLine[];
  readonly stderr: string;
}

/** `heapstream run` in a child; killed with SIGKILL when `killWhen` resolves; `onStderr` sees its log so far. */
function run(
  file: string,
  cycles: number,
  killWhen?: Promise<void>,
  onStderr?: (log: string) => void,
): Promise<Run> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'run', '-c', file, '--cycles', String(cycles)],
    {
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: weed.accessKeyId,
        AWS_SECRET_ACCESS_KEY: weed.secretAccessKey,
        TEST_CATALOG_CREDENTIAL: credential(),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    onStderr?.(stderr);
  });
  void killWhen?.then(() => child.kill('SIGKILL'));
  const killer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  return new Promise((resolve) =>
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      const lines = stdout
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => sortLabeled(JSON.parse(l) as SetLine));
      resolve({ code, signal, lines, stderr });
    }),
  );
}

interface Scan {
  readonly rows: Record<string, unknown>[];
  readonly metadata_location: string;
  readonly columns: string[];
  readonly schemas: number;
  readonly snapshots: Record<string, string>[];
}

async function readBoth(table: string): Promise<{ py: Scan; duck: SetLine[] }> {
  const py = (await runReader(PYICEBERG_SCAN, [JSON.stringify(access(table))])) as Scan;
  const duck = (await runReader(DUCKDB_SCAN, [JSON.stringify(access(table)), py.metadata_location])) as {
    rows: Record<string, unknown>[];
  };
  return { py, duck: byTimeAndKey(duck.rows.map(rowToLine)) };
}

/** The object store of a table's location, as the sink's own client reaches it. */
async function tableStore(name: string): Promise<S3ObjectStore> {
  const catalog = new RestCatalog({ uri: weed.icebergUri, warehouse: 's3://lake', credential: credential() });
  await catalog.init();
  const table = await catalog.loadTable(['metrics'], name);
  const location = /^s3:\/\/([^/]+)\/(.*)$/.exec(table?.location ?? '');
  return new S3ObjectStore({
    bucket: location?.[1] ?? '',
    prefix: location?.[2] ?? '',
    endpoint: weed.s3Endpoint,
    region: weed.region,
    forcePathStyle: true,
    credentials: environmentCredentials({
      AWS_ACCESS_KEY_ID: weed.accessKeyId,
      AWS_SECRET_ACCESS_KEY: weed.secretAccessKey,
    }),
  });
}

describe('the file sink with an Iceberg table on SeaweedFS', () => {
  it('commits every row the stdout sink printed, and a new set type adds its columns to the schema', async () => {
    // First only the namespace and cluster aggregates, then every set type: metrics that only nodes, pods and
    // containers have (cumulative CPU usage, uptime…) appear in the later cycles only and must become new columns
    // of the table, without a failed commit.
    const early = await run(
      await pipeline('evolve-early', {
        table: 'evolve',
        types: ['ns', 'cluster'],
        firstAddress: '127.0.0.60',
      }),
      3,
    );
    expect(early.code, early.stderr).toBe(0);
    const before = await readBoth('evolve');
    expect(before.py.columns).not.toContain('cpu_usage');

    const late = await run(await pipeline('evolve-late', { table: 'evolve', firstAddress: '127.0.0.60' }), 3);
    expect(late.code, late.stderr).toBe(0);
    expect(late.stderr).not.toMatch(/could not commit|commit failed/i);
    expect(late.lines.some((l) => l.type === 'pod' && 'cpu/usage' in l.values)).toBe(true);

    const expected = byTimeAndKey([...early.lines, ...late.lines]);
    const { py, duck } = await readBoth('evolve');
    expect(py.columns).toContain('cpu_usage');
    expect(py.schemas).toBeGreaterThan(before.py.schemas);
    expect(byTimeAndKey(py.rows.map(rowToLine))).toEqual(expected);
    expect(duck).toEqual(expected);
    // The README's query: CPU-hours per namespace per day (resolution 1 s here), against the stdout lines.
    const cpuHours = (await runReader(DUCKDB_QUERY, [
      JSON.stringify(access('evolve')),
      py.metadata_location,
      `SELECT CAST(CAST(time AS DATE) AS VARCHAR) AS day, namespace, sum(cpu_usage_rate) / 1000.0 * 1 / 3600
       FROM {table} WHERE type = 'pod' AND cpu_usage_rate IS NOT NULL GROUP BY ALL ORDER BY ALL`,
    ])) as { rows: [string, string, number][] };
    const fromStdout = new Map<string, number>();
    for (const line of expected) {
      const rate = line.values['cpu/usage_rate'];
      if (line.type !== 'pod' || rate === undefined) continue;
      const id = `${line.time.slice(0, 10)} ${line.labels['namespace_name'] ?? ''}`;
      fromStdout.set(id, (fromStdout.get(id) ?? 0) + rate / 1000 / 3600);
    }
    expect(cpuHours.rows.map(([day, ns]) => `${day} ${ns}`)).toEqual([...fromStdout.keys()].sort());
    for (const [day, ns, hours] of cpuHours.rows) {
      expect(hours).toBeCloseTo(fromStdout.get(`${day} ${ns}`) ?? NaN, 9);
    }
    // Several rolls, one append snapshot each, each with its heapstream commit id.
    expect(py.snapshots.length).toBeGreaterThan(2);
    expect(py.snapshots.every((s) => s['operation'] === 'append' && s['heapstream.commit-id'])).toBe(true);
  });

  it('after kill -9 between upload and commit, the restart commits the files once: no row lost or doubled', async () => {
    const first = await run(await pipeline('crash-0', { table: 'crash', firstAddress: '127.0.0.61' }), 2);
    expect(first.code, first.stderr).toBe(0);

    // One roll, at shutdown, after every cycle was printed and written: its commit is held at the proxy, and the
    // process is killed while it waits, its files uploaded and not committed.
    const proxy = await startCatalogProxy(weed.icebergUri);
    try {
      proxy.mode = 'hold';
      const crashed = await run(
        await pipeline('crash-1', {
          table: 'crash',
          catalogUri: proxy.uri,
          rollAge: '1h',
          firstAddress: '127.0.0.61',
        }),
        3,
        proxy.held(),
      );
      expect(crashed.signal).toBe('SIGKILL');
      expect(crashed.lines.length).toBeGreaterThan(0);

      const staging = join(dir, 'crash-staging');
      const intents = (await readdir(join(staging, '_iceberg'))).filter((n) => n.endsWith('.json'));
      expect(intents).toHaveLength(1);
      const store = await tableStore('crash');
      const uploaded = (await store.list('data/')).map((o) => store.url(o.key));
      const afterCrash = await readBoth('crash');
      // Uploaded files that the table does not reference yet: the state the crash left.
      const snapshotsBefore = afterCrash.py.snapshots.length;
      expect(afterCrash.duck).toEqual(byTimeAndKey(first.lines));
      const referenced = Number(afterCrash.py.snapshots.at(-1)?.['total-data-files']);
      expect(uploaded.length).toBeGreaterThan(referenced);

      const restarted = await run(
        await pipeline('crash-2', { table: 'crash', firstAddress: '127.0.0.61' }),
        2,
      );
      expect(restarted.code, restarted.stderr).toBe(0);
      expect(await readdir(join(staging, '_iceberg'))).toEqual([]);

      const expected = byTimeAndKey([...first.lines, ...crashed.lines, ...restarted.lines]);
      const { py, duck } = await readBoth('crash');
      expect(byTimeAndKey(py.rows.map(rowToLine))).toEqual(expected);
      expect(duck).toEqual(expected);
      expect(py.snapshots.length).toBeGreaterThan(snapshotsBefore);
    } finally {
      await proxy.close();
    }
  });

  it('a commit whose answer is lost is found on the retry and not committed again', async () => {
    const proxy = await startCatalogProxy(weed.icebergUri);
    try {
      proxy.mode = 'lose-answer';
      const lost = await run(
        await pipeline('lost', { table: 'lost', catalogUri: proxy.uri, firstAddress: '127.0.0.62' }),
        3,
      );
      expect(lost.code, lost.stderr).toBe(0);
      // Every commit was applied by the catalog and its answer lost; each was retried and found.
      expect(proxy.commits.length).toBeGreaterThan(1);
      expect(lost.stderr).toMatch(/reloading the table to retry/);
      const { py, duck } = await readBoth('lost');
      const expected = byTimeAndKey(lost.lines);
      expect(byTimeAndKey(py.rows.map(rowToLine))).toEqual(expected);
      expect(duck).toEqual(expected);
      expect(py.snapshots).toHaveLength(proxy.commits.length);
    } finally {
      await proxy.close();
    }
  });

  it('a file of an unfinished commit that is gone from disk and storage is reported as an orphan', async () => {
    const proxy = await startCatalogProxy(weed.icebergUri);
    let crashed: Run;
    try {
      proxy.mode = 'hold';
      crashed = await run(
        await pipeline('orphan-1', {
          table: 'orphan',
          catalogUri: proxy.uri,
          rollAge: '1h',
          firstAddress: '127.0.0.64',
        }),
        2,
        proxy.held(),
      );
    } finally {
      await proxy.close();
    }
    expect(crashed.signal).toBe('SIGKILL');
    // The staging volume lost one file after it was uploaded, and storage lost it too.
    const outbox = join(dir, 'orphan-staging', '_iceberg');
    const [intentName] = await readdir(outbox);
    const intent = JSON.parse(await readFile(join(outbox, intentName ?? ''), 'utf8')) as PendingCommit;
    const lost = intent.files.find((f) => f.key.includes('/type=pod_container/'));
    expect(lost).toBeDefined();
    await rm(lost?.local ?? '');
    await (await tableStore('orphan')).delete(lost?.key ?? '');
    // And a completed file that never got an intent (a crash between completing it and writing the intent).
    const kept = intent.files.find((f) => f.key.includes('/type=pod/'));
    const stray = (kept?.local ?? '').replace(/part-([^/]+)\.parquet$/, 'part-$1-stray.parquet');
    await copyFile(kept?.local ?? '', stray);

    const restarted = await run(
      await pipeline('orphan-2', { table: 'orphan', firstAddress: '127.0.0.64' }),
      2,
    );
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.stderr).toMatch(/neither on disk nor in storage/);
    expect(restarted.stderr).toContain(lost?.key);
    expect(restarted.stderr).toMatch(/a staged file has no commit intent/);
    const setAside = await readdir(join(outbox, 'orphaned'), { recursive: true });
    expect(setAside.some((name) => name.endsWith('-stray.parquet'))).toBe(true);
    // Every row but those of the lost file (the first run's container rows) is in the table, once.
    const expected = byTimeAndKey([
      ...crashed.lines.filter((l) => l.type !== 'pod_container'),
      ...restarted.lines,
    ]);
    const { py, duck } = await readBoth('orphan');
    expect(byTimeAndKey(py.rows.map(rowToLine))).toEqual(expected);
    expect(duck).toEqual(expected);
  });

  it('a commit the catalog never answers times out, and lands once, when the catalog answers again', async () => {
    const proxy = await startCatalogProxy(weed.icebergUri);
    try {
      proxy.mode = 'hold';
      const running = run(
        await pipeline('silent', {
          table: 'silent',
          catalogUri: proxy.uri,
          catalogTimeout: '1s',
          firstAddress: '127.0.0.65',
        }),
        10,
      );
      await proxy.held();
      // A few timed-out attempts (never forwarded, so never applied), then the catalog answers again.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      proxy.mode = 'pass';
      const silent = await running;
      expect(silent.code, silent.stderr).toBe(0);
      expect(proxy.commits.filter((m) => m === 'hold').length).toBeGreaterThan(1);
      expect(silent.stderr).toMatch(/reloading the table to retry/);
      const { py, duck } = await readBoth('silent');
      const expected = byTimeAndKey(silent.lines);
      expect(byTimeAndKey(py.rows.map(rowToLine))).toEqual(expected);
      expect(duck).toEqual(expected);
    } finally {
      await proxy.close();
    }
  });

  // Last: it stops the server the other tests use.
  it('with the server stopped for several cycles, rows wait on disk and are committed once it is back', async () => {
    let sawCommit: () => void = () => undefined;
    const committed = new Promise<void>((resolve) => (sawCommit = resolve));
    const running = run(
      await pipeline('outage', { table: 'outage', firstAddress: '127.0.0.63' }),
      20,
      undefined,
      (log) => {
        if (log.includes('committed files to the Iceberg table')) sawCommit();
      },
    );
    await committed;
    await weed.stop();
    // Several rolls fail to upload or commit while it is down.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await weed.start();
    const outage = await running;
    expect(outage.code, outage.stderr).toBe(0);
    expect(outage.stderr).toMatch(/could not commit files to the Iceberg table, will retry/);
    const { py, duck } = await readBoth('outage');
    const expected = byTimeAndKey(outage.lines);
    expect(byTimeAndKey(py.rows.map(rowToLine))).toEqual(expected);
    expect(duck).toEqual(expected);
  });
});

import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { startKafka, type KafkaService } from './services/kafka.js';
import { freeLoopbackPort } from './services/ports.js';

// First tier → Kafka → second tier, each the real `heapstream run` in a child process, over simulated clusters.
//
// The reference is the collector's own aggregate. The simulator draws new noise at every scrape, so two
// processes scraping the same simulator never read the same values; instead each collector runs `aggregate` on what
// it scraped and writes those namespace and cluster sets to a file, and sends the sets they were summed from (node,
// pod and container sets) through Kafka. The second tier sums them again from what it read: its namespace and
// cluster rows must equal the collector's, value for value.

const { Kafka, logLevel } = kafkajs;

let kafka: KafkaService;
let dir: string;
let topicCounter = 0;

beforeAll(async () => {
  kafka = await startKafka();
  dir = await mkdtemp(join(tmpdir(), 'heapstream-second-tier-'));
});
afterAll(async () => {
  await kafka?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface Row {
  readonly key: string;
  readonly batch_time: string;
  readonly [column: string]: unknown;
}

/** Every row of the JSON Lines files under a file sink's directory, in a stable order. */
async function rowsUnder(path: string): Promise<Row[]> {
  const rows: Row[] = [];
  for (const entry of await readdir(path, { recursive: true })) {
    if (!entry.endsWith('.jsonl')) continue;
    const text = await readFile(join(path, entry), 'utf8');
    for (const line of text.split('\n')) if (line !== '') rows.push(JSON.parse(line) as Row);
  }
  const id = (r: Row) => `${r.batch_time} ${r.key}`;
  return rows.sort((a, b) => (id(a) < id(b) ? -1 : id(a) > id(b) ? 1 : 0));
}

/** The group's committed offset per partition of `topic` ('-1': none), and the topic's end offsets. */
async function offsets(group: string, topic: string): Promise<{ committed: string[]; ends: string[] }> {
  const admin = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const ends = await admin.fetchTopicOffsets(topic);
    return {
      committed: (committed?.partitions ?? []).map((p) => p.offset),
      ends: ends.map((p) => p.high),
    };
  } finally {
    await admin.disconnect();
  }
}

/** A collector: a simulated cluster, rate and aggregate; node-level sets to Kafka, its own aggregates to a file. */
async function runCollector(name: string, topic: string, firstAddress: string, cluster?: string) {
  const reference = join(dir, `${name}-reference`);
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    [
      'resolution: 1s',
      ...(cluster === undefined ? [] : [`cluster_name: ${cluster}`]),
      `data_dir: ${join(dir, `${name}-data`)}`,
      'source:',
      '  type: kubelet_summary',
      `  discovery: { simulated: { nodes: 4, pods_per_node: 12, first_address: ${firstAddress}, seed: 7 } }`,
      'processors:',
      '  - type: rate',
      '  - type: aggregate',
      'sinks:',
      '  backbone:',
      '    type: kafka',
      `    brokers: [${kafka.bootstrap}]`,
      `    topic: ${topic}`,
      '    format: batch',
      // Small parts, so that batches cross Kafka in several parts each.
      '    max_message_bytes: 16384',
      '    select: { types: [node, sys_container, pod, pod_container] }',
      '  reference:',
      `    type: file`,
      `    path: ${reference}`,
      '    format: jsonl',
      '    select: { types: [ns, cluster] }',
    ].join('\n') + '\n',
  );
  const run = await runCli(['run', '-c', file, '--cycles', '4'], 90_000);
  expect(run.code, run.stderr).toBe(0);
  return rowsUnder(reference);
}

/**
 * The second tier: kafka source → aggregate → a JSON Lines file, plus the cluster sets on stdout to see its
 * progress; stopped with SIGTERM (it drains and completes its files) once `clusterSets` cluster sets came out.
 */
async function runSecondTier(
  name: string,
  topic: string,
  clusterSets: number,
  options: { readonly group?: string; readonly extraSinks?: string[]; readonly crash?: boolean } = {},
): Promise<{ rows: Row[]; stderr: string }> {
  const out = join(dir, `${name}-out`);
  await mkdir(out, { recursive: true });
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    [
      'resolution: 1s',
      `data_dir: ${join(dir, `${name}-data`)}`,
      'source:',
      '  type: kafka',
      `  brokers: [${kafka.bootstrap}]`,
      `  topic: ${topic}`,
      `  group_id: ${options.group ?? name}`,
      '  from_beginning: true',
      // The broker's least: a member killed in a test is replaced after 6 s, not the default 30 s.
      '  session_timeout: 6s',
      'processors:',
      '  - type: aggregate',
      '    levels: [namespace, cluster]',
      'sinks:',
      '  lake:',
      '    type: file',
      `    path: ${out}`,
      '    format: jsonl',
      '    select: { types: [ns, cluster] }',
      '  progress:',
      '    type: stdout',
      '    format: jsonl',
      '    select: { types: [cluster] }',
      ...(options.extraSinks ?? []),
    ].join('\n') + '\n',
  );
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'run', '-c', file], {
    cwd: join(import.meta.dirname, '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let lines = 0;
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    lines += chunk.split('\n').length - 1;
    if (lines >= clusterSets) child.kill(options.crash === true ? 'SIGKILL' : 'SIGTERM');
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  expect(lines, stderr).toBeGreaterThanOrEqual(clusterSets);
  if (options.crash === true) return { rows: [], stderr };
  expect(code, stderr).toBe(0);
  return { rows: await rowsUnder(out), stderr };
}

describe('collector → Kafka (format batch) → second tier (kafka source, aggregate)', () => {
  it('gives the namespace and cluster sets a single process makes, value for value', async () => {
    const topic = `hs-second-tier-${++topicCounter}-${Date.now()}`;
    const reference = await runCollector('single', topic, '127.0.21.1');
    const clusters = reference.filter((r) => r.type === 'cluster');
    expect(clusters).toHaveLength(4);
    // Rates (and so cpu/usage_rate sums) exist from the second cycle on: the comparison covers them.
    expect(clusters.filter((r) => typeof r.cpu_usage_rate === 'number').length).toBeGreaterThan(0);
    expect(reference.filter((r) => r.type === 'ns').length).toBeGreaterThan(clusters.length);
    // A message that is not in the format, amid the others: skipped, logged where it is.
    const producer = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING }).producer();
    await producer.connect();
    const [written] = await producer.send({ topic, messages: [{ value: '{"v":1,"kind":"batch"' }] });
    await producer.disconnect();
    const { rows: secondTier, stderr } = await runSecondTier('tier', topic, clusters.length);
    expect(secondTier).toEqual(reference);
    const warnings = stderr
      .split('\n')
      .filter((line) => line.includes('not in the batch format'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ topic, partition: 0, offset: written?.baseOffset });
    // Stopped cleanly: everything read was delivered, and committed.
    const { committed, ends } = await offsets('tier', topic);
    expect(committed).toEqual(ends);
  });

  it('commits offsets only once the sinks have delivered: after a crash, the next start reads every cycle again', async () => {
    const topic = `hs-second-tier-${++topicCounter}-${Date.now()}`;
    const reference = await runCollector('crash', topic, '127.0.24.1');
    const clusters = reference.filter((r) => r.type === 'cluster').length;
    // An InfluxDB that is never reachable: its runner retries for ever, so no cycle is ever done with.
    const closedPort = await freeLoopbackPort();
    const unreachable = [
      '  tsdb:',
      '    type: influxdb',
      `    url: http://127.0.0.1:${closedPort}`,
      '    api: v1',
      '    database: k8s',
    ];
    await runSecondTier('crash-1', topic, clusters, { group: 'crash', extraSinks: unreachable, crash: true });
    expect((await offsets('crash', topic)).committed).toEqual(['-1']);
    const { rows: again } = await runSecondTier('crash-2', topic, clusters, { group: 'crash' });
    expect(again).toEqual(reference);
    const { committed, ends } = await offsets('crash', topic);
    expect(committed).toEqual(ends);
  });

  it('keeps two clusters (cluster_name east and west) apart in one second tier', async () => {
    const topic = `hs-second-tier-${++topicCounter}-${Date.now()}`;
    // Same simulator seed, so both clusters have the same node, namespace and pod names.
    const [east, west] = await Promise.all([
      runCollector('east', topic, '127.0.22.1', 'east'),
      runCollector('west', topic, '127.0.23.1', 'west'),
    ]);
    expect(east.map((r) => r.key)).toContain('cluster:east');
    expect(west.map((r) => r.key)).toContain('cluster:west');
    const both = [...east, ...west];
    const clusterSets = both.filter((r) => r.type === 'cluster').length;
    const { rows: secondTier } = await runSecondTier('tier-two', topic, clusterSets);
    const byCluster = (rows: Row[], name: string) =>
      rows.filter((r) => r.key === `cluster:${name}` || r.key.startsWith(`cluster:${name}/`));
    expect(byCluster(secondTier, 'east')).toEqual(east);
    expect(byCluster(secondTier, 'west')).toEqual(west);
    expect(secondTier).toHaveLength(both.length);
  });
});

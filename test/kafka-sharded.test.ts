import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import kafkajs, { type Consumer } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import aggregate from '../processors/aggregate/index.js';
import { readBatchMessage, type BatchFormatMessage } from '../src/model/batch-message.js';
import type { CycleEnd, MetricSet, NodeBatch, PipelineEvent } from '../src/model/types.js';
import { runProcessor } from '../src/testing/run-processor.js';
import { startKafka, type KafkaService } from './services/kafka.js';
import { freeLoopbackPort } from './services/ports.js';
import { eventually } from './support/eventually.js';

// Three collectors (the real `heapstream run`, each a child process) shard one simulated 300-node cluster through
// a Kafka consumer group, and one second tier (kafka source → aggregate) sums namespaces and the cluster.
//
// The reference is a single process's aggregate over the same scrapes. The simulator draws new noise at every
// scrape, so a fourth process scraping it would never read the same values; instead the test reads every node
// batch the collectors wrote to Kafka and runs the aggregate processor over each cycle's batches in this process,
// as one collector that had scraped them all would have. The second tier's namespace and cluster sets must equal
// it, value for value, in every cycle, including the cycles a killed collector left incomplete.

const { Kafka, logLevel } = kafkajs;

const RESOLUTION_MS = 3_000;
const NODES = 300;
const PARTITIONS = 12;
const CLUSTER = 'sim';
const REPO = join(import.meta.dirname, '..');

let kafka: KafkaService;
let dir: string;
let simulator: ChildProcess;
const nodes: { name: string; address: string; port: number }[] = [];
const children: ChildProcess[] = [];

/** A `heapstream` child process and what it wrote to stderr. */
interface Running {
  readonly child: ChildProcess;
  /** Its ops server's port (/metrics), when it has one. */
  readonly port?: number;
  readonly log: () => string;
  readonly exited: Promise<number | null>;
}

function runHeapstream(args: readonly string[], port?: number): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  return { child, log: () => stderr, exited, ...(port === undefined ? {} : { port }) };
}

beforeAll(async () => {
  kafka = await startKafka({ groupMinSessionTimeoutMs: 1_000 });
  dir = await mkdtemp(join(tmpdir(), 'heapstream-sharded-'));
  simulator = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'simulate',
      ...['--nodes', String(NODES), '--pods-per-node', '3', '--port', '0'],
      ...['--first-address', '127.0.61.1', '--seed', '5'],
    ],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(simulator);
  const lines = createInterface({ input: simulator.stdout! });
  for await (const line of lines) {
    nodes.push(JSON.parse(line) as (typeof nodes)[number]);
    if (nodes.length === NODES) break;
  }
}, 180_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await kafka?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Every `batch` format message of a topic, in offset order, as it is written (one partition). */
class TopicReader {
  readonly messages: BatchFormatMessage[] = [];
  private consumer: Consumer | undefined;

  async start(topic: string): Promise<void> {
    const client = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING });
    this.consumer = client.consumer({ groupId: `reader-${topic}`, maxWaitTimeInMs: 200 });
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topic], fromBeginning: true });
    await this.consumer.run({
      eachMessage: ({ message }) => {
        this.messages.push(readBatchMessage(message.value?.toString('utf8') ?? ''));
        return Promise.resolve();
      },
    });
  }

  stop(): Promise<void> {
    return this.consumer?.disconnect() ?? Promise.resolve();
  }

  marks(): CycleEnd[] {
    return this.messages.flatMap((m) => (m.kind === 'cycle_end' ? [m.mark] : []));
  }
}

/** The second tier's cluster batch (its ns and cluster sets) and its mark, for each cycle it closed. */
function closedCycles(output: TopicReader): Map<number, { sets: MetricSet[]; mark: CycleEnd }> {
  const sets = new Map<number, MetricSet[]>();
  for (const m of output.messages) {
    if (m.kind !== 'batch' || m.scope !== 'cluster') continue;
    sets.set(m.cycle, [...(sets.get(m.cycle) ?? []), ...m.sets]);
  }
  const out = new Map<number, { sets: MetricSet[]; mark: CycleEnd }>();
  for (const mark of output.marks()) out.set(mark.cycle, { sets: sets.get(mark.cycle) ?? [], mark });
  return out;
}

/** The node batches the collectors wrote for a cycle: the first of each node, in the order written. */
function nodeBatches(data: TopicReader, cycle: number): NodeBatch[] {
  const batches = new Map<string, NodeBatch>();
  for (const m of data.messages) {
    if (m.kind !== 'batch' || m.scope !== 'node' || m.cycle !== cycle) continue;
    // Node batches of three pods fit one message each (the sink's default max_message_bytes).
    expect(m.parts).toBe(1);
    const node = m.node as string;
    if (batches.has(node)) continue;
    batches.set(node, {
      kind: 'batch',
      scope: 'node',
      node,
      cycle,
      timestamp: m.time,
      cluster: CLUSTER,
      sets: m.sets,
    });
  }
  return [...batches.values()];
}

/** How many times each node was scraped in a cycle (by any collector). */
function scrapesPerNode(data: TopicReader, cycle: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of data.messages) {
    if (m.kind === 'batch' && m.scope === 'node' && m.cycle === cycle)
      counts.set(m.node as string, (counts.get(m.node as string) ?? 0) + 1);
  }
  return counts;
}

/** A single process's namespace and cluster sets over a cycle's node batches, as comparable rows. */
async function reference(
  data: TopicReader,
  cycle: number,
  timestamp: number,
  expected = NODES,
): Promise<Row[]> {
  const batches = nodeBatches(data, cycle);
  const mark: CycleEnd = {
    kind: 'cycle_end',
    cycle,
    timestamp,
    cluster: CLUSTER,
    nodesExpected: expected,
    nodesAnswered: batches.length,
    failures: [],
    durationMs: 0,
  };
  const events: PipelineEvent[] = [...batches, mark];
  const out = await runProcessor(aggregate, { levels: ['namespace', 'cluster'] }, events);
  return rows(out.flatMap((e) => (e.kind === 'batch' && e.scope === 'cluster' ? e.sets : [])));
}

interface Row {
  readonly key: string;
  readonly labels: Record<string, string>;
  readonly values: Record<string, number>;
}

function rows(sets: readonly MetricSet[]): Row[] {
  return sets
    .map((s) => ({ key: s.key, labels: { ...s.labels }, values: Object.fromEntries(s.values) }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function clusterSet(sets: readonly MetricSet[]): Record<string, number> {
  const set = sets.find((s) => s.type === 'cluster');
  expect(set).toBeDefined();
  return Object.fromEntries(set!.values);
}

/** The partitions a collector holds, from its last "sharding group joined" line; undefined before it joined. */
function heldPartitions(collector: Running): number[] | undefined {
  let held: number[] | undefined;
  for (const line of collector.log().split('\n')) {
    if (!line.includes('sharding group joined')) continue;
    held = (JSON.parse(line) as { partitions: number[] }).partitions;
  }
  return held;
}

async function writePipeline(name: string, lines: readonly string[]): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, lines.join('\n') + '\n');
  return file;
}

const id = Date.now();
const dataTopic = `hs-sharded-data-${id}`;
const outputTopic = `hs-sharded-out-${id}`;
const shardTopic = `hs-sharded-assign-${id}`;

async function startCollector(name: string): Promise<Running> {
  const port = await freeLoopbackPort();
  const file = await writePipeline(name, [
    `server: { address: 127.0.0.1, port: ${port} }`,
    `resolution: ${RESOLUTION_MS / 1000}s`,
    `cluster_name: ${CLUSTER}`,
    `data_dir: ${join(dir, `${name}-data`)}`,
    'source:',
    '  type: kubelet_summary',
    '  scheme: http',
    '  timeout: 2s',
    `  discovery: { static: ${JSON.stringify(nodes)} }`,
    '  sharding:',
    `    brokers: [${kafka.bootstrap}]`,
    `    topic: ${shardTopic}`,
    `    partitions: ${PARTITIONS}`,
    `    group_id: collectors-${id}`,
    // session + 2 heartbeats (2 s) under the 3 s resolution: a dead collector's nodes move within two cycles.
    '    session_timeout: 1500ms',
    '    heartbeat_interval: 250ms',
    'processors:',
    '  - type: rate',
    '  - type: aggregate',
    '    levels: [pod, node]',
    'sinks:',
    '  backbone:',
    '    type: kafka',
    `    brokers: [${kafka.bootstrap}]`,
    `    topic: ${dataTopic}`,
    '    format: batch',
  ]);
  return runHeapstream(['run', '-c', file], port);
}

/** The second tier's ops port, for its /metrics. */
let tierPort = 0;

async function startSecondTier(): Promise<Running> {
  tierPort = await freeLoopbackPort();
  const file = await writePipeline('tier', [
    `server: { address: 127.0.0.1, port: ${tierPort} }`,
    `resolution: ${RESOLUTION_MS / 1000}s`,
    `data_dir: ${join(dir, 'tier-data')}`,
    'source:',
    '  type: kafka',
    `  brokers: [${kafka.bootstrap}]`,
    `  topic: ${dataTopic}`,
    `  group_id: tier-${id}`,
    '  from_beginning: true',
    '  cycle_deadline: 9s',
    'processors:',
    '  - type: aggregate',
    '    levels: [namespace, cluster]',
    'sinks:',
    '  out:',
    '    type: kafka',
    `    brokers: [${kafka.bootstrap}]`,
    `    topic: ${outputTopic}`,
    '    format: batch',
    '    select: { types: [ns, cluster] }',
  ]);
  return runHeapstream(['run', '-c', file]);
}

/** Waits until the second tier has closed `cycle`; returns what it closed so far. */
function closedThrough(output: TopicReader, cycle: number, watched: Running[]) {
  return eventually(
    `the second tier to close cycle ${cycle}`,
    () => {
      const closed = closedCycles(output);
      return Promise.resolve(closed.has(cycle) ? closed : undefined);
    },
    {
      ms: 120_000,
      stopped: () => watched.some((r) => r.child.exitCode !== null),
      context: () => watched.map((r) => r.log().split('\n').slice(-15).join('\n')).join('\n---\n'),
    },
  );
}

/** A collector's successful scrapes so far and the partitions it holds, from its /metrics. */
async function scrapeState(collector: Running): Promise<{ scrapes: number; partitions: number }> {
  const text = await (await fetch(`http://127.0.0.1:${collector.port}/metrics`)).text();
  const value = (prefix: string, has: string) =>
    Number(
      text
        .split('\n')
        .find((l) => l.startsWith(prefix) && l.includes(has))
        ?.split(' ')
        .at(-1),
    );
  return {
    scrapes: value('heapstream_scrapes_total{', 'result="ok"'),
    partitions: value('heapstream_shard_partitions{', ''),
  };
}

/** The cycle in progress now. */
const cycleNow = () => Math.floor(Date.now() / RESOLUTION_MS);

/** Every cycle the marks of which cover all partitions and all nodes. */
const covered = (mark: CycleEnd) =>
  mark.shard?.partitions.length === PARTITIONS && new Set(mark.nodes).size === NODES;

describe('three sharded collectors → Kafka → second tier', () => {
  const data = new TopicReader();
  const output = new TopicReader();
  const collectors: Running[] = [];
  let tier: Running;

  beforeAll(async () => {
    const admin = new Kafka({ brokers: [kafka.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    await admin.createTopics({
      topics: [{ topic: dataTopic }, { topic: outputTopic }],
      waitForLeaders: true,
    });
    await admin.disconnect();
    await data.start(dataTopic);
    await output.start(outputTopic);
  }, 60_000);

  afterAll(async () => {
    await data.stop();
    await output.stop();
  });

  it('gives the namespace and cluster sets of a single process over the same scrapes, each node scraped once per cycle', async () => {
    tier = await startSecondTier();
    for (const name of ['a', 'b', 'c']) collectors.push(await startCollector(name));
    const all = () => [tier, ...collectors];
    // Once all three hold partitions, the next cycle starts the steady state.
    await eventually(
      'three collectors holding partitions',
      () => {
        const held = collectors.map(heldPartitions);
        const total = held.reduce((n, h) => n + (h?.length ?? 0), 0);
        return Promise.resolve(
          held.every((h) => (h?.length ?? 0) > 0) && total === PARTITIONS ? held : undefined,
        );
      },
      {
        ms: 120_000,
        stopped: () => all().some((r) => r.child.exitCode !== null),
        context: () =>
          all()
            .map((r) => r.log())
            .join('\n---\n'),
      },
    );
    const steady = cycleNow() + 1;
    const closed = await closedThrough(output, steady + 4, all());
    let compared = 0;
    for (const [cycle, { sets, mark }] of [...closed].sort((a, b) => a[0] - b[0])) {
      // Before the first collector joined, nobody scraped: how many nodes there are is not known yet.
      const expected = cycle < steady && !covered(mark) ? mark.nodesExpected : NODES;
      expect(rows(sets), `cycle ${cycle}`).toEqual(await reference(data, cycle, mark.timestamp, expected));
      compared++;
      if (cycle < steady) continue;
      expect(covered(mark), `cycle ${cycle} covers every node`).toBe(true);
      const scrapes = scrapesPerNode(data, cycle);
      expect(scrapes.size).toBe(NODES - mark.failures.length);
      expect(
        [...scrapes.values()].every((n) => n === 1),
        `cycle ${cycle}: a node scraped twice`,
      ).toBe(true);
      // Rates exist from a node's second scrape by the same collector on: the comparison covers their sums.
      if (cycle > steady) expect(clusterSet(sets)['cpu/usage_rate']).toBeTypeOf('number');
      expect(sets.filter((set) => set.type === 'ns').length).toBeGreaterThan(0);
      expect(clusterSet(sets)).toMatchObject({
        nodes_expected: NODES,
        nodes_reporting: NODES - mark.failures.length,
      });
    }
    expect(compared).toBeGreaterThanOrEqual(5);
  }, 240_000);

  it('kill -9 of a collector: its nodes are scraped again within two cycles; the cycles between are incomplete, not wrong', async () => {
    const victim = collectors[2] as Running;
    // Right after a tick, so the collector dies in the middle of its cycle's scrapes.
    const next = (cycleNow() + 1) * RESOLUTION_MS;
    await new Promise((resolve) => setTimeout(resolve, next - Date.now() + 10));
    const killed = cycleNow();
    victim.child.kill('SIGKILL');
    const alive = [tier, collectors[0] as Running, collectors[1] as Running];
    const closed = await closedThrough(output, killed + 4, alive);
    let incomplete = 0;
    for (let cycle = killed; cycle <= killed + 4; cycle++) {
      const { sets, mark } = closed.get(cycle) ?? expect.fail(`cycle ${cycle} was not closed`);
      expect(rows(sets), `cycle ${cycle}`).toEqual(await reference(data, cycle, mark.timestamp));
      const totals = clusterSet(sets);
      if (cycle >= killed + 2) {
        expect(covered(mark), `cycle ${cycle} (killed in ${killed}) covers every node`).toBe(true);
        continue;
      }
      if (covered(mark)) continue;
      incomplete++;
      // Missing nodes are missing, not zeros: expected still counts them.
      expect(totals.nodes_expected).toBe(NODES);
      expect(totals.nodes_reporting).toBeLessThan(NODES);
      expect(tier.log()).toContain(`cycle ${cycle} closed incomplete`);
    }
    // The collector died mid-cycle: that cycle lacks its mark.
    expect(covered(closed.get(killed)!.mark)).toBe(false);
    expect(incomplete).toBeGreaterThanOrEqual(1);
    // Counted as well as logged.
    const metrics = await (await fetch(`http://127.0.0.1:${tierPort}/metrics`)).text();
    const counted = metrics
      .split('\n')
      .find(
        (l) => l.startsWith('heapstream_kafka_source_cycles_total{') && l.includes('outcome="incomplete"'),
      );
    expect(Number(counted?.split(' ').at(-1))).toBeGreaterThanOrEqual(incomplete);
    const held = [collectors[0], collectors[1]].map((c) => heldPartitions(c as Running) ?? []);
    expect(held.flat().sort((a, b) => a - b)).toEqual([...Array(PARTITIONS).keys()]);
  }, 240_000);

  it('a collector joining: the partitions spread again and no node is lost', async () => {
    const joining = await startCollector('d');
    const alive = [tier, collectors[0] as Running, collectors[1] as Running, joining];
    const from = cycleNow();
    await eventually(
      'the new collector to hold partitions',
      () => {
        const held = heldPartitions(joining);
        return Promise.resolve(held !== undefined && held.length > 0 ? held : undefined);
      },
      { ms: 60_000, stopped: () => joining.child.exitCode !== null, context: joining.log },
    );
    const joined = cycleNow();
    const closed = await closedThrough(output, joined + 3, alive);
    let scrapedTwice = 0;
    for (let cycle = from; cycle <= joined + 3; cycle++) {
      const { sets, mark } = closed.get(cycle) ?? expect.fail(`cycle ${cycle} was not closed`);
      expect(covered(mark), `cycle ${cycle} covers every node`).toBe(true);
      if ([...scrapesPerNode(data, cycle).values()].some((n) => n > 1)) scrapedTwice++;
      expect(rows(sets), `cycle ${cycle}`).toEqual(await reference(data, cycle, mark.timestamp));
    }
    // The rebalance hands every member its share at once: no node scraped by two collectors beyond one cycle.
    expect(scrapedTwice).toBeLessThanOrEqual(1);
    const held = [collectors[0], collectors[1], joining].map((c) => heldPartitions(c as Running) ?? []);
    for (const partitions of held) expect(partitions.length).toBeGreaterThan(0);
    expect(held.flat().sort((a, b) => a - b)).toEqual([...Array(PARTITIONS).keys()]);
    collectors.splice(2, 1, joining);
  }, 240_000);

  it('broker down: every collector keeps its partitions and goes on scraping', async () => {
    const alive = collectors.filter((c) => c.child.exitCode === null);
    expect(alive).toHaveLength(3);
    const before = await Promise.all(alive.map(scrapeState));
    await kafka.kill();
    // Two whole cycles without the broker.
    await new Promise((resolve) => setTimeout(resolve, 2.5 * RESOLUTION_MS));
    const after = await Promise.all(alive.map(scrapeState));
    for (const [i, state] of after.entries()) {
      expect(state.partitions, `collector ${i}`).toBe(before[i]?.partitions);
      expect(state.scrapes, `collector ${i}`).toBeGreaterThan(before[i]?.scrapes ?? Infinity);
    }
    expect(after.reduce((n, s) => n + s.partitions, 0)).toBe(PARTITIONS);
  }, 60_000);
});

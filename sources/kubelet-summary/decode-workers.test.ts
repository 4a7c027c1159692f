import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceContext } from '../../src/component/component.js';
import type { CycleEnd, NodeBatch, PipelineEvent } from '../../src/model/types.js';
import { testContext } from '../../src/testing/context.js';
import { runSourceCycles, servePayloads, type PayloadServers } from '../../src/testing/payload-servers.js';
import source from './index.js';

const KUBELET_DIR = new URL('../../../shared/fixtures/kubelet/', import.meta.url);

/** Every real Summary capture, one node each, plus nodes whose answers must fail the same way. */
const PAYLOADS: { name: string; body: Buffer }[] = readdirSync(KUBELET_DIR, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(new URL(`${d.name}/`, KUBELET_DIR))
      .filter((f) => f.startsWith('stats-summary') && f.endsWith('.json'))
      .map((f) => ({
        name: `${d.name}-${f.replace(/\.json$/, '')}`.toLowerCase().replace(/[^a-z0-9-]/g, '-'),
        body: readFileSync(new URL(`${d.name}/${f}`, KUBELET_DIR)),
      })),
  );
const BROKEN = { name: 'broken-json', body: Buffer.from('{"node": {"nodeName": "x", ') };
const WRONG_SHAPE = { name: 'wrong-shape', body: Buffer.from('{"node": 42, "pods": []}') };

const TICKS = [
  { cycle: 1, time: Date.UTC(2026, 0, 1, 0, 0, 0) },
  { cycle: 2, time: Date.UTC(2026, 0, 1, 0, 0, 15) },
];

/** The node batches, in node order per cycle (answers arrive in any order). */
const sortedBatches = (events: PipelineEvent[]): NodeBatch[] =>
  events
    .filter((e): e is NodeBatch => e.kind === 'batch')
    .sort((a, b) => a.cycle - b.cycle || a.node.localeCompare(b.node));

describe('kubelet_summary decodes the same with workers as without', () => {
  let servers: PayloadServers;

  beforeAll(async () => {
    servers = await servePayloads([...PAYLOADS, BROKEN, WRONG_SHAPE]);
  });

  afterAll(() => servers.close());

  /** Two cycles of one source over the given nodes. */
  function run(workers: number, nodes: readonly string[]): Promise<PipelineEvent[]> {
    const config = source.config.parse({ scheme: 'http', discovery: { static: servers.staticNodes(nodes) } });
    return runSourceCycles((ticks) => {
      const ctx: SourceContext = {
        ...testContext({ resolutionMs: 15_000 }),
        ticks,
        provideMetadata: () => {},
        workers,
      };
      return source.create(config, ctx);
    }, TICKS);
  }

  it('every real capture: the same sets, labels and values with 0 and 2 workers', async () => {
    const names = PAYLOADS.map((p) => p.name);
    expect(names.length).toBeGreaterThan(5);
    const inProcess = sortedBatches(await run(0, names));
    expect(inProcess).toHaveLength(2 * names.length);
    const onWorkers = sortedBatches(await run(2, names));
    expect(onWorkers).toEqual(inProcess);
    // Decoded on a worker indeed: labels that crossed threads come out of the receiver's table, frozen.
    expect(Object.isFrozen(onWorkers[0]?.sets[0]?.labels)).toBe(true);
    expect(Object.isFrozen(inProcess[0]?.sets[0]?.labels)).toBe(false);
  }, 60_000);

  it('a payload that is not JSON, or not a Summary: the same failure, naming the node, with workers', async () => {
    const failures = async (workers: number) =>
      (await run(workers, [BROKEN.name, WRONG_SHAPE.name]))
        .filter((e): e is CycleEnd => e.kind === 'cycle_end')
        .flatMap((e) => e.failures)
        .sort((a, b) => a.node.localeCompare(b.node));
    const inProcess = await failures(0);
    expect(inProcess.map((f) => f.reason)).toEqual(['decode', 'decode', 'decode', 'decode']);
    expect(inProcess[0]?.message).toContain('broken-json');
    expect(await failures(1)).toEqual(inProcess);
  }, 60_000);
});

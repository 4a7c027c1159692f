import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lastValueFrom, ReplaySubject, tap, toArray } from 'rxjs';
import type { Tick } from '../../src/component/clock.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceContext } from '../../src/component/component.js';
import type { CycleEnd, NodeBatch, PipelineEvent } from '../../src/model/types.js';
import { testContext } from '../../src/testing/context.js';
import source from './index.js';

const KUBELET_DIR = new URL('../../../shared/fixtures/kubelet/', import.meta.url);

/** Every real Summary capture, one simulated node each, plus nodes whose answers must fail the same way. */
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
const ALL = [...PAYLOADS, BROKEN, WRONG_SHAPE];

const TICKS = [
  { cycle: 1, time: Date.UTC(2026, 0, 1, 0, 0, 0) },
  { cycle: 2, time: Date.UTC(2026, 0, 1, 0, 0, 15) },
];

describe('kubelet_summary decodes the same with workers as without', () => {
  /** One loopback server per node, each answering its payload. */
  const servers = new Map<string, { server: Server; port: number }>();

  beforeAll(async () => {
    for (const payload of ALL) {
      const server = createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' }).end(payload.body);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      servers.set(payload.name, { server, port: (server.address() as AddressInfo).port });
    }
  });

  afterAll(async () => {
    for (const { server } of servers.values()) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  /** Two cycles of one source over the given nodes; the second tick comes when the first cycle has ended. */
  async function run(workers: number, nodes: readonly string[]): Promise<PipelineEvent[]> {
    const ticks = new ReplaySubject<Tick>(1); // the source subscribes once discovery has started
    const ctx: SourceContext = {
      ...testContext({ resolutionMs: 15_000 }),
      ticks,
      provideMetadata: () => {},
      workers,
    };
    const config = source.config.parse({
      scheme: 'http',
      discovery: {
        static: nodes.map((name) => ({ name, address: '127.0.0.1', port: servers.get(name)?.port })),
      },
    });
    const events: PipelineEvent[] = [];
    const done = lastValueFrom(
      source.create(config, ctx).pipe(
        tap((event) => {
          events.push(event);
          if (event.kind !== 'cycle_end') return;
          const next = TICKS.find((t) => t.cycle === event.cycle + 1);
          if (next === undefined) ticks.complete();
          else ticks.next(next);
        }),
        toArray(),
      ),
    );
    ticks.next(TICKS[0] as Tick);
    await done;
    return events;
  }

  /** The node batches, in node order per cycle (answers arrive in any order). */
  const batches = (events: PipelineEvent[]) =>
    events
      .filter((e): e is NodeBatch => e.kind === 'batch')
      .sort((a, b) => a.cycle - b.cycle || a.node.localeCompare(b.node));

  it('every real capture: the same sets, labels and values with 0 and 2 workers', async () => {
    const names = PAYLOADS.map((p) => p.name);
    expect(names.length).toBeGreaterThan(5);
    const inProcess = batches(await run(0, names));
    expect(inProcess).toHaveLength(2 * names.length);
    const onWorkers = batches(await run(2, names));
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

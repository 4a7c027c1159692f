import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/component/clock.js';
import type { SourceContext } from '../../src/component/component.js';
import type { NodeBatch, PipelineEvent } from '../../src/model/types.js';
import { testContext } from '../../src/testing/context.js';
import { runSourceCycles, servePayloads, type PayloadServers } from '../../src/testing/payload-servers.js';
import source from './index.js';

const PROMETHEUS_DIR = new URL('../../../shared/fixtures/prometheus/', import.meta.url);
const PAYLOADS = [
  { name: 'resource', body: readFileSync(new URL('metrics-server-metrics-resource.prom', PROMETHEUS_DIR)) },
  { name: 'cadvisor', body: readFileSync(new URL('nri-1.27-metrics-cadvisor.prom', PROMETHEUS_DIR)) },
].map((p) => ({ ...p, contentType: 'text/plain; version=0.0.4' }));

const TICKS = [
  { cycle: 1, time: Date.UTC(2026, 0, 1, 0, 0, 0) },
  { cycle: 2, time: Date.UTC(2026, 0, 1, 0, 0, 15) },
];
/** Samples without a timestamp get the time the answer arrived: the same in both runs here. */
const ANSWER_TIME = Date.UTC(2026, 0, 1, 0, 0, 1);

describe('kubelet_prometheus decodes the same with workers as without', () => {
  let servers: PayloadServers;

  beforeAll(async () => {
    servers = await servePayloads(PAYLOADS);
  });

  afterAll(() => servers.close());

  async function run(workers: number, endpoint: 'resource' | 'cadvisor'): Promise<NodeBatch[]> {
    const config = source.config.parse({
      scheme: 'http',
      endpoint,
      discovery: { static: servers.staticNodes([endpoint]) },
    });
    const events: PipelineEvent[] = await runSourceCycles((ticks) => {
      const ctx: SourceContext = {
        ...testContext({ clock: { ...systemClock(), now: () => ANSWER_TIME } }),
        ticks,
        provideMetadata: () => {},
        workers,
      };
      return source.create(config, ctx);
    }, TICKS);
    return events.filter((e): e is NodeBatch => e.kind === 'batch');
  }

  it.each(['resource', 'cadvisor'] as const)(
    '/metrics/%s, a real capture: the same sets, labels and values with 0 and 1 workers',
    async (endpoint) => {
      const inProcess = await run(0, endpoint);
      expect(inProcess).toHaveLength(2);
      expect(inProcess[0]?.sets.length).toBeGreaterThan(3);
      const onWorkers = await run(1, endpoint);
      expect(onWorkers).toEqual(inProcess);
      // Decoded on a worker indeed: labels that crossed threads come out of the receiver's table, frozen.
      expect(Object.isFrozen(onWorkers[0]?.sets[0]?.labels)).toBe(true);
    },
    60_000,
  );
});

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lastValueFrom, of, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceContext } from '../../src/component/component.js';
import type { CycleEnd, NodeBatch, PipelineEvent } from '../../src/model/types.js';
import { testContext } from '../../src/testing/context.js';
import source from './index.js';

const PROM = new URL('../../../shared/fixtures/prometheus/', import.meta.url);
const BODIES: Record<string, Buffer> = {
  '/metrics/resource': readFileSync(new URL('metrics-server-metrics-resource.prom', PROM)),
  '/metrics/cadvisor': readFileSync(new URL('nri-1.27-metrics-cadvisor.prom', PROM)),
};
const TICK = { cycle: 7, time: 1_694_017_540_000 };

describe('kubelet_prometheus over HTTP on loopback', () => {
  let server: Server;
  let port = 0;
  const paths: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      paths.push(`${req.method} ${req.url}`);
      const body = BODIES[req.url ?? ''];
      if (body === undefined) res.writeHead(404).end('not found');
      else res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function run(endpoint: string): Promise<PipelineEvent[]> {
    const ctx: SourceContext = { ...testContext(), ticks: of(TICK), provideMetadata: () => {} };
    const config = source.config.parse({
      endpoint,
      scheme: 'http',
      discovery: { static: [{ name: 'kind-node', address: '127.0.0.1', port }] },
    });
    return lastValueFrom(source.create(config, ctx).pipe(toArray()));
  }

  it.each([
    ['resource', 141, 'node:kind-node', 357_354_910_000],
    ['cadvisor', 39, 'node:kind-node', 80_863_332_000],
  ])('GETs /metrics/%s and emits the node batch, then the CycleEnd', async (endpoint, sets, key, cpu) => {
    const events = await run(endpoint);
    expect(paths.at(-1)).toBe(`GET /metrics/${endpoint}`);
    expect(events.map((e) => e.kind)).toEqual(['batch', 'cycle_end']);
    const batch = events[0] as NodeBatch;
    expect(batch).toMatchObject({ node: 'kind-node', cycle: 7, timestamp: TICK.time });
    expect(batch.sets).toHaveLength(sets);
    expect(batch.sets[0]?.key).toBe(key);
    expect(batch.sets[0]?.values.get('cpu/usage')).toBe(cpu);
    expect(events[1] as CycleEnd).toMatchObject({
      cycle: 7,
      nodesExpected: 1,
      nodesAnswered: 1,
      failures: [],
    });
  });
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lastValueFrom, of, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SourceContext } from '../../src/component/component.js';
import type { CycleEnd, NodeBatch, PipelineEvent } from '../../src/model/types.js';
import { testContext } from '../../src/testing/context.js';
import source from './index.js';
import { statsRequestBody } from './cadvisor-source.js';

const FIXTURE = readFileSync(
  new URL('../../../shared/fixtures/cadvisor/seed-stats-container.json', import.meta.url),
);
const TICK = { cycle: 1, time: Date.UTC(2017, 10, 10, 6, 29, 45) };

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  authorization: string | undefined;
  body: string;
}

describe('kubelet_cadvisor over HTTP on loopback', () => {
  let server: Server;
  let port = 0;
  const seen: Seen[] = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({
          method: req.method ?? '',
          url: req.url ?? '',
          contentType: req.headers['content-type'],
          authorization: req.headers.authorization,
          body: Buffer.concat(chunks).toString('utf8'),
        });
        if (req.url === '/stats/container/') {
          res.writeHead(200, { 'content-type': 'application/json' }).end(FIXTURE);
        } else {
          res.writeHead(404).end('not found');
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function run(config: unknown): Promise<PipelineEvent[]> {
    const ctx: SourceContext = {
      ...testContext({ resolutionMs: 10_000 }),
      ticks: of(TICK),
      provideMetadata: () => {},
    };
    return lastValueFrom(source.create(source.config.parse(config), ctx).pipe(toArray()));
  }

  it('POSTs the window body and emits the node batch, then the CycleEnd', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'heapstream-cadvisor-'));
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'secret-token\n');
    const events = await run({
      api: 'kubelet',
      scheme: 'http',
      auth: { token_file: tokenFile },
      allow_insecure_token: true, // a loopback test kubelet without TLS
      discovery: { static: [{ name: 'seed-node', address: '127.0.0.1', port }] },
    }).finally(() => rmSync(dir, { recursive: true, force: true }));
    expect(seen).toHaveLength(1);
    const request = seen[0]!;
    expect(request.method).toBe('POST');
    expect(request.contentType).toBe('application/json');
    expect(request.authorization).toBe('Bearer secret-token');
    const body = JSON.parse(request.body) as Record<string, unknown>;
    expect(body['containerName']).toBe('/');
    expect(body['subcontainers']).toBe(true);
    expect(body['num_stats']).toBe(1);
    expect(Date.parse(body['start'] as string)).toBeLessThan(Date.parse(body['end'] as string));
    expect(Date.parse(body['end'] as string)).toBe(TICK.time);

    expect(events.map((e) => e.kind)).toEqual(['batch', 'cycle_end']);
    const batch = events[0] as NodeBatch;
    expect(batch.node).toBe('seed-node');
    expect(batch.cycle).toBe(1);
    expect(batch.sets[0]?.key).toBe('node:seed-node');
    expect(batch.sets[0]?.values.get('cpu/usage')).toBe(916888682985895);
    const end = events[1] as CycleEnd;
    expect(end).toMatchObject({ nodesExpected: 1, nodesAnswered: 1, failures: [] });
  });

  it('reports a wrong path as a failed node in the CycleEnd', async () => {
    const events = await run({
      api: 'cadvisor',
      discovery: { static: [{ name: 'seed-node', address: '127.0.0.1', port }] },
    });
    expect(seen.at(-1)?.url).toBe('/api/v1.3/subcontainers/');
    expect(events).toHaveLength(1);
    const end = events[0] as CycleEnd;
    expect(end.failures).toMatchObject([{ node: 'seed-node', reason: 'http_status' }]);
  });

  it('builds the request body from the tick and the resolution', () => {
    expect(statsRequestBody({ cycle: 2, time: 30_000 }, 15_000, 1)).toBe(
      '{"containerName":"/","num_stats":1,"start":"1970-01-01T00:00:15.000Z","end":"1970-01-01T00:00:30.000Z","subcontainers":true}',
    );
  });
});

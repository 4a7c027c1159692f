/**
 * The kubelet_summary source over real HTTP, two cycles: every set's labels object is the same frozen object in
 * the second cycle as in the first, since the node's labels did not change.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { concat, lastValueFrom, map, of, timer, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import type { SourceContext } from '../src/component/component.js';
import type { NodeBatch } from '../src/model/types.js';
import { testContext } from '../src/testing/context.js';
import summarySource from '../sources/kubelet-summary/index.js';

const SUMMARY = readFileSync(
  new URL('../../shared/fixtures/kubelet/nri-1.34/stats-summary.json', import.meta.url),
);

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

describe('kubelet_summary labels across cycles', () => {
  it('gives each unchanged set the same frozen labels object every cycle', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(SUMMARY);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    const port = (server.address() as AddressInfo).port;
    const ctx: SourceContext = {
      ...testContext({ id: 'src' }),
      // The second tick once the first scrape is surely done, so the node is not skipped as busy.
      ticks: concat(of({ cycle: 1, time: 1_000 }), timer(500).pipe(map(() => ({ cycle: 2, time: 16_000 })))),
      provideMetadata: () => {},
    };
    const config = summarySource.config.parse({
      scheme: 'http',
      discovery: { static: [{ name: 'n1', address: '127.0.0.1', port }] },
    });
    const events = await lastValueFrom(summarySource.create(config as never, ctx).pipe(toArray()));
    const [first, second] = events.filter((e): e is NodeBatch => e.kind === 'batch');
    expect(first?.sets.length).toBeGreaterThan(10);
    expect(second?.sets.length).toBe(first?.sets.length);
    first!.sets.forEach((set, i) => {
      expect(Object.isFrozen(set.labels)).toBe(true);
      expect(second!.sets[i]!.labels).toBe(set.labels);
      expect(second!.sets[i]).not.toBe(set);
    });
  });
});

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { lastValueFrom, ReplaySubject, tap, toArray, type Observable } from 'rxjs';
import type { Tick } from '../component/clock.js';
import type { PipelineEvent } from '../model/types.js';

/** Loopback HTTP servers, one per node, each answering every request with its payload. */
export interface PayloadServers {
  /** The port of each node's server, by node name. */
  readonly ports: ReadonlyMap<string, number>;
  /** `discovery: { static: [...] }` entries for these nodes (or the named ones), in the given order. */
  staticNodes(names?: readonly string[]): { name: string; address: string; port: number }[];
  close(): Promise<void>;
}

/**
 * Fake kubelets that serve fixed bytes: the same payload every scrape, so that two runs of a source (in process and
 * on decode threads, say) must give the same sets.
 *
 * @example
 * const servers = await servePayloads([{ name: 'n1', body: fixtureBytes, contentType: 'application/json' }]);
 * source.config.parse({ scheme: 'http', discovery: { static: servers.staticNodes() } });
 */
export async function servePayloads(
  payloads: readonly { name: string; body: Buffer; contentType?: string }[],
): Promise<PayloadServers> {
  const servers: Server[] = [];
  const ports = new Map<string, number>();
  for (const payload of payloads) {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': payload.contentType ?? 'application/json' }).end(payload.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
    ports.set(payload.name, (server.address() as AddressInfo).port);
  }
  return {
    ports,
    staticNodes: (names = payloads.map((p) => p.name)) =>
      names.map((name) => ({ name, address: '127.0.0.1', port: ports.get(name) ?? 0 })),
    close: async () => {
      for (const server of servers) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The events of a source over the given ticks, each tick given once the cycle before it has ended (so no node is
 * still busy with the one before), the source subscribed once (`start` gets the ticks to use as `ctx.ticks`).
 *
 * @example
 * const events = await runSourceCycles((ticks) => source.create(config, { ...ctx, ticks }), [tick1, tick2]);
 */
export async function runSourceCycles(
  start: (ticks: Observable<Tick>) => Observable<PipelineEvent>,
  ticks: readonly Tick[],
): Promise<PipelineEvent[]> {
  // Replayed: a kubelet source subscribes to its ticks only once its discovery has started.
  const feed = new ReplaySubject<Tick>(1);
  const events: PipelineEvent[] = [];
  const done = lastValueFrom(
    start(feed).pipe(
      tap((event) => {
        events.push(event);
        if (event.kind !== 'cycle_end') return;
        const next = ticks[ticks.findIndex((t) => t.cycle === event.cycle) + 1];
        if (next === undefined) feed.complete();
        else feed.next(next);
      }),
      toArray(),
    ),
  );
  const first = ticks[0];
  if (first === undefined) feed.complete();
  else feed.next(first);
  await done;
  return events;
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Agent, request } from 'undici';
import type { SimUser } from './callers.js';
import type { FrontProxyOptions } from './delegation.js';
import type { DiscoveredGroup, LegacyResource } from './discovery-v2.js';
import { sendStatus } from './http-json.js';

/** One APIService the fake API server fronts, as `spec.group`, `spec.version` and the service it resolves to. */
export interface AggregatedApi {
  readonly group: string;
  readonly version: string;
  /** Where the extension API server listens, e.g. `https://127.0.0.1:4443` (the service's endpoint). */
  readonly url: string;
  /** `spec.caBundle`: the CA that signed the extension server's serving certificate. */
  readonly caBundle?: Buffer;
  /** `spec.insecureSkipTLSVerify`, as metrics-server's own manifest sets it. */
  readonly insecureSkipTLSVerify?: boolean;
}

/** An aggregated API and the HTTPS agent that reaches it with the front-proxy client certificate. */
interface Route {
  readonly api: AggregatedApi;
  readonly agent: Agent;
}

// Hop-by-hop and credential headers the aggregator does not pass on; X-Remote-* are set from the caller only.
const DROPPED = new Set([
  'authorization',
  'connection',
  'host',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
]);
const REMOTE = /^x-remote-/i;

/**
 * The fake API server's aggregation layer: the APIServices set with `set()` are listed in discovery, and their
 * paths proxied to the extension server with the front-proxy client certificate and the caller's identity in
 * X-Remote-User / X-Remote-Group, as kube-aggregator's proxy handler does.
 */
export class Aggregator {
  private routes: Route[] = [];

  constructor(private readonly frontProxy: FrontProxyOptions | undefined) {}

  async set(apis: readonly AggregatedApi[]): Promise<void> {
    const old = this.routes;
    this.routes = apis.map((api) => ({
      api,
      agent: new Agent({
        connect: {
          ...(api.caBundle === undefined ? {} : { ca: api.caBundle }),
          rejectUnauthorized: api.insecureSkipTLSVerify !== true,
          ...(this.frontProxy === undefined
            ? {}
            : { cert: this.frontProxy.client.cert, key: this.frontProxy.client.key }),
        },
      }),
    }));
    await Promise.all(old.map((r) => r.agent.close()));
  }

  apis(): readonly AggregatedApi[] {
    return this.routes.map((r) => r.api);
  }

  /** The route serving `/apis/<group>/<version>[/…]`, undefined for paths the fake server serves itself. */
  routeOf(pathname: string): Route | undefined {
    return this.routes.find((r) => {
      const prefix = `/apis/${r.api.group}/${r.api.version}`;
      return pathname === prefix || pathname.startsWith(prefix + '/');
    });
  }

  /** Proxies a request to the extension server as `caller`; 503 with the aggregator's wording when unreachable. */
  async proxy(route: Route, req: IncomingMessage, res: ServerResponse, caller: SimUser): Promise<void> {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(req.headersDistinct)) {
      if (value !== undefined && !DROPPED.has(name) && !REMOTE.test(name)) headers[name] = value;
    }
    headers['x-remote-user'] = caller.username;
    if (caller.groups.length > 0) headers['x-remote-group'] = [...caller.groups];
    const target = new URL(req.url ?? '/', route.api.url);
    try {
      const answer = await request(target, {
        method: req.method === 'HEAD' ? 'HEAD' : 'GET',
        dispatcher: route.agent,
        headers,
      });
      const contentType = answer.headers['content-type'];
      res.writeHead(
        answer.statusCode,
        typeof contentType === 'string' ? { 'content-type': contentType } : {},
      );
      for await (const chunk of answer.body) res.write(chunk);
      res.end();
    } catch (err) {
      const service = `${route.api.version}.${route.api.group}`;
      sendStatus(
        res,
        503,
        'ServiceUnavailable',
        `error trying to reach service ${service} at ${route.api.url}: ${(err as Error).message}`,
      );
    }
  }

  /**
   * Every aggregated group version with the resources its server lists at /apis/<group>/<version>, read as
   * kube-aggregator's discovery manager does (as system:kube-aggregator in system:masters); a version whose server
   * cannot be read has `resources` undefined (stale).
   */
  async discover(): Promise<DiscoveredGroup[]> {
    const found = await Promise.all(
      this.routes.map(async ({ api, agent }) => {
        try {
          const answer = await request(new URL(`/apis/${api.group}/${api.version}`, api.url), {
            dispatcher: agent,
            headers: {
              accept: 'application/json',
              'x-remote-user': 'system:kube-aggregator',
              'x-remote-group': 'system:masters',
            },
            headersTimeout: 5_000,
            bodyTimeout: 5_000,
          });
          const body = (await answer.body.json()) as { resources?: LegacyResource[] };
          return { api, resources: answer.statusCode === 200 ? (body.resources ?? []) : undefined };
        } catch {
          return { api, resources: undefined };
        }
      }),
    );
    const groups = new Map<string, DiscoveredGroup['versions'][number][]>();
    for (const { api, resources } of found) {
      groups.set(api.group, [...(groups.get(api.group) ?? []), { version: api.version, resources }]);
    }
    return [...groups].map(([group, versions]) => ({ group, versions }));
  }

  async close(): Promise<void> {
    await this.set([]);
  }
}

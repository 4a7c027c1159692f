import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { Aggregator, type AggregatedApi } from './aggregation.js';
import { ApiState, RESOURCES, type Resource, type StoredEvent } from './api-state.js';
import { SimCallers, type SimUser } from './callers.js';
import {
  ACCESS_REVIEW_PATH,
  AUTH_CONFIGMAP_PATH,
  TOKEN_REVIEW_PATH,
  answerAccessReview,
  answerTokenReview,
  authenticationConfigMap,
  type FrontProxyOptions,
} from './delegation.js';
import { aggregatedGroup, coreVersions, groupList } from './discovery.js';
import {
  AGGREGATED_DISCOVERY_TYPE,
  BUILT_IN_RESOURCES,
  discoveryList,
  wantsAggregatedDiscovery,
} from './discovery-v2.js';
import { sendJson, sendStatus } from './http-json.js';
import { labelSelector } from './label-selector.js';
import type { ApiObject } from './objects.js';

export interface FakeApiServerOptions {
  /** Serve HTTPS with this certificate; a client certificate signed by `clientCa` authenticates too. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer; readonly clientCa?: Buffer };
  /** Accepted bearer tokens (user `sim-admin`). Without tokens (and without a client CA) every request is allowed. */
  readonly tokens?: readonly string[];
  /** More accepted tokens, each with the user TokenReview reports and the aggregation layer forwards. */
  readonly users?: Readonly<Record<string, SimUser>>;
  /** Users whose SubjectAccessReviews are denied; everyone else is allowed. `setDeniedUsers` changes it. */
  readonly deniedUsers?: readonly string[];
  /** The aggregation layer's request-header CA and client certificate (published in the auth ConfigMap). */
  readonly frontProxy?: FrontProxyOptions;
  /** APIServices to list in discovery and proxy to; `setAggregatedApis` changes them once a backend listens. */
  readonly aggregatedApis?: readonly AggregatedApi[];
  /** Loopback address to listen on. Default 127.0.0.1. */
  readonly address?: string;
  readonly port?: number;
  /** How the proxy path (/api/v1/nodes/<n>/proxy/…) reaches kubelets, like kube-apiserver's kubelet client. */
  readonly kubeletClient?: {
    readonly scheme: 'http' | 'https';
    readonly ca?: Buffer;
    readonly cert?: Buffer;
    readonly key?: Buffer;
    readonly token?: string;
  };
  readonly state?: ApiState;
  /** How often watches that allow bookmarks get one. Default 5 s. */
  readonly bookmarkIntervalMs?: number;
}

export interface FakeApiServer {
  readonly url: string;
  readonly state: ApiState;
  /** Cuts every open watch mid-stream (destroys its socket); returns how many were cut. */
  dropWatches(): number;
  /** Ends every open watch cleanly, as the server does at timeoutSeconds; clients resume from their last version. */
  endWatches(): number;
  /** The next `times` list or watch requests for `resource` answer `status` (e.g. 500, 410). */
  failNext(resource: Resource, status: number, times?: number): void;
  /** List (or watch) requests received for a resource. */
  requests(resource: Resource, kind: 'list' | 'watch'): number;
  openWatches(): number;
  /** Requests received for the delegation endpoints and for the aggregated APIs (proxied or refused). */
  served(kind: ServedKind): number;
  /** Replaces the APIServices (e.g. once the extension server's port is known); [] removes them. */
  setAggregatedApis(apis: readonly AggregatedApi[]): Promise<void>;
  setDeniedUsers(users: readonly string[]): void;
  /** The SubjectAccessReview specs received, oldest first (for tests checking what a guard asked). */
  readonly accessReviews: readonly Record<string, unknown>[];
  stop(): Promise<void>;
}

export type ServedKind =
  'configmap' | 'tokenreviews' | 'subjectaccessreviews' | 'aggregated' | 'discovery-v2';

const PATHS: Readonly<Record<string, Resource>> = {
  '/api/v1/nodes': 'nodes',
  '/api/v1/pods': 'pods',
  '/api/v1/namespaces': 'namespaces',
  '/apis/apps/v1/replicasets': 'replicasets',
  '/apis/batch/v1/jobs': 'jobs',
};

const LIST_KINDS: Readonly<Record<Resource, string>> = {
  nodes: 'NodeList',
  pods: 'PodList',
  namespaces: 'NamespaceList',
  replicasets: 'ReplicaSetList',
  jobs: 'JobList',
};

const LIST_API_VERSIONS: Readonly<Record<Resource, string>> = {
  nodes: 'v1',
  pods: 'v1',
  namespaces: 'v1',
  replicasets: 'apps/v1',
  jobs: 'batch/v1',
};

const PROXY_PATH = /^\/api\/v1\/nodes\/([^/]+)\/proxy(\/.*)?$/;

/**
 * A fake Kubernetes API server on loopback: paged JSON lists and watches (with bookmarks, label selectors,
 * timeoutSeconds and 410 Gone after compaction) of nodes, pods, namespaces, ReplicaSets and Jobs; bearer-token
 * or client-certificate checks; the node proxy path; discovery (legacy and aggregated v2); and what an extension
 * API server needs from kube-apiserver: the extension-apiserver-authentication ConfigMap, TokenReview,
 * SubjectAccessReview, and the aggregation layer proxying APIServices with front-proxy credentials. Tests change
 * `state` to make nodes and pods come and go, and cut watches or inject errors to check recovery.
 *
 * @example
 * const api = await startFakeApiServer({ tls: { cert, key }, tokens: ['t0ken'] });
 * api.state.put('nodes', nodeObject({ name: 'n1', address: '127.0.1.1', port: 10250 }));
 * await api.stop();
 */
export async function startFakeApiServer(options: FakeApiServerOptions = {}): Promise<FakeApiServer> {
  const state = options.state ?? new ApiState();
  const callers = new SimCallers(options.tokens ?? [], options.users ?? {});
  const authRequired = callers.size > 0 || options.tls?.clientCa !== undefined;
  let denied = new Set(options.deniedUsers ?? []);
  const accessReviews: Record<string, unknown>[] = [];
  const aggregator = new Aggregator(options.frontProxy);
  await aggregator.set(options.aggregatedApis ?? []);
  const watches = new Set<ServerResponse>();
  const failures = new Map<Resource, { status: number; times: number }>();
  const counts = new Map<string, number>();
  const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1);
  const kubeletAgent = new Agent({
    connect: {
      ...(options.kubeletClient?.ca === undefined ? {} : { ca: options.kubeletClient.ca }),
      ...(options.kubeletClient?.cert === undefined ? {} : { cert: options.kubeletClient.cert }),
      ...(options.kubeletClient?.key === undefined ? {} : { key: options.kubeletClient.key }),
    },
  });

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    const caller = callers.identify(req, authRequired);
    if (caller === undefined) {
      return sendStatus(res, 401, 'Unauthorized', 'Unauthorized');
    }
    if (serveDelegation(url.pathname, req, res, caller)) return;
    const proxy = PROXY_PATH.exec(url.pathname);
    if (proxy?.[1] !== undefined) {
      return void proxyToKubelet(decodeURIComponent(proxy[1]), (proxy[2] ?? '/') + url.search, res);
    }
    const resource = PATHS[url.pathname];
    if (resource === undefined)
      return sendStatus(res, 404, 'NotFound', `the server could not find ${url.pathname}`);
    const watch = url.searchParams.get('watch');
    const kind = watch === '1' || watch === 'true' ? 'watch' : 'list';
    counts.set(`${resource}/${kind}`, (counts.get(`${resource}/${kind}`) ?? 0) + 1);
    const failure = failures.get(resource);
    if (failure !== undefined && failure.times > 0) {
      failure.times--;
      return sendStatus(res, failure.status, 'InjectedFailure', `injected ${failure.status} for ${resource}`);
    }
    const matches = labelSelector(url.searchParams.get('labelSelector'));
    if (kind === 'list') return sendList(resource, url.searchParams, matches, res);
    return startWatch(resource, url.searchParams, matches, res);
  };

  /** Discovery, the auth ConfigMap, reviews and aggregated APIs; false when the path is none of those. */
  const serveDelegation = (
    pathname: string,
    req: IncomingMessage,
    res: ServerResponse,
    caller: SimUser,
  ): boolean => {
    const route = aggregator.routeOf(pathname);
    if (route !== undefined) {
      count('aggregated');
      void aggregator.proxy(route, req, res, caller);
    } else if (req.method === 'POST' && pathname === TOKEN_REVIEW_PATH) {
      count('tokenreviews');
      void answerTokenReview(req, res, callers);
    } else if (req.method === 'POST' && pathname === ACCESS_REVIEW_PATH) {
      count('subjectaccessreviews');
      void answerAccessReview(req, res, denied, (spec) => {
        // Kept for tests to read; bounded so a long `heapstream simulate` run does not grow it forever.
        if (accessReviews.push(spec) > 1000) accessReviews.shift();
      });
    } else if (pathname === AUTH_CONFIGMAP_PATH) {
      count('configmap');
      sendJson(
        res,
        200,
        authenticationConfigMap(options.tls?.clientCa, options.frontProxy, state.resourceVersion),
      );
    } else if (
      (pathname === '/api' || pathname === '/apis') &&
      wantsAggregatedDiscovery(req.headers.accept)
    ) {
      count('discovery-v2');
      void sendAggregatedDiscovery(pathname, res);
    } else if (pathname === '/api') {
      sendJson(res, 200, coreVersions(req.headers.host ?? ''));
    } else if (pathname === '/apis') {
      sendJson(res, 200, groupList(aggregator.apis()));
    } else {
      const group = /^\/apis\/([^/]+)$/.exec(pathname)?.[1];
      const document = group === undefined ? undefined : aggregatedGroup(group, aggregator.apis());
      if (document === undefined) return false;
      sendJson(res, 200, document);
    }
    return true;
  };

  /** `/api` (the core group) or `/apis` (every other group, aggregated ones read from their servers) as v2. */
  const sendAggregatedDiscovery = async (pathname: string, res: ServerResponse) => {
    const builtIn = BUILT_IN_RESOURCES.filter((g) => (pathname === '/api') === (g.group === ''));
    const groups = pathname === '/api' ? builtIn : [...builtIn, ...(await aggregator.discover())];
    sendJson(res, 200, discoveryList(groups), AGGREGATED_DISCOVERY_TYPE);
  };

  const sendList = (
    resource: Resource,
    params: URLSearchParams,
    matches: (l: Record<string, string>) => boolean,
    res: ServerResponse,
  ) => {
    const all = state.list(resource).filter((o) => matches(o.metadata.labels ?? {}));
    const limit = Number(params.get('limit') ?? '0');
    const offset = Number(params.get('continue') ?? '0');
    const page = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
    const next = limit > 0 && offset + limit < all.length ? String(offset + limit) : undefined;
    // As kube-apiserver: `NodeList`, `PodList`… in the resource's group version (typed Go clients such as kubectl's
    // refuse a plain `List`, and `kubectl top nodes` then has no allocatable to print percentages from).
    sendJson(res, 200, {
      kind: LIST_KINDS[resource],
      apiVersion: LIST_API_VERSIONS[resource],
      metadata: {
        resourceVersion: String(state.resourceVersion),
        ...(next === undefined ? {} : { continue: next }),
      },
      items: page,
    });
  };

  const startWatch = (
    resource: Resource,
    params: URLSearchParams,
    matches: (l: Record<string, string>) => boolean,
    res: ServerResponse,
  ) => {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    const from = Number(params.get('resourceVersion') ?? '0');
    const write = (type: string, object: unknown) => {
      if (!res.writableEnded) res.write(JSON.stringify({ type, object }) + '\n');
    };
    const send = (event: StoredEvent) => {
      const type = visibleType(event, matches);
      if (type !== undefined) write(type, event.object);
    };
    if (from === 0) {
      for (const o of state.list(resource)) if (matches(o.metadata.labels ?? {})) write('ADDED', o);
    } else {
      const backlog = state.eventsSince(resource, from);
      if (backlog === 'gone') {
        write('ERROR', {
          kind: 'Status',
          apiVersion: 'v1',
          status: 'Failure',
          reason: 'Expired',
          code: 410,
          message: `too old resource version: ${from} (${state.resourceVersion})`,
        });
        return void res.end();
      }
      backlog.forEach(send);
    }
    const unsubscribe = state.subscribe((r, event) => {
      if (r === resource) send(event);
    });
    const bookmarks = params.get('allowWatchBookmarks') === 'true';
    const bookmarkTimer = bookmarks
      ? setInterval(
          () => write('BOOKMARK', { metadata: { resourceVersion: String(state.resourceVersion) } }),
          options.bookmarkIntervalMs ?? 5000,
        )
      : undefined;
    const timeout = Number(params.get('timeoutSeconds') ?? '0');
    const endTimer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    watches.add(res);
    const cleanup = () => {
      watches.delete(res);
      unsubscribe();
      clearInterval(bookmarkTimer);
      clearTimeout(endTimer);
    };
    res.on('close', cleanup);
    res.on('finish', cleanup);
  };

  const proxyToKubelet = async (nodeName: string, path: string, res: ServerResponse) => {
    const node = state.get('nodes', nodeName) as NodeLike | undefined;
    if (node === undefined) return sendStatus(res, 404, 'NotFound', `nodes "${nodeName}" not found`);
    const address = node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250;
    const client = options.kubeletClient ?? { scheme: 'http' as const };
    try {
      const answer = await request(`${client.scheme}://${address ?? ''}:${port}${path}`, {
        dispatcher: kubeletAgent,
        headers: client.token === undefined ? {} : { authorization: `Bearer ${client.token}` },
      });
      res.writeHead(answer.statusCode, { 'content-type': 'application/json' });
      for await (const chunk of answer.body) res.write(chunk);
      res.end();
    } catch (err) {
      sendStatus(res, 502, 'BadGateway', `error trying to reach node ${nodeName}: ${(err as Error).message}`);
    }
  };

  const server: Server = options.tls
    ? createHttpsServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          ...(options.tls.clientCa === undefined
            ? {}
            : { ca: options.tls.clientCa, requestCert: true, rejectUnauthorized: false }),
        },
        handler,
      )
    : createHttpServer(handler);
  const address = options.address ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, address, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | undefined;
  return {
    url: `${options.tls ? 'https' : 'http'}://${address}:${port}`,
    state,
    dropWatches() {
      const cut = watches.size;
      for (const res of watches) res.socket?.destroy();
      return cut;
    },
    endWatches() {
      const ended = watches.size;
      for (const res of watches) res.end();
      return ended;
    },
    failNext(resource, status, times = 1) {
      failures.set(resource, { status, times });
    },
    requests: (resource, kind) => counts.get(`${resource}/${kind}`) ?? 0,
    openWatches: () => watches.size,
    served: (kind) => counts.get(kind) ?? 0,
    setAggregatedApis: (apis) => aggregator.set(apis),
    setDeniedUsers(users) {
      denied = new Set(users);
    },
    accessReviews,
    stop() {
      stopped ??= (async () => {
        for (const res of watches) res.socket?.destroy();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await kubeletAgent.close();
        await aggregator.close();
      })();
      return stopped;
    },
  };
}

interface NodeLike {
  status?: {
    addresses?: { type: string; address: string }[];
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
  };
}

/** What a label-selector watch sees of an event: objects entering or leaving the selection appear as ADDED/DELETED. */
function visibleType(
  event: StoredEvent,
  matches: (l: Record<string, string>) => boolean,
): StoredEvent['type'] | undefined {
  const now = matches(event.object.metadata.labels ?? {});
  if (event.type === 'DELETED') return now ? 'DELETED' : undefined;
  if (event.type === 'ADDED') return now ? 'ADDED' : undefined;
  const before = event.previous !== undefined && matches(event.previous.metadata.labels ?? {});
  if (before && now) return 'MODIFIED';
  if (now) return 'ADDED';
  return before ? 'DELETED' : undefined;
}

export { RESOURCES, type ApiObject };

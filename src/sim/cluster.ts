import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError, HeapstreamError } from '../component/errors.js';
import type { MetadataProvider } from '../component/metadata.js';
import { renderCadvisorV1, renderMetricsCadvisor, renderMetricsResource } from './cadvisor/render.js';
import { nodeAddress } from './address.js';
import { answerWithFault, type KubeletFault } from './faults.js';
import { answerHostile, endpointOf } from './hostile.js';
import { buildLayout } from './layout.js';
import { simulatedMetadata } from './metadata.js';
import { NodeState } from './node-state.js';
import { loadTemplate, TEMPLATE_NAMES } from './template.js';

export interface SimulatedClusterOptions {
  nodes: number;
  /** Pods per node; default: the template's own count. More than the template has are replicas (`<pod>-<k>`). */
  podsPerNode?: number;
  /** The port every node listens on; 0 (default) picks a free one, shared by all nodes. */
  port?: number;
  /** Address of the first node; the others follow (see nodeAddress). Default 127.0.1.1. */
  firstAddress?: string;
  seed?: number;
  /** Mean scrapes between restarts of one container; 0 = never. Default 200. */
  restartEvery?: number;
  /** Clock for sample times (ms). Default Date.now. */
  now?: () => number;
  /** Fixture names (fixtures/kubelet/<name>), used in turn by the nodes. Default nri-1.34, nri-1.28, nri-1.24. */
  templates?: readonly string[];
}

export interface SimulatedNode {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

export interface SimulatedCluster {
  readonly nodes: readonly SimulatedNode[];
  readonly port: number;
  /** Makes a node fail (or, with undefined, recover) from its next request on. */
  setFault(node: string, fault: KubeletFault | undefined): void;
  /** Pods, namespaces and nodes as an API server would describe them, consistent with the summaries. */
  metadata(): MetadataProvider;
  /** How many /stats/summary requests a node has received (faulty answers included). */
  requests(node: string): number;
  /** Closes every server and connection. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_RESTART_EVERY = 200;
const PORT_ATTEMPTS = 5;

/**
 * The nodes of a simulated cluster, without servers: names (`sim-node-001`, …), pods and uids follow from the
 * options and the seed alone, so another process (the bench's metadata) builds the same nodes from the same
 * options. Templates are used in turn, node by node.
 *
 * @example
 * simulatedNodeStates({ nodes: 3, seed: 1, restartEvery: 0 }, Date.now()).map((s) => s.name) // ['sim-node-001', …]
 */
export function simulatedNodeStates(
  options: Pick<SimulatedClusterOptions, 'nodes' | 'podsPerNode' | 'restartEvery' | 'templates'> & {
    readonly seed: number;
  },
  t0: number,
): NodeState[] {
  const layouts = (options.templates ?? TEMPLATE_NAMES).map((name) => {
    const template = loadTemplate(name);
    return buildLayout(template, options.podsPerNode ?? template.summary.pods.length, t0);
  });
  const width = Math.max(3, String(options.nodes).length);
  const states: NodeState[] = [];
  for (let i = 0; i < options.nodes; i++) {
    const number = String(i + 1).padStart(width, '0');
    states.push(
      new NodeState(layouts[i % layouts.length]!, {
        name: `sim-node-${number}`,
        podSuffix: number,
        seed: options.seed,
        stream: i,
        restartEvery: options.restartEvery ?? DEFAULT_RESTART_EVERY,
      }),
    );
  }
  return states;
}

interface RunningNode extends SimulatedNode {
  readonly state: NodeState;
  readonly server: Server;
  fault: KubeletFault | undefined;
  /** Hostile payloads too costly to render per request, kept until the fault changes. */
  readonly hostileBodies: Map<string, Buffer>;
  requests: number;
}

/**
 * Starts N fake kubelets serving GET /stats/summary over plain HTTP, each on its own loopback address and all on
 * one port, with payloads built from real captures whose counters advance with time.
 *
 * @example
 * const cluster = await startSimulatedCluster({ nodes: 3, seed: 1 });
 * const { address, port } = cluster.nodes[0]!; // curl http://127.0.1.1:<port>/stats/summary
 * await cluster.stop();
 */
export async function startSimulatedCluster(options: SimulatedClusterOptions): Promise<SimulatedCluster> {
  validate(options);
  const now = options.now ?? Date.now;
  const seed = options.seed ?? 1;
  const states = simulatedNodeStates({ ...options, seed }, now());
  const timers = new Set<NodeJS.Timeout>();
  const nodes = states.map((state, i) =>
    newRunningNode(state, nodeAddress(i, options.firstAddress), now, timers),
  );
  const port = await listenAll(nodes, options.port ?? 0);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const find = (name: string): RunningNode => {
    const node = byName.get(name);
    if (!node) throw new HeapstreamError(`simulated cluster has no node "${name}"`);
    return node;
  };
  let metadata: MetadataProvider | undefined;
  let stopped: Promise<void> | undefined;
  const published = nodes.map(({ name, address }) => ({ name, address, port }));
  return {
    nodes: published,
    port,
    setFault(name, fault) {
      const node = find(name);
      node.fault = fault;
      node.hostileBodies.clear();
    },
    metadata: () => (metadata ??= simulatedMetadata(states, seed)),
    requests: (name) => find(name).requests,
    stop() {
      stopped ??= (async () => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        await Promise.all(nodes.map((n) => closeServer(n.server)));
      })();
      return stopped;
    },
  };
}

function validate(options: SimulatedClusterOptions): void {
  const problems: string[] = [];
  if (!Number.isInteger(options.nodes) || options.nodes < 1)
    problems.push(`simulated.nodes: must be a positive integer, got ${options.nodes}`);
  if (
    options.podsPerNode !== undefined &&
    (!Number.isInteger(options.podsPerNode) || options.podsPerNode < 0)
  ) {
    problems.push(`simulated.pods_per_node: must be a non-negative integer, got ${options.podsPerNode}`);
  }
  if (
    options.port !== undefined &&
    (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535)
  ) {
    problems.push(`simulated.port: must be 0-65535, got ${options.port}`);
  }
  if (options.restartEvery !== undefined && !(options.restartEvery >= 0)) {
    problems.push(`simulated.restart_every: must be >= 0, got ${options.restartEvery}`);
  }
  if (options.templates !== undefined && options.templates.length === 0) {
    problems.push(`simulated.templates: needs at least one of ${TEMPLATE_NAMES.join(', ')}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
}

function newRunningNode(
  state: NodeState,
  address: string,
  now: () => number,
  timers: Set<NodeJS.Timeout>,
): RunningNode {
  const node: RunningNode = {
    name: state.name,
    address,
    port: 0,
    state,
    fault: undefined,
    hostileBodies: new Map(),
    requests: 0,
    server: createServer({ keepAlive: true }, (request, response) =>
      handle(node, request, response, now, timers),
    ),
  };
  // Scrapers come back every resolution (15 s by default): keep their connections across cycles.
  node.server.keepAliveTimeout = 120_000;
  return node;
}

function handle(
  node: RunningNode,
  request: IncomingMessage,
  response: ServerResponse,
  now: () => number,
  timers: Set<NodeJS.Timeout>,
): void {
  const url = request.url ?? '';
  const query = url.indexOf('?');
  const path = query >= 0 ? url.slice(0, query) : url;
  const fault = node.fault;
  if (fault?.kind === 'hostile') {
    const endpoint = endpointOf(request.method, path);
    if (endpoint !== undefined) {
      if (endpoint === 'summary') node.requests++;
      const summary = (): string => node.state.renderBuffer(now()).toString('utf8');
      answerHostile(fault.payload, endpoint, summary, response, timers, node.hostileBodies, fault.pods);
      return;
    }
  }
  const derived = derivedEndpoint(request.method, path);
  if (derived !== undefined) {
    // The other kubelet endpoints are rendered from this instant's summary, so every endpoint agrees.
    const summary = JSON.parse(node.state.renderBuffer(now()).toString('utf8')) as Record<string, unknown>;
    const body = derived.render(summary);
    response.writeHead(200, {
      'content-type': derived.contentType,
      'content-length': Buffer.byteLength(body),
    });
    response.end(body);
    return;
  }
  if (request.method !== 'GET' || (path !== '/stats/summary' && path !== '/stats/summary/')) {
    response.writeHead(404, { 'content-type': 'text/plain' });
    response.end('404 page not found\n');
    return;
  }
  node.requests++;
  if (fault && answerWithFault(fault, node.name, request, response, () => node.state.renderBuffer(now())))
    return;
  if (fault?.kind === 'slow') {
    const timer = setTimeout(() => {
      timers.delete(timer);
      if (!response.destroyed) sendSummary(node, response, now);
    }, fault.delayMs);
    timers.add(timer);
    return;
  }
  sendSummary(node, response, now);
}

const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';

/** The cAdvisor v1 and Prometheus endpoints a kubelet also serves, rendered from its summary. */
function derivedEndpoint(
  method: string | undefined,
  path: string,
): { render: (summary: Record<string, unknown>) => string; contentType: string } | undefined {
  if (method === 'POST' && (path === '/stats/container/' || path === '/stats/container')) {
    return { render: (s) => JSON.stringify(renderCadvisorV1(s)), contentType: 'application/json' };
  }
  if (method !== 'GET') return undefined;
  if (path === '/api/v1.3/subcontainers/' || path === '/api/v1.3/subcontainers') {
    return {
      render: (s) => JSON.stringify(Object.values(renderCadvisorV1(s))),
      contentType: 'application/json',
    };
  }
  if (path === '/metrics/resource') return { render: renderMetricsResource, contentType: PROMETHEUS_TEXT };
  if (path === '/metrics/cadvisor') return { render: renderMetricsCadvisor, contentType: PROMETHEUS_TEXT };
  return undefined;
}

function sendSummary(node: RunningNode, response: ServerResponse, now: () => number): void {
  const body = node.state.renderBuffer(now());
  response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  response.end(body);
}

/** Listens on every node's address with one port; when the port is picked for us, retries if another address has it. */
async function listenAll(nodes: RunningNode[], requestedPort: number): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const port = await listen(nodes[0]!, requestedPort);
      await Promise.all(nodes.slice(1).map((n) => listen(n, port)));
      return port;
    } catch (err) {
      await Promise.all(nodes.map((n) => closeServer(n.server)));
      const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
      if (requestedPort === 0 && inUse && attempt < PORT_ATTEMPTS) continue;
      throw new HeapstreamError(
        `simulated cluster cannot listen on port ${requestedPort || 'picked'} of ${nodes.length} loopback addresses from ${nodes[0]!.address}: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

function listen(node: RunningNode, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    node.server.once('error', onError);
    node.server.listen({ host: node.address, port, exclusive: true }, () => {
      node.server.off('error', onError);
      const actual = (node.server.address() as AddressInfo).port;
      (node as { port: number }).port = actual;
      resolve(actual);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

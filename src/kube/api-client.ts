import { Agent, request } from 'undici';
import { HeapstreamError } from '../component/errors.js';
import { credentialsOf, redact } from '../component/redact.js';
import { causeChain } from './cause-chain.js';
import type { ClusterAccess } from './kubeconfig.js';

/** An API server answer other than 200, or a connection failure; `status` is 0 when there was no answer. */
export class ApiError extends HeapstreamError {
  constructor(
    readonly status: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One line of a watch stream. `object` is the raw JSON object; ERROR events carry a Status. */
export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Record<string, unknown>;
}

/**
 * A small JSON client for the Kubernetes API over undici: GET a list, stream a watch, POST a review. Credentials come from a
 * ClusterAccess and are asked for at every request, so rotated tokens take effect. It holds no cache.
 *
 * @example
 * const api = new ApiClient(access);
 * const list = await api.getJson('/api/v1/nodes?limit=500', signal);
 */
export class ApiClient {
  private readonly agent: Agent;

  constructor(
    readonly access: ClusterAccess,
    options: { readonly connections?: number } = {},
  ) {
    this.agent = new Agent({
      connections: options.connections ?? 8,
      keepAliveTimeout: 30_000,
      // Watches are long-lived; the server ends them (timeoutSeconds) and bookmarks keep them talking.
      bodyTimeout: 0,
      connect: { ...access.tls },
    });
  }

  /** GETs a path (with query) and parses its JSON body; a non-200 answer becomes an ApiError naming the path. */
  async getJson(path: string, signal: AbortSignal): Promise<Record<string, unknown>> {
    const body = await this.open(path, signal, 60_000);
    return parseJson(await body.text(), `GET ${this.access.server}${path}`);
  }

  /**
   * POSTs a JSON object (a TokenReview, a SubjectAccessReview: create-only resources) and parses the answer;
   * 200 and 201 are success, anything else an ApiError naming the path.
   */
  async postJson(path: string, object: unknown, signal: AbortSignal): Promise<Record<string, unknown>> {
    const body = await this.open(path, signal, 30_000, JSON.stringify(object));
    return parseJson(await body.text(), `POST ${this.access.server}${path}`);
  }

  /** Streams the events of a watch request until the server ends it or `signal` aborts. */
  async *watch(path: string, signal: AbortSignal): AsyncGenerator<WatchEvent> {
    const body = await this.open(path, signal, 30_000);
    let pending = '';
    for await (const chunk of body as AsyncIterable<Buffer>) {
      pending += chunk.toString('utf8');
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line !== '') yield parseEvent(line, path);
        newline = pending.indexOf('\n');
      }
    }
    if (pending.trim() !== '') yield parseEvent(pending.trim(), path);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** Sends a GET, or a POST of `body` (JSON); resolves to the body of a 200 (or 201 for a POST). */
  private async open(path: string, signal: AbortSignal, headersTimeout: number, body?: string) {
    const url = this.access.server + path;
    const method = body === undefined ? 'GET' : 'POST';
    const authorization = await this.access.authorization();
    let response;
    try {
      response = await request(url, {
        method,
        dispatcher: this.agent,
        signal,
        headersTimeout,
        headers: {
          accept: 'application/json',
          'user-agent': 'heapstream',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(authorization === undefined ? {} : { authorization }),
        },
        ...(body === undefined ? {} : { body }),
      });
    } catch (err) {
      throw new ApiError(0, `${method} ${url} failed: ${causeChain(err)}`, { cause: err });
    }
    if (response.statusCode !== 200 && !(method === 'POST' && response.statusCode === 201)) {
      const body = await response.body.text().catch(() => '');
      const text = redact(body, [credentialsOf(authorization)])
        .slice(0, 300)
        .trim();
      throw new ApiError(
        response.statusCode,
        `${method} ${url} answered ${response.statusCode}${apiHint(response.statusCode, this.access, path)}: ${text}`,
      );
    }
    return response.body;
  }
}

/** Paths the delegated authenticator and authorizer call, whose 403s need other grants than the collector's. */
const DELEGATION_PATHS = [
  '/apis/authentication.k8s.io/',
  '/apis/authorization.k8s.io/',
  '/api/v1/namespaces/kube-system/configmaps/',
];

function parseJson(text: string, what: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    throw new ApiError(0, `${what}: response is not JSON`, { cause: err });
  }
}

function parseEvent(line: string, path: string): WatchEvent {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new ApiError(0, `watch ${path}: a line is not JSON (${line.length} bytes)`, { cause: err });
  }
  const event = parsed as { type?: unknown; object?: unknown };
  if (typeof event.type !== 'string' || event.object === null || typeof event.object !== 'object') {
    throw new ApiError(0, `watch ${path}: an event has no type or object`);
  }
  return { type: event.type as WatchEvent['type'], object: event.object as Record<string, unknown> };
}

function apiHint(status: number, access: ClusterAccess, path: string): string {
  if (status === 401) return ` (unauthorized: check the token or client certificate of ${access.origin})`;
  if (status === 403 && DELEGATION_PATHS.some((p) => path.startsWith(p))) {
    return ' (forbidden: the metrics API needs the system:auth-delegator ClusterRoleBinding and the extension-apiserver-authentication-reader RoleBinding; see deploy/metrics-api.yaml)';
  }
  if (status === 403) {
    return ' (forbidden: the ClusterRole needs list/watch on nodes, pods, namespaces (replicasets, jobs with owners: watch); see deploy/README.md)';
  }
  return '';
}

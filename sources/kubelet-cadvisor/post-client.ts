import { Agent, errors as undiciErrors, request } from 'undici';
import type { Clock } from '../../src/engine/clock.js';
import { ScrapeError } from '../../src/errors.js';
import type { KubeletClientOptions } from '../../src/kube/kubelet-client.js';
import type { NodeTarget } from '../../src/kube/node-target.js';
import type { ScrapeFailureReason } from '../../src/model/types.js';

/** The KubeletClient's options: scheme, deadline, size limit, and the kubelet access (TLS, token, proxy). */
export type PostClientOptions = KubeletClientOptions;

/**
 * POSTs a JSON body to a kubelet or cAdvisor with a deadline and a size limit; every failure becomes a
 * ScrapeError with the same reasons as KubeletClient (timeout, http_status, connection, tls, too_large).
 * A sibling of src/kube/kubelet-client.ts, which only GETs; it takes the same options, so `kubeletAccess()`
 * (TLS, bearer token, API-server proxy) applies unchanged.
 *
 * @example
 * const client = new JsonPostClient({ scheme: 'http', timeoutMs: 5000, maxResponseBytes: 64 << 20 }, clock);
 * const text = await client.post(node, '/stats/container/', '{"containerName":"/"}', signal);
 */
export class JsonPostClient {
  private readonly agent: Agent;

  constructor(
    private readonly options: PostClientOptions,
    private readonly clock: Clock,
  ) {
    this.agent = new Agent({
      connections: options.connectionsPerNode ?? 1,
      keepAliveTimeout: 60_000,
      ...(options.tls === undefined ? {} : { connect: { ...options.tls } }),
    });
  }

  async post(node: NodeTarget, path: string, body: string, signal?: AbortSignal): Promise<string> {
    const host = node.address.includes(':') ? `[${node.address}]` : node.address;
    const url =
      this.options.proxy === undefined
        ? `${this.options.scheme}://${host}:${node.port}${path}`
        : `${this.options.proxy.server}/api/v1/nodes/${encodeURIComponent(node.name)}/proxy${path}`;
    const abort = new AbortController();
    const onOuterAbort = () => abort.abort();
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    const timer = this.clock.scheduler.schedule(() => abort.abort(), this.options.timeoutMs);
    try {
      const token = this.options.bearerToken?.();
      const authorization = token === undefined ? await this.options.authorization?.() : `Bearer ${token}`;
      const response = await request(url, {
        method: 'POST',
        dispatcher: this.agent,
        signal: abort.signal,
        body,
        headers: {
          'content-type': 'application/json',
          accept: 'application/json',
          'user-agent': 'heapstream',
          ...(authorization === undefined ? {} : { authorization }),
        },
      });
      if (response.statusCode !== 200) {
        const text = await response.body.text().catch(() => '');
        throw new ScrapeError(
          node.name,
          'http_status',
          `POST ${url} answered ${response.statusCode}${explainStatus(response.statusCode, this.options)}: ${text.trim().slice(0, 200)}`,
        );
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of response.body) {
        const buffer = chunk as Buffer;
        size += buffer.length;
        if (size > this.options.maxResponseBytes) {
          response.body.destroy();
          throw new ScrapeError(
            node.name,
            'too_large',
            `POST ${url}: response exceeds max_response_bytes (${this.options.maxResponseBytes})`,
          );
        }
        chunks.push(buffer);
      }
      return Buffer.concat(chunks).toString('utf8');
    } catch (err) {
      if (err instanceof ScrapeError) throw err;
      if (abort.signal.aborted && signal?.aborted !== true) {
        throw new ScrapeError(
          node.name,
          'timeout',
          `POST ${url} did not answer within ${this.options.timeoutMs} ms`,
          {
            cause: err,
          },
        );
      }
      throw new ScrapeError(node.name, classify(err), `POST ${url} failed: ${describe(err)}`, { cause: err });
    } finally {
      timer.unsubscribe();
      signal?.removeEventListener('abort', onOuterAbort);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function explainStatus(status: number, options: PostClientOptions): string {
  const using = options.credentialHint === undefined ? '' : `; using ${options.credentialHint}`;
  if (status === 401) return ` (unauthorized: check the bearer token or client certificate${using})`;
  if (status === 403) return ` (forbidden: check RBAC for nodes/stats and nodes/proxy${using})`;
  return '';
}

function classify(err: unknown): ScrapeFailureReason {
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return 'timeout';
  }
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (code.includes('CERT') || code.includes('TLS') || code.includes('SSL')) return 'tls';
    if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout';
  }
  return 'connection';
}

function describe(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) parts.push(e.message);
  return parts.length > 0 ? parts.join(': ') : String(err);
}

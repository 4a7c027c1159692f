import { Agent, errors as undiciErrors, request } from 'undici';
import { ScrapeError } from '../component/errors.js';
import { credentialsOf, redact } from '../component/redact.js';
import type { ScrapeFailureReason } from '../model/types.js';
import type { Clock } from '../component/clock.js';
import type { NodeTarget } from '../component/node-target.js';
import { causeChain } from './cause-chain.js';

export interface KubeletClientOptions {
  readonly scheme: 'http' | 'https';
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  /** Concurrent connections kept per kubelet; one is enough for one scrape per cycle. */
  readonly connectionsPerNode?: number;
  readonly tls?: {
    readonly ca?: string | Buffer;
    readonly cert?: string | Buffer;
    readonly key?: string | Buffer;
    readonly servername?: string;
    readonly rejectUnauthorized?: boolean;
  };
  /** Read at every request, so a rotated token file takes effect without a restart. */
  readonly bearerToken?: () => string | undefined;
  /** A whole Authorization header value, asked for at every request (API-server credentials in proxy mode). */
  readonly authorization?: () => Promise<string | undefined>;
  /** Reach kubelets through the API server: `GET <server>/api/v1/nodes/<name>/proxy<path>`. */
  readonly proxy?: { readonly server: string };
  /** Which credentials and CA are in use (paths, never secrets), named in 401 and TLS error messages. */
  readonly credentialHint?: string;
}

/**
 * GETs kubelet endpoints with a deadline and a size limit, and turns every failure into a ScrapeError whose
 * reason is one of a few counter labels (timeout, http_status, connection, tls, too_large).
 *
 * @example
 * const client = new KubeletClient({ scheme: 'http', timeoutMs: 5000, maxResponseBytes: 64 << 20 }, clock);
 * const text = await client.get(node, '/stats/summary');
 */
export class KubeletClient {
  private readonly agent: Agent;
  /**
   * The requests in flight per caller's signal, aborted together by one listener on it. One listener per request
   * (hundreds in flight) made each addEventListener walk all the others, as EventTarget checks for duplicates:
   * about 1 % of a 5,000-node cycle's CPU. AbortSignal.any would avoid listeners but leaks on a long-lived signal
   * in Node 20 (nodejs/node#55351).
   */
  private readonly inFlight = new WeakMap<AbortSignal, Set<AbortController>>();

  constructor(
    private readonly options: KubeletClientOptions,
    private readonly clock: Clock,
  ) {
    this.agent = new Agent({
      connections: options.connectionsPerNode ?? 1,
      keepAliveTimeout: 60_000,
      ...(options.tls === undefined ? {} : { connect: { ...options.tls } }),
    });
  }

  async get(node: NodeTarget, path: string, signal?: AbortSignal): Promise<string> {
    return (await this.send(node, 'GET', path, undefined, signal)).toString('utf8');
  }

  /**
   * get() without the UTF-8 decoding: the body as one Buffer (same limit, same errors), for decoders that read
   * bytes.
   *
   * @example
   * const bytes = await client.getBytes(node, '/stats/summary', signal);
   */
  getBytes(node: NodeTarget, path: string, signal?: AbortSignal): Promise<Buffer> {
    return this.send(node, 'GET', path, undefined, signal);
  }

  /** POSTs a JSON body, as the cAdvisor v1 API (`/stats/container/`) wants. */
  async post(node: NodeTarget, path: string, body: string, signal?: AbortSignal): Promise<string> {
    return (await this.send(node, 'POST', path, body, signal)).toString('utf8');
  }

  private async send(
    node: NodeTarget,
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<Buffer> {
    const url =
      this.options.proxy === undefined
        ? `${this.options.scheme}://${hostPort(node.address, node.port)}${path}`
        : `${this.options.proxy.server}/api/v1/nodes/${encodeURIComponent(node.name)}/proxy${path}`;
    const abort = new AbortController();
    const untrack = signal === undefined ? undefined : this.track(signal, abort);
    const timer = this.clock.scheduler.schedule(() => abort.abort(), this.options.timeoutMs);
    try {
      const token = this.options.bearerToken?.();
      const authorization = token === undefined ? await this.options.authorization?.() : `Bearer ${token}`;
      const response = await request(url, {
        method,
        dispatcher: this.agent,
        signal: abort.signal,
        ...(body === undefined ? {} : { body }),
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          accept: 'application/json',
          'user-agent': 'heapstream',
          ...(authorization === undefined ? {} : { authorization }),
        },
      });
      if (response.statusCode !== 200) {
        // A proxy or kubelet that echoes the request would put our credentials in the log: redact them.
        const detail = redact(await readLimitedText(response.body, 512), [
          token,
          credentialsOf(authorization),
        ]);
        throw new ScrapeError(
          node.name,
          'http_status',
          `${method} ${url} answered ${response.statusCode}${explainStatus(response.statusCode, this.options)}: ${detail.trim().slice(0, 200)}`,
        );
      }
      return await readLimited(response.body, this.options.maxResponseBytes, () => {
        throw new ScrapeError(
          node.name,
          'too_large',
          `${method} ${url}: response exceeds max_response_bytes (${this.options.maxResponseBytes})`,
        );
      });
    } catch (err) {
      if (err instanceof ScrapeError) throw err;
      if (abort.signal.aborted && signal?.aborted !== true) {
        throw new ScrapeError(
          node.name,
          'timeout',
          `${method} ${url} did not answer within ${this.options.timeoutMs} ms`,
          {
            cause: err,
          },
        );
      }
      const reason = classify(err);
      const hint = reason === 'tls' ? tlsHint(this.options) : '';
      throw new ScrapeError(node.name, reason, `${method} ${url} failed: ${causeChain(err)}${hint}`, {
        cause: err,
      });
    } finally {
      timer.unsubscribe();
      untrack?.();
    }
  }

  /** Registers a request under its caller's signal; returns what removes it once the request is over. */
  private track(signal: AbortSignal, abort: AbortController): () => void {
    if (signal.aborted) abort.abort();
    let requests = this.inFlight.get(signal);
    if (requests === undefined) {
      const created = new Set<AbortController>();
      signal.addEventListener(
        'abort',
        () => {
          for (const request of created) request.abort();
        },
        { once: true },
      );
      this.inFlight.set(signal, created);
      requests = created;
    }
    const tracked = requests;
    tracked.add(abort);
    return () => tracked.delete(abort);
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

type ResponseBody = AsyncIterable<Buffer> & { destroy(err?: Error): unknown };

/** The start of an error response's body, as text ('' if it cannot be read). */
async function readLimitedText(body: ResponseBody, limit: number): Promise<string> {
  try {
    return (await readLimited(body, limit)).toString('utf8');
  } catch {
    return '';
  }
}

async function readLimited(body: ResponseBody, limit: number, onTooLarge?: () => never): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      if (onTooLarge) onTooLarge();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function explainStatus(status: number, options: KubeletClientOptions): string {
  const using = options.credentialHint === undefined ? '' : `; using ${options.credentialHint}`;
  if (status === 401) {
    return ` (unauthorized: check the bearer token or client certificate${using})`;
  }
  if (status === 403)
    return ` (forbidden: check RBAC for nodes/stats, nodes/metrics or nodes/proxy (deploy/rbac-extras.yaml)${using})`;
  return '';
}

function tlsHint(options: KubeletClientOptions): string {
  const using = options.credentialHint === undefined ? '' : ` (using ${options.credentialHint})`;
  return (
    ` — TLS check failed${using}: the kubelet's certificate must be signed by the configured CA (tls.ca_file) ` +
    'and name the address scraped; set tls.server_name for certificates without IP SANs'
  );
}

const TLS_CODES = /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/;

function classify(err: unknown): ScrapeFailureReason {
  const code = errorCode(err);
  if (code !== undefined && TLS_CODES.test(code)) return 'tls';
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError) {
    return 'timeout';
  }
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'timeout';
  return 'connection';
}

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
  }
  return undefined;
}

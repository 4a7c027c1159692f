import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { liveViewHandler } from './live/http.js';
import type { LiveStore } from './live/store.js';
import type { Asset } from './live/assets.js';
import type { HealthChecker, HealthReport } from './health.js';
import type { PrometheusExporter } from './prometheus.js';

export interface OpsServer {
  /** `http://address:port`, with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (Prometheus text), `/livez` and `/readyz` (JSON saying why when not ok: 503), and with a
 * `liveView` store the live view (`/` and `/ui/…`, see live/http.ts). Binds to loopback unless configured
 * otherwise, because self-metrics are not for the whole network by default. With a `token`, every path but
 * /livez and /readyz needs `Authorization: Bearer <token>` (kubelet probes carry no secret; they tell only
 * counts and sink names).
 *
 * @example
 * const ops = await startOpsServer({ address: '127.0.0.1', port: 9102, exporter, health });
 */
export async function startOpsServer(options: {
  address: string;
  port: number;
  exporter: PrometheusExporter;
  health: HealthChecker;
  liveView?: LiveStore;
  /** Where the page's files come from; dist/ui of this package if absent. */
  liveViewAssets?: (name: string) => Asset | undefined;
  token?: string;
}): Promise<OpsServer> {
  const live =
    options.liveView === undefined ? undefined : liveViewHandler(options.liveView, options.liveViewAssets);
  const authorized = options.token === undefined ? () => true : bearerCheck(options.token);
  const server: Server = createServer((req, res) => {
    const [path = '/', search = ''] = (req.url ?? '/').split('?', 2);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path !== '/livez' && path !== '/readyz' && !authorized(req)) {
      res
        .writeHead(401, { 'www-authenticate': 'Bearer realm="heapstream"', 'content-type': 'text/plain' })
        .end(`${path}: needs Authorization: Bearer <server.token>\n`);
      return;
    }
    if (live?.handle(req, res, path, new URLSearchParams(search)) === true) return;
    if (path === '/metrics') {
      options.exporter.render().then(
        (text) => res.writeHead(200, { 'content-type': options.exporter.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    if (path === '/livez' || path === '/readyz') {
      const report: HealthReport = path === '/livez' ? options.health.live() : options.health.ready();
      res
        .writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: report.ok ? 'ok' : 'failing', checks: report.checks }) + '\n');
      return;
    }
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end(`not found: try ${live === undefined ? '' : '/ (the live view), '}/metrics, /livez or /readyz\n`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.address, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.address.includes(':') ? `[${options.address}]` : options.address;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        live?.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Compares digests, so neither the token's length nor its bytes show in how long a refusal takes. */
function bearerCheck(token: string): (req: IncomingMessage) => boolean {
  const expected = createHash('sha256').update(token).digest();
  return (req) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (match === null) return false;
    return timingSafeEqual(
      createHash('sha256')
        .update(match[1] ?? '')
        .digest(),
      expected,
    );
  };
}

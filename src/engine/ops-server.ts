import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { HealthChecker, HealthReport } from './health.js';
import type { PrometheusExporter } from './prometheus.js';

export interface OpsServer {
  /** `http://address:port`, with the port actually bound. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (Prometheus text), `/livez` and `/readyz` (JSON saying why when not ok: 503). Binds to
 * loopback unless configured otherwise, because self-metrics are not for the whole network by default.
 *
 * @example
 * const ops = await startOpsServer({ address: '127.0.0.1', port: 9102, exporter, health });
 */
export async function startOpsServer(options: {
  address: string;
  port: number;
  exporter: PrometheusExporter;
  health: HealthChecker;
}): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
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
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /livez or /readyz\n');
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
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../src/component/logger.js';
import type { RequestGuard } from '../../src/kube/delegated-auth/guard.js';
import { failure, type StatusBody } from './objects.js';
import { statusAnswer, type Answer, type MetricsApi } from './api.js';
import type { LatestPointsStore } from './store.js';

/** Where the serving certificate comes from: PEM files re-read when they change, or PEM text that never does. */
export type ServingCertificate =
  | { readonly kind: 'files'; readonly certFile: string; readonly keyFile: string }
  | { readonly kind: 'generated'; readonly cert: string; readonly key: string };

export interface MetricsApiServerOptions {
  readonly api: MetricsApi;
  readonly store: LatestPointsStore;
  readonly guard: RequestGuard;
  readonly certificate: ServingCertificate;
  readonly logger: Logger;
}

const JSON_TYPE = 'application/json';

/** A file's identity for change detection: a rotated Secret volume swaps the file (new inode) or rewrites it. */
async function fingerprint(file: string): Promise<string> {
  const s = await stat(file);
  return `${s.ino}:${s.size}:${s.mtimeMs}`;
}

/**
 * The metrics API over HTTPS. Client certificates are asked for and never refused at the handshake
 * (`requestCert: true, rejectUnauthorized: false`): the guard checks them, so one port takes the aggregation
 * layer's front-proxy certificate, bearer tokens, and plain clients that then get 401.
 */
export class MetricsApiServer {
  private server: Server | undefined;
  private certPrint = '';

  constructor(private readonly options: MetricsApiServerOptions) {}

  /** Starts listening; resolves with the bound address. */
  async listen(host: string, port: number): Promise<AddressInfo> {
    const { cert, key } = await this.readCertificate();
    const server = createServer(
      { cert, key, requestCert: true, rejectUnauthorized: false },
      (req, res) => void this.handle(req, res),
    );
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host === '' ? undefined : host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Errors after start (a client's broken handshake) are the client's: they must not take the server down.
    server.on('tlsClientError', (err) =>
      this.options.logger.debug({ err: err.message }, 'TLS handshake failed'),
    );
    return server.address() as AddressInfo;
  }

  private async readCertificate(): Promise<{ cert: string; key: string }> {
    const c = this.options.certificate;
    if (c.kind === 'generated') return { cert: c.cert, key: c.key };
    const [print, cert, key] = await Promise.all([
      Promise.all([fingerprint(c.certFile), fingerprint(c.keyFile)]).then((p) => p.join('|')),
      readFile(c.certFile, 'utf8'),
      readFile(c.keyFile, 'utf8'),
    ]);
    this.certPrint = print;
    return { cert, key };
  }

  /**
   * Re-reads the certificate files when either changed (cert-manager renews them in place), so new connections
   * get the new certificate. A pair that does not load is logged and the current one kept.
   */
  async checkCertificateFiles(): Promise<boolean> {
    const c = this.options.certificate;
    const server = this.server;
    if (c.kind !== 'files' || server === undefined) return false;
    try {
      const print = [await fingerprint(c.certFile), await fingerprint(c.keyFile)].join('|');
      if (print === this.certPrint) return false;
      const [cert, key] = await Promise.all([readFile(c.certFile, 'utf8'), readFile(c.keyFile, 'utf8')]);
      server.setSecureContext({ cert, key });
      this.certPrint = print;
      this.options.logger.info({ cert_file: c.certFile }, 'serving certificate reloaded');
      return true;
    } catch (err) {
      this.options.logger.warn(
        { cert_file: c.certFile, key_file: c.keyFile, err: (err as Error).message },
        'serving certificate files could not be reloaded; keeping the current certificate',
      );
      return false;
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'https://metrics.local');
      const route = this.options.api.route(url.pathname);
      if (route.kind === 'health') {
        // Like metrics-server's, health paths answer without authentication (kubelet probes have none).
        const ok = route.check !== 'readyz' || this.options.store.ready();
        res.writeHead(ok ? 200 : 500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(
          ok ? 'ok' : '[-]metric-storage-ready failed: no complete cycle stored yet\nreadyz check failed\n',
        );
        return;
      }
      const decision = await this.options.guard.check(req, route.attributes);
      if (!decision.allowed) {
        await send(res, { code: decision.code, chunks: [JSON.stringify(decision.status) + '\n'] });
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        const status: StatusBody = failure(
          405,
          'MethodNotAllowed',
          'the server does not allow this method on the requested resource',
          {},
        );
        res.setHeader('allow', 'GET');
        await send(res, statusAnswer(status));
        return;
      }
      await send(res, this.options.api.answer(route, url.searchParams), req.method === 'HEAD');
    } catch (err) {
      this.options.logger.error({ err: (err as Error).message, url: req.url }, 'metrics API request failed');
      if (!res.headersSent) {
        await send(
          res,
          statusAnswer(failure(500, 'InternalError', `internal error: ${(err as Error).message}`)),
        );
      } else {
        res.destroy();
      }
    }
  }

  /** Stops accepting, ends open connections. Idempotent. */
  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }
}

/** Writes an answer, waiting for the socket to drain between pieces so a large list is not held twice. */
async function send(res: ServerResponse, answer: Answer, headOnly = false): Promise<void> {
  res.writeHead(answer.code, { 'content-type': JSON_TYPE });
  if (headOnly) {
    res.end();
    return;
  }
  for (const chunk of answer.chunks) {
    if (res.destroyed) return;
    if (!res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
  }
  res.end();
}

import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { request } from 'undici';
import type { TestPki } from './pki.js';

/** A kubelet to put a TLS front on: where its plain-HTTP twin (the simulator's fake kubelet) listens. */
export interface PlainKubelet {
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

export interface TlsKubeletsOptions {
  readonly upstream: readonly PlainKubelet[];
  readonly pki: TestPki;
  /** Bearer tokens the kubelets accept; a client certificate signed by the PKI's CA is accepted too. */
  readonly tokens: readonly string[];
  /** Serve the certificate with IP SANs (default) or the one naming only `pki.dnsName`. */
  readonly certificate?: 'ip' | 'dns_only';
}

export interface TlsKubelets {
  /** Where each HTTPS kubelet listens: the upstream's address, on its own port. */
  readonly nodes: readonly PlainKubelet[];
  /** Requests refused for lack of a valid token or client certificate. */
  unauthorized(): number;
  /** Requests answered, per node name. */
  served(node: string): number;
  stop(): Promise<void>;
}

/**
 * Puts an HTTPS front in front of each simulated kubelet, the way port 10250 works: a certificate signed by the
 * test CA, and a 401 unless the request carries an accepted bearer token or a client certificate from that CA.
 * Authorized GETs are forwarded to the plain kubelet, so payloads are the simulator's.
 *
 * @example
 * const tls = await startTlsKubelets({ upstream: cluster.nodes, pki, tokens: ['s3cret'] });
 * // curl --cacert ca.crt -H 'Authorization: Bearer s3cret' https://127.0.1.1:<port>/stats/summary
 */
export async function startTlsKubelets(options: TlsKubeletsOptions): Promise<TlsKubelets> {
  const pair = options.certificate === 'dns_only' ? options.pki.kubeletDnsOnly : options.pki.kubelet;
  const tokens = new Set(options.tokens);
  const served = new Map<string, number>();
  let unauthorized = 0;
  const servers: Server[] = [];
  const nodes: PlainKubelet[] = [];
  for (const up of options.upstream) {
    const server = createServer(
      {
        cert: pair.cert,
        key: pair.key,
        ca: options.pki.ca.cert,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        if (!authorized(req, tokens)) {
          unauthorized++;
          res.writeHead(401, { 'content-type': 'text/plain' }).end('Unauthorized');
          return;
        }
        served.set(up.name, (served.get(up.name) ?? 0) + 1);
        void forward(up, req, res);
      },
    );
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, up.address, () => resolve());
    });
    servers.push(server);
    nodes.push({ name: up.name, address: up.address, port: (server.address() as AddressInfo).port });
  }
  return {
    nodes,
    unauthorized: () => unauthorized,
    served: (node) => served.get(node) ?? 0,
    stop: () =>
      Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      ).then(() => undefined),
  };
}

function authorized(req: IncomingMessage, tokens: ReadonlySet<string>): boolean {
  const header = req.headers.authorization;
  if (header?.startsWith('Bearer ') === true && tokens.has(header.slice(7).trim())) return true;
  return (req.socket as TLSSocket).authorized;
}

async function forward(up: PlainKubelet, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const answer = await request(`http://${up.address}:${up.port}${req.url ?? '/'}`, { method: 'GET' });
    res.writeHead(answer.statusCode, { 'content-type': 'application/json' });
    for await (const chunk of answer.body) res.write(chunk);
    res.end();
  } catch (err) {
    res.writeHead(502).end(`upstream kubelet ${up.name}: ${(err as Error).message}`);
  }
}

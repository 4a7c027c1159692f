/**
 * A loopback HTTP proxy in front of an Iceberg REST catalog that can interfere with table commits (POST to
 * `…/namespaces/<ns>/tables/<table>`), to put a writer in the states a crash or a network fault leaves:
 * `hold` never answers the commit (and does not forward it); `lose-answer` forwards it, lets the catalog apply it,
 * then cuts the connection before the answer reaches the client. Everything else passes through.
 */
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type CommitMode = 'pass' | 'hold' | 'lose-answer';

export interface CatalogProxy {
  readonly uri: string;
  mode: CommitMode;
  /** Commits that reached the proxy, in order, with what the proxy did to each. */
  readonly commits: CommitMode[];
  /** Resolves when a commit is held. */
  held(): Promise<void>;
  close(): Promise<void>;
}

const COMMIT = /^\/v1\/.*\/namespaces\/[^/]+\/tables\/[^/]+$/;

export async function startCatalogProxy(target: string): Promise<CatalogProxy> {
  const upstream = new URL(target);
  let onHeld: (() => void) | undefined;
  let heldOnce = false;
  const heldPromise = new Promise<void>((resolve) => (onHeld = resolve));
  const proxy: CatalogProxy = {
    uri: '',
    mode: 'pass',
    commits: [],
    held: () => heldPromise,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer, loseAnswer: boolean): void => {
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        path: req.url,
        method: req.method,
        headers: req.headers,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => {
          if (loseAnswer) {
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(Buffer.concat(chunks));
        });
      },
    );
    out.on('error', () => req.socket.destroy());
    out.end(body);
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const isCommit = req.method === 'POST' && COMMIT.test(req.url ?? '');
      if (!isCommit) return forward(req, res, body, false);
      const mode = proxy.mode;
      proxy.commits.push(mode);
      if (mode === 'hold') {
        if (!heldOnce) {
          heldOnce = true;
          onHeld?.();
        }
        return; // never answered
      }
      forward(req, res, body, mode === 'lose-answer');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  Object.assign(proxy, { uri: `http://127.0.0.1:${port}` });
  return proxy;
}

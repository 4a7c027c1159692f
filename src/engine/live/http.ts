import type { IncomingMessage, ServerResponse } from 'node:http';
import { assetReader, type Asset } from './assets.js';
import type { LiveQuery, LiveStore } from './store.js';

/**
 * Strict: scripts, styles, images and connections only from the ops server itself, no inline script or style
 * element, no framing, no form posts. uPlot sizes its elements through the CSSOM, which style-src allows.
 */
export const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/** Open event streams at most: each costs a socket, and a page needs one. */
export const MAX_EVENT_STREAMS = 32;
/** A comment this often keeps proxies from closing an idle stream. */
const KEEPALIVE_MS = 15_000;

/**
 * The live view's routes: `/` (the page), `/ui/app.js` and `/ui/app.css` (its bundled assets),
 * `/ui/api/snapshot?range=5m|1h&search=…` (JSON) and `/ui/api/events` (server-sent events, one `cycle` event per
 * cycle; the page then asks for a snapshot). Read-only: GET and HEAD only, as the whole ops server. Returns false
 * for a path it does not serve.
 */
export function liveViewHandler(
  store: LiveStore,
  readAsset: (name: string) => Asset | undefined = assetReader(),
): {
  handle(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean;
  close(): void;
} {
  const streams = new Set<ServerResponse>();
  const serveAsset = (res: ServerResponse, name: string) => {
    const asset = readAsset(name);
    if (asset === undefined) {
      res
        .writeHead(503, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' })
        .end('the live view is not built: run `npm run build` (it writes dist/ui)\n');
      return;
    }
    res
      .writeHead(200, { ...SECURITY_HEADERS, 'content-type': asset.contentType, 'cache-control': 'no-cache' })
      .end(asset.body);
  };
  return {
    handle(req, res, path, query) {
      if (path === '/') serveAsset(res, 'index.html');
      else if (path === '/ui/app.js') serveAsset(res, 'app.js');
      else if (path === '/ui/app.css') serveAsset(res, 'app.css');
      else if (path === '/ui/api/snapshot') {
        const range = query.get('range') ?? '5m';
        if (range !== '5m' && range !== '1h') {
          res
            .writeHead(400, { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8' })
            .end(`${req.url ?? path}: range must be 5m or 1h, not ${JSON.stringify(range)}\n`);
          return true;
        }
        const q: LiveQuery = { range, search: (query.get('search') ?? '').slice(0, 200) };
        res
          .writeHead(200, {
            ...SECURITY_HEADERS,
            'content-type': 'application/json',
            'cache-control': 'no-store',
          })
          .end(JSON.stringify(store.snapshot(q)));
      } else if (path === '/ui/api/events') {
        if (streams.size >= MAX_EVENT_STREAMS) {
          res
            .writeHead(503, {
              ...SECURITY_HEADERS,
              'content-type': 'text/plain; charset=utf-8',
              'retry-after': '30',
            })
            .end(`${MAX_EVENT_STREAMS} event streams are open already\n`);
          return true;
        }
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'content-type': 'text/event-stream',
          'cache-control': 'no-store',
          connection: 'keep-alive',
        });
        res.write(`retry: 5000\n\n`);
        streams.add(res);
        const unsubscribe = store.onCycle((cycle) => res.write(`event: cycle\ndata: {"cycle":${cycle}}\n\n`));
        const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
        keepalive.unref();
        res.on('close', () => {
          clearInterval(keepalive);
          unsubscribe();
          streams.delete(res);
        });
      } else return false;
      return true;
    },
    close() {
      for (const res of streams) res.end();
    },
  };
}

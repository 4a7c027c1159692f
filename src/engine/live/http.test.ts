import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Telemetry } from '../../component/telemetry.js';
import { HealthChecker } from '../health.js';
import { startOpsServer, type OpsServer } from '../ops-server.js';
import { PrometheusExporter } from '../prometheus.js';
import { assetReader } from './assets.js';
import { LiveStore } from './store.js';

const clock = { now: () => 1_800_000_000_000, scheduler: asyncScheduler };
const TOKEN = 'a-token-of-some-length-0123';

describe('the live view on the ops server', () => {
  let dir: string;
  let server: OpsServer | undefined;
  let store: LiveStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'heapstream-ui-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title>');
    await writeFile(join(dir, 'app.js'), 'export {};');
    await writeFile(join(dir, 'app.css'), 'body{}');
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  async function start(token?: string, assets = assetReader(dir)): Promise<OpsServer> {
    const t = new Telemetry();
    store = new LiveStore(
      t,
      clock,
      () => [],
      () => 5000,
    );
    server = await startOpsServer({
      address: '127.0.0.1',
      port: 0,
      exporter: new PrometheusExporter(t),
      health: new HealthChecker(t, clock, () => [], {
        maxCycleAgeMs: 1,
        minNodeShare: 0.5,
        sinkWindowMs: 1,
        maxLoopStallMs: 10_000,
      }),
      liveView: store,
      liveViewAssets: assets,
      ...(token === undefined ? {} : { token }),
    });
    return server;
  }

  it('serves the page and its files under a strict Content-Security-Policy, read-only', async () => {
    const { url } = await start();
    for (const [path, type] of [
      ['/', 'text/html'],
      ['/ui/app.js', 'text/javascript'],
      ['/ui/app.css', 'text/css'],
      ['/ui/api/snapshot?range=1h', 'application/json'],
    ] as const) {
      const res = await fetch(url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toContain(type);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("script-src 'self'");
      expect(csp, path).not.toContain('unsafe');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    expect((await fetch(`${url}/ui/api/snapshot`, { method: 'POST' })).status).toBe(405);
  });

  it('names the request when the range is not one it knows', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/ui/api/snapshot?range=7d`);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('/ui/api/snapshot?range=7d: range must be 5m or 1h');
  });

  it('says how to build the page when its files are missing', async () => {
    const { url } = await start(undefined, () => undefined);
    const res = await fetch(url);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build');
  });

  it('announces each cycle on the event stream', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/ui/api/events`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    store.observe({
      kind: 'cycle_end',
      cycle: 7,
      timestamp: 1,
      nodesExpected: 0,
      nodesAnswered: 0,
      failures: [],
      durationMs: 0,
    });
    while (!text.includes('event: cycle')) text += decoder.decode((await reader.read()).value);
    expect(text).toContain('event: cycle\ndata: {"cycle":7}\n\n');
    await reader.cancel();
  });

  it('with a token, refuses every path but the probes without it', async () => {
    const { url } = await start(TOKEN);
    for (const path of ['/', '/ui/api/snapshot', '/ui/app.js', '/metrics']) {
      const res = await fetch(url + path);
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      const wrong = await fetch(url + path, { headers: { authorization: `Bearer ${TOKEN}x` } });
      expect(wrong.status, path).toBe(401);
      const right = await fetch(url + path, { headers: { authorization: `Bearer ${TOKEN}` } });
      expect(right.status, path).toBe(200);
    }
    // Kubelet probes carry no secret.
    expect((await fetch(`${url}/livez`)).status).toBe(200);
    expect([200, 503]).toContain((await fetch(`${url}/readyz`)).status);
  });
});

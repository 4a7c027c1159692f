/**
 * The live view in a real headless Chromium (Debian's `chromium`, driven by puppeteer-core), against `heapstream
 * run` scraping a simulated cluster over loopback. The page's numbers are checked against the pipeline's own sets
 * of the same cycles, which the same run writes as JSON Lines on stdout: the charts' points (read from the tables
 * the page draws from the same arrays it gives uPlot), the top pods, a node made to fail, a sink whose server
 * stops. Every request the page makes is recorded: none leaves the ops server, and the CSP is never violated.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedCluster, type SimulatedCluster } from '../src/sim/index.js';
import { ensureDebianPackage } from './services/apt.js';
import { freeLoopbackPort } from './services/ports.js';
import { eventually as pollUntil } from './support/eventually.js';

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const BUILD_UI = fileURLToPath(new URL('../scripts/build-ui.ts', import.meta.url));
/** Set to a directory (docs/images) to keep the screenshots there. */
const SCREENSHOTS = process.env['HEAPSTREAM_SCREENSHOTS'];

interface Line {
  readonly time: string;
  readonly type: string;
  readonly key: string;
  readonly labels: Record<string, string>;
  readonly values: Record<string, number>;
}

/** What the page shows, read in one evaluation so that no refresh falls between two reads. */
interface PageView {
  readonly cycle: string;
  readonly charts: Record<'cpu' | 'memory', { t: number; series: Record<string, number | null> }[]>;
  readonly podsCpu: { pod: string; namespace: string; value: number }[];
  readonly nodes: { node: string; failing: boolean }[];
  readonly sinks: Record<string, number>;
}

let sim: SimulatedCluster;
let dir: string;
let heapstream: ChildProcess;
let browser: Browser;
let page: Page;
let influx: Server;
let opsUrl: string;
let stdout = '';
let stderr = '';
const requests: string[] = [];
let mainHeaders: Record<string, string> = {};

/** Sets by cycle time (ms), from the stdout sink: pods come before their cycle's cluster set, in batch order. */
function pipelineCycles(): Map<number, { cluster?: Line; namespaces: Line[]; pods: Line[] }> {
  const cycles = new Map<number, { cluster?: Line; namespaces: Line[]; pods: Line[] }>();
  let pods: Line[] = [];
  for (const text of stdout.split('\n')) {
    if (!text.startsWith('{"time"')) continue;
    const line = JSON.parse(text) as Line;
    if (line.type === 'pod') {
      pods.push(line);
      continue;
    }
    const t = Date.parse(line.time);
    const cycle = cycles.get(t) ?? { namespaces: [], pods };
    cycles.set(t, cycle);
    if (line.type === 'cluster') {
      cycle.cluster = line;
      pods = [];
    } else cycle.namespaces.push(line);
  }
  return cycles;
}

/** Polls until `attempt` gives a value, giving up early if heapstream exits (its log in the error). */
function eventually<T>(what: string, attempt: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  return pollUntil(what, attempt, {
    ms,
    everyMs: 200,
    stopped: () => heapstream.exitCode !== null,
    context: () => `heapstream stderr:\n${stderr}`,
  });
}

// Runs in the page (plain JavaScript: this file is type-checked without the DOM's types).
const READ_PAGE = `(() => {
  const chart = (id) =>
    [...document.querySelectorAll('#' + id + '-table tbody tr')].map((tr) => {
      const series = {};
      for (const span of tr.querySelectorAll('span[data-series]')) {
        const v = span.dataset.value ?? '';
        series[span.dataset.series ?? ''] = v === '' ? null : Number(v);
      }
      return { t: Number(tr.dataset.t), series };
    });
  const cells = (tr) => [...tr.children].map((c) => c.textContent ?? '');
  const sinks = {};
  for (const tr of document.querySelectorAll('#sinks-table tbody tr')) {
    sinks[tr.dataset.sink ?? ''] = Number(tr.querySelector('[data-backlog]')?.dataset.backlog);
  }
  return {
    cycle: document.body.dataset.cycle ?? '',
    charts: { cpu: chart('cpu'), memory: chart('memory') },
    podsCpu: [...document.querySelectorAll('#pods-cpu tbody tr')].map((tr) => ({
      pod: cells(tr)[0] ?? '',
      namespace: cells(tr)[1] ?? '',
      value: Number(tr.querySelector('[data-value]')?.dataset.value),
    })),
    nodes: [...document.querySelectorAll('#nodes-table tbody tr')].map((tr) => ({
      node: tr.dataset.node ?? '',
      failing: tr.dataset.failing === 'true',
    })),
    sinks,
  };
})()`;

function readPage(): Promise<PageView> {
  return page.evaluate(READ_PAGE) as Promise<PageView>;
}

/** The page once it shows a cycle later than `after`. */
async function pageAfter(after: number): Promise<PageView> {
  return eventually(`the page past cycle ${after}`, async () => {
    const view = await readPage();
    return Number(view.cycle) > after ? view : undefined;
  });
}

beforeAll(async () => {
  const chromium = await ensureDebianPackage('chromium', 'chromium');
  // The page as the package ships it: bundled from ui/ into dist/ui (what `npm run build` does).
  await promisify(execFile)(process.execPath, ['--import', 'tsx', BUILD_UI], { cwd: REPO_ROOT });
  sim = await startSimulatedCluster({
    nodes: 3,
    podsPerNode: 4,
    seed: 20,
    firstAddress: '127.0.20.1',
    restartEvery: 0,
  });
  // A stand-in InfluxDB that takes every write until the test stops it.
  influx = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => influx.listen(0, '127.0.0.1', resolve));
  const influxPort = (influx.address() as { port: number }).port;
  const opsPort = await freeLoopbackPort();
  dir = await mkdtemp(join(tmpdir(), 'heapstream-live-view-'));
  const config = join(dir, 'pipeline.yaml');
  await writeFile(
    config,
    [
      'resolution: 2s',
      'source:',
      '  type: kubelet_summary',
      '  scheme: http',
      '  timeout: 1s',
      '  discovery:',
      '    static:',
      ...sim.nodes.map((n) => `      - { name: ${n.name}, address: ${n.address}, port: ${n.port} }`),
      'processors:',
      '  - type: rate',
      '  - type: aggregate',
      '    levels: [pod, namespace, node, cluster]',
      'sinks:',
      '  lines:',
      '    type: stdout',
      '    format: jsonl',
      '    select: { types: [pod, ns, cluster] }',
      '  influx:',
      '    type: influxdb',
      `    url: http://127.0.0.1:${influxPort}`,
      '    bucket: k8s',
      '    org: test',
      'server:',
      `  port: ${opsPort}`,
      'log:',
      '  level: warn',
      '',
    ].join('\n'),
  );
  heapstream = spawn(process.execPath, ['--import', 'tsx', MAIN, 'run', '--config', config], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  heapstream.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  heapstream.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  opsUrl = await eventually('the live view URL on stderr', () =>
    Promise.resolve(/live view: (http:\/\/\S+)/.exec(stderr)?.[1]),
  );
  // --no-sandbox: the test may run as root, where Chromium's sandbox refuses to start.
  browser = await puppeteer.launch({ executablePath: chromium, headless: true, args: ['--no-sandbox'] });
  page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1100 });
  page.on('request', (request) => requests.push(request.url()));
  await page.evaluateOnNewDocument(`
    document.addEventListener('securitypolicyviolation', (e) => {
      (window.cspViolations ??= []).push(e.violatedDirective + ' ' + e.blockedURI);
    });`);
  const response = await page.goto(opsUrl, { waitUntil: 'load' });
  mainHeaders = response?.headers() ?? {};
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (heapstream !== undefined && heapstream.exitCode === null) {
    heapstream.kill('SIGKILL');
    await new Promise((r) => heapstream.once('exit', r));
  }
  influx?.closeAllConnections();
  await new Promise((r) => influx?.close(r));
  await sim?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('the live view in headless Chromium', () => {
  it('charts the pipeline’s own cluster and namespace sets of the same cycles', async () => {
    // Three cycles with rates (the first cycle has none), and each on stdout.
    const view = await eventually('three charted cycles with CPU, on stdout too', async () => {
      const v = await readPage();
      const charted = v.charts.cpu.filter((row) => row.series['cluster'] !== null);
      const sets = pipelineCycles();
      return charted.length >= 3 && charted.every((row) => sets.get(row.t)?.cluster !== undefined)
        ? v
        : undefined;
    });
    const sets = pipelineCycles();
    for (const [id, metric] of [
      ['cpu', 'cpu/usage_rate'],
      ['memory', 'memory/usage'],
    ] as const) {
      const rows = view.charts[id].filter((row) => sets.get(row.t)?.cluster !== undefined);
      expect(rows.length).toBeGreaterThanOrEqual(3);
      for (const row of rows) {
        const cycle = sets.get(row.t)!;
        const expected: Record<string, number | null> = { cluster: cycle.cluster!.values[metric] ?? null };
        for (const ns of cycle.namespaces) expected[ns.labels['namespace_name']!] = ns.values[metric] ?? null;
        expect(row.series).toEqual(expected);
      }
    }
  });

  it('lists the top pods by CPU as the pipeline’s pod sets of the cycle shown rank them', async () => {
    const view = await eventually('the shown cycle on stdout', async () => {
      const v = await readPage();
      const newest = v.charts.cpu[0]?.t;
      return newest !== undefined && pipelineCycles().get(newest)?.cluster !== undefined ? v : undefined;
    });
    const pods = pipelineCycles().get(view.charts.cpu[0]!.t)!.pods;
    const expected = pods
      .filter((p) => p.values['cpu/usage_rate'] !== undefined)
      .map((p) => ({
        pod: p.labels['pod_name']!,
        namespace: p.labels['namespace_name']!,
        value: p.values['cpu/usage_rate']!,
      }))
      .sort(
        (a, b) => b.value - a.value || a.namespace.localeCompare(b.namespace) || a.pod.localeCompare(b.pod),
      )
      .slice(0, 10);
    expect(expected.length).toBe(10);
    expect(view.podsCpu).toEqual(expected);
  });

  it('puts a node made to fail on top of the node table within two cycles', async () => {
    const failing = sim.nodes[1]!.name;
    const before = Number((await readPage()).cycle);
    sim.setFault(failing, { kind: 'status', status: 503 });
    const view = await eventually('the failing node on top', async () => {
      const v = await readPage();
      return v.nodes[0]?.failing === true || Number(v.cycle) > before + 2 ? v : undefined;
    });
    expect(view.nodes[0]).toEqual({ node: failing, failing: true });
    expect(Number(view.cycle)).toBeLessThanOrEqual(before + 2);
    expect(view.nodes.slice(1).every((n) => !n.failing)).toBe(true);
    sim.setFault(failing, undefined);
  });

  it('shows the backlog of a sink whose server stopped growing', async () => {
    influx.closeAllConnections();
    await new Promise((r) => influx.close(r));
    const first = await pageAfter(Number((await readPage()).cycle));
    const second = await pageAfter(Number(first.cycle) + 1);
    expect(second.sinks['influx']).toBeGreaterThan(first.sinks['influx']!);
  });

  it('sends a strict CSP and loads nothing but the ops server’s own files', async () => {
    expect(mainHeaders['content-security-policy']).toContain("default-src 'self'");
    expect(mainHeaders['content-security-policy']).toContain("script-src 'self'");
    expect(mainHeaders['content-security-policy']).not.toContain('unsafe-inline');
    const origin = new URL(opsUrl).origin;
    expect(requests.length).toBeGreaterThan(3);
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(await page.evaluate('window.cspViolations ?? []')).toEqual([]);
  });

  it('jumps to the search with "/" and narrows the view to what matches', async () => {
    await page.keyboard.press('/');
    expect(await page.evaluate('document.activeElement?.id')).toBe('search');
    await page.keyboard.type('kube-system');
    await eventually('only kube-system pods listed', async () => {
      const v = await readPage();
      return v.podsCpu.length > 0 && v.podsCpu.every((p) => p.namespace === 'kube-system') ? true : undefined;
    });
    await page.keyboard.press('Escape');
  });

  it('switches the time range with the keyboard (arrow keys on the radio group)', async () => {
    await page.focus('input[name="range"][value="5m"]');
    await page.keyboard.press('ArrowRight');
    expect(await page.evaluate('document.activeElement?.value')).toBe('1h');
    await eventually('a snapshot asked for the last hour', () =>
      Promise.resolve(requests.some((url) => url.includes('range=1h')) ? true : undefined),
    );
    await page.keyboard.press('ArrowLeft');
    expect(await page.evaluate('document.activeElement?.value')).toBe('5m');
  });

  it('reads in light and dark colours (screenshots)', async () => {
    const out = SCREENSHOTS ?? join(dir, 'screenshots');
    await mkdir(out, { recursive: true });
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: scheme }]);
      await pageAfter(Number((await readPage()).cycle));
      const background = await page.evaluate('getComputedStyle(document.body).backgroundColor');
      expect(background).toBe(scheme === 'light' ? 'rgb(255, 255, 255)' : 'rgb(13, 17, 23)');
      const png = await page.screenshot({ path: join(out, `live-view-${scheme}.png`), fullPage: true });
      expect(png.byteLength).toBeGreaterThan(10_000);
    }
  });
});

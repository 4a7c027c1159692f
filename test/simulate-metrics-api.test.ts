import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { ensureDebianPackage } from './services/apt.js';

// `heapstream simulate --control-plane --dir D --metrics-api URL`, as the README's kubectl top walk-through runs it:
// the kubeconfig stays in D and the fake API server lists metrics.k8s.io, served from URL.

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const dirs: string[] = [];

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('heapstream simulate --metrics-api', () => {
  it('keeps the kubeconfig in --dir and registers metrics.k8s.io with the fake API server', async () => {
    const kubectl = await ensureDebianPackage('kubectl', 'kubectl');
    const dir = await mkdtemp(join(tmpdir(), 'heapstream-simulate-'));
    dirs.push(dir);
    const sim = join(dir, 'sim');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'simulate', '--control-plane', '--dir', sim, '--port', '0'].concat([
        '--first-address',
        '127.0.32.1',
        '--metrics-api',
        'https://127.0.0.1:4443',
      ]),
      { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    try {
      const deadline = Date.now() + 30_000;
      while (!stderr.includes('metrics.k8s.io/v1beta1 is served by https://127.0.0.1:4443')) {
        if (Date.now() > deadline || child.exitCode !== null)
          throw new Error(`simulate did not start:\n${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const kubeconfig = join(sim, 'kubeconfig');
      expect(stderr).toContain(`kubectl --kubeconfig ${kubeconfig} top pods -A`);
      // No metrics_api sink runs here, so the group's resources cannot be read; its registration can.
      const groups = await run(kubectl, [
        ...['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache')],
        ...['get', '--raw', '/apis'],
      ]);
      const list = JSON.parse(groups.stdout) as {
        groups: { name: string; versions: { groupVersion: string }[] }[];
      };
      expect(list.groups.find((g) => g.name === 'metrics.k8s.io')?.versions).toEqual([
        expect.objectContaining({ groupVersion: 'metrics.k8s.io/v1beta1' }),
      ]);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    // Kept after the simulator stops, as --dir promises.
    expect(existsSync(join(sim, 'kubeconfig'))).toBe(true);
  }, 60_000);

  it('refuses --metrics-api without --control-plane, and a URL that is not https', async () => {
    const without = await runCli(['simulate', '--metrics-api', 'https://127.0.0.1:4443']);
    expect(without.code).toBe(2);
    expect(without.stderr).toContain('--dir and --metrics-api need --control-plane');
    const plain = await runCli(['simulate', '--control-plane', '--metrics-api', 'http://127.0.0.1:4443']);
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('must be https');
  }, 60_000);

  it('ships an example pipeline that validates', async () => {
    const validated = await runCli(['validate', '--config', 'examples/metrics-api.yaml']);
    expect(validated.stdout).toBe(
      'examples/metrics-api.yaml: ok (source kubelet_summary, 1 processors, 1 sinks)\n',
    );
    expect(validated.code).toBe(0);
  }, 60_000);
});

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeSimKubeconfig } from '../sim/apiserver/kubeconfig.js';
import { resolveClusterAccess } from './kubeconfig.js';

let dir: string;
const clock = { now: () => Date.now(), scheduler: asyncScheduler };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'heapstream-kubeconfig-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function kubeconfigAt(path: string, server: string, token = 'kc-token'): Promise<string> {
  await writeSimKubeconfig(path, { server, token });
  return path;
}

describe('resolveClusterAccess', () => {
  it('prefers an explicit kubeconfig, then KUBECONFIG, then ~/.kube/config, then in-cluster', async () => {
    const explicit = await kubeconfigAt(join(dir, 'explicit'), 'https://explicit:6443/');
    const fromEnv = await kubeconfigAt(join(dir, 'env'), 'https://env:6443');
    await mkdir(join(dir, 'home', '.kube'), { recursive: true });
    await kubeconfigAt(join(dir, 'home', '.kube', 'config'), 'https://home:6443');
    const env = { KUBECONFIG: `${fromEnv}:${explicit}`, KUBERNETES_SERVICE_HOST: '10.96.0.1' };
    const homeDir = join(dir, 'home');
    expect((await resolveClusterAccess({ kubeconfig: explicit, env, homeDir, clock })).server).toBe(
      'https://explicit:6443',
    );
    expect((await resolveClusterAccess({ env, homeDir, clock })).server).toBe('https://env:6443');
    const home = await resolveClusterAccess({
      env: { KUBERNETES_SERVICE_HOST: '10.96.0.1' },
      homeDir,
      clock,
    });
    expect(home.server).toBe('https://home:6443');
    expect(home.origin).toContain(join(homeDir, '.kube', 'config'));
    expect(await home.authorization()).toBe('Bearer kc-token');
  });

  it('uses the mounted service account in-cluster, re-reading its token', async () => {
    const sa = join(dir, 'sa');
    await mkdir(sa);
    await writeFile(join(sa, 'token'), 'sa-token');
    await writeFile(join(sa, 'ca.crt'), 'not really a CA');
    const access = await resolveClusterAccess({
      env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
      homeDir: join(dir, 'nohome'),
      serviceAccountDir: sa,
      clock,
    });
    expect(access.server).toBe('https://[fd00::1]:443');
    expect(access.inCluster).toBe(true);
    expect(access.tokenFile).toBe(join(sa, 'token'));
    expect(await access.authorization()).toBe('Bearer sa-token');
  });

  it('names the known contexts when the asked one is missing', async () => {
    const file = await kubeconfigAt(join(dir, 'kc'), 'https://x:6443');
    await expect(resolveClusterAccess({ kubeconfig: file, context: 'prod', clock })).rejects.toThrow(
      /context "prod" is not in .*kc \(it has: heapstream-sim\)/,
    );
  });

  it('says what to set when nothing is found', async () => {
    await expect(resolveClusterAccess({ env: {}, homeDir: join(dir, 'nohome'), clock })).rejects.toThrow(
      /no cluster access found: set `kubeconfig`, export KUBECONFIG/,
    );
    await expect(resolveClusterAccess({ kubeconfig: join(dir, 'missing'), clock })).rejects.toThrow(
      /cannot read .*missing/,
    );
  });
});

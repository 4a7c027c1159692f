import { join } from 'node:path';
import { ensureDebianPackage } from './apt.js';
import { removeOnExit } from './cleanup.js';
import { answersWith, startHttpService, type HttpService } from './http-service.js';
import { makeServiceTempDir } from './paths.js';
import { freeLoopbackPort } from './ports.js';
import { ManagedProcess } from './process.js';

/**
 * Starts a real VictoriaMetrics (Debian's `victoria-metrics`, installed with apt-get if missing) on a free loopback
 * port. It accepts InfluxDB line protocol on `/api/v2/write`, so the v2 write path is tested against a real server.
 * Data lives in a temp dir removed when the test process exits.
 *
 * @example
 * const vm = await startVictoriaMetrics();
 * await fetch(`${vm.url}/api/v2/write?bucket=k8s`, { method: 'POST', body: 'cpu,host=a usage=1' });
 * await vm.stop();
 */
export async function startVictoriaMetrics(): Promise<HttpService> {
  const binary = await ensureDebianPackage('victoria-metrics', 'victoria-metrics');
  const dir = makeServiceTempDir('victoria-metrics');
  removeOnExit(dir);
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const logFile = join(dir, 'victoria-metrics.log');
  return startHttpService({
    name: 'victoria-metrics',
    url,
    logFile,
    process: new ManagedProcess({
      name: `victoria-metrics (${url})`,
      command: binary,
      args: [
        `-httpListenAddr=127.0.0.1:${port}`,
        `-storageDataPath=${join(dir, 'data')}`,
        // Tests write samples with fixed, possibly old timestamps (fixtures); keep them all.
        '-retentionPeriod=100y',
        '-loggerLevel=WARN',
      ],
      logFile,
    }),
    isReady: () => answersWith(`${url}/health`, 200),
    readyTimeoutMs: 60_000,
  });
}

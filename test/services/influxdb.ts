import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDebianPackage } from './apt.js';
import { removeOnExit } from './cleanup.js';
import { answersWith, startHttpService, type HttpService } from './http-service.js';
import { makeServiceTempDir } from './paths.js';
import { freeLoopbackPort } from './ports.js';
import { ManagedProcess } from './process.js';

export type { HttpService } from './http-service.js';
export { startVictoriaMetrics } from './victoria-metrics.js';

/** Our own influxd config: temp dirs, loopback only, no phoning home, no self-monitoring writes. */
function influxConfig(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
`;
}

// INFLUXDB_* variables override the config file in influxd 1.x; a developer's own settings must not leak in.
function envWithoutInfluxOverrides(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('INFLUXDB_')));
}

/**
 * Starts a real InfluxDB 1.x (Debian's `influxdb`, installed with apt-get if `influxd` is missing) on free
 * loopback ports, with its data in a temp dir removed when the test process exits.
 *
 * @example
 * const influx = await startInfluxDB1();
 * await fetch(`${influx.url}/query?q=CREATE+DATABASE+k8s`, { method: 'POST' });
 * await influx.stop();
 */
export async function startInfluxDB1(): Promise<HttpService> {
  const influxd = await ensureDebianPackage('influxd', 'influxdb');
  const dir = makeServiceTempDir('influxdb');
  removeOnExit(dir);
  const [httpPort, rpcPort] = [await freeLoopbackPort(), await freeLoopbackPort()];
  const configFile = join(dir, 'influxdb.conf');
  writeFileSync(configFile, influxConfig(dir, httpPort, rpcPort));
  const url = `http://127.0.0.1:${httpPort}`;
  const logFile = join(dir, 'influxd.log');
  return startHttpService({
    name: 'influxdb 1.x',
    url,
    logFile,
    process: new ManagedProcess({
      name: `influxdb (${url})`,
      command: influxd,
      args: ['run', '-config', configFile],
      logFile,
      env: envWithoutInfluxOverrides(),
    }),
    isReady: () => answersWith(`${url}/ping`, 204),
    readyTimeoutMs: 60_000,
  });
}

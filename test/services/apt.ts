import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { ServiceError } from './errors.js';
import { progress, runCommand } from './process.js';

/** Finds `binary` on PATH (and in /usr/sbin, /usr/bin, where Debian puts daemons); undefined if absent. */
export function findExecutable(binary: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
// Another test process may be installing at the same moment: wait for dpkg's lock instead of failing.
const LOCK_WAIT = ['-o', 'DPkg::Lock::Timeout=300'];

async function aptInstall(debianPackage: string): Promise<void> {
  await runCommand('apt-get', [...LOCK_WAIT, 'install', '-y', '--no-install-recommends', debianPackage], {
    what: `installing Debian package ${debianPackage}`,
    env: APT_ENV,
  });
}

/**
 * Returns the path of `binary`, installing `debianPackage` with apt-get first if it is missing (root only).
 * Idempotent: a second call finds the binary and installs nothing. Runs `apt-get update` once if the first
 * install attempt fails (a fresh machine may have no package lists).
 *
 * @example
 * const influxd = await ensureDebianPackage('influxd', 'influxdb'); // '/usr/bin/influxd'
 */
export async function ensureDebianPackage(binary: string, debianPackage: string): Promise<string> {
  const found = findExecutable(binary);
  if (found !== undefined) return found;
  if (process.getuid?.() !== 0) {
    throw new ServiceError(
      `${binary} is missing and installing the Debian package ${debianPackage} needs root: ` +
        `run \`apt-get install -y ${debianPackage}\` as root, then the tests again`,
    );
  }
  const started = Date.now();
  progress(`${binary} not found: installing Debian package ${debianPackage} (apt-get install)…`);
  try {
    await aptInstall(debianPackage);
  } catch (firstAttempt) {
    progress(`apt-get install ${debianPackage} failed; running apt-get update and trying again…`);
    await runCommand('apt-get', [...LOCK_WAIT, 'update'], { what: 'apt-get update', env: APT_ENV }).catch(
      (err: unknown) => {
        throw new ServiceError(`apt-get update failed after: ${String(firstAttempt)}`, { cause: err });
      },
    );
    await aptInstall(debianPackage);
  }
  const installed = findExecutable(binary);
  if (installed === undefined) {
    throw new ServiceError(`installed Debian package ${debianPackage} but ${binary} is still not on PATH`);
  }
  progress(`installed ${debianPackage} in ${((Date.now() - started) / 1000).toFixed(1)}s: ${installed}`);
  return installed;
}

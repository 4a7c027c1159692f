import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { findExecutable } from './apt.js';
import { ServiceError } from './errors.js';
import { cacheDir } from './paths.js';
import { progress, runCommand } from './process.js';

/**
 * The SeaweedFS module version built for the tests: a pseudo-version of github.com/seaweedfs/seaweedfs, served by
 * the Go module proxy. Bump it to test another build; the next run builds it into its own cache dir.
 */
export const SEAWEEDFS_MODULE = 'github.com/seaweedfs/seaweedfs';
export const SEAWEEDFS_VERSION = 'v0.0.0-20261109003541-7506e5f91cd6';

/** Set to a prebuilt `weed` binary to skip the build (for example one built by hand with the same steps). */
export const WEED_BIN_ENV = 'HEAPSTREAM_WEED_BIN';

/** The `weed` binary when one is there without building ($HEAPSTREAM_WEED_BIN or the cache), else undefined. */
export function existingWeedBinary(): string | undefined {
  const fromEnv = process.env[WEED_BIN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return existsSync(fromEnv) ? fromEnv : undefined;
  const binary = join(cacheDir, 'seaweedfs', SEAWEEDFS_VERSION, 'weed');
  return existsSync(binary) ? binary : undefined;
}

/**
 * Returns the path of a `weed` binary: $HEAPSTREAM_WEED_BIN if set, else `.cache/seaweedfs/<version>/weed`,
 * building it first when absent. The build (several minutes on two cores) downloads the module with
 * `go mod download`, copies it out of the read-only module cache and runs `go build ./weed` there (`go install`
 * refuses the module for its replace directives). Parallel test processes each build in their own staging dir;
 * the first to finish renames its binary into place.
 *
 * @example
 * const weed = await ensureWeedBinary(); // '<repo>/.cache/seaweedfs/v0.0.0-…/weed'
 */
export async function ensureWeedBinary(): Promise<string> {
  const fromEnv = process.env[WEED_BIN_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!existsSync(fromEnv)) throw new ServiceError(`${WEED_BIN_ENV}=${fromEnv}: no such file`);
    return fromEnv;
  }
  const versionDir = join(cacheDir, 'seaweedfs', SEAWEEDFS_VERSION);
  const binary = join(versionDir, 'weed');
  if (existsSync(binary)) return binary;

  if (findExecutable('go') === undefined) {
    throw new ServiceError(
      `go is not installed; it is needed to build SeaweedFS's weed (on Debian: apt-get install -y golang-go), ` +
        `or set ${WEED_BIN_ENV} to a prebuilt weed binary`,
    );
  }
  const started = Date.now();
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(0)}s`;
  mkdirSync(versionDir, { recursive: true });
  const staging = join(versionDir, `build.partial-${process.pid}-${Date.now()}`);
  mkdirSync(staging);
  try {
    progress(
      `SeaweedFS ${SEAWEEDFS_VERSION} not cached: downloading ${SEAWEEDFS_MODULE} from the Go module proxy…`,
    );
    const download = await runCommand(
      'go',
      ['mod', 'download', '-json', `${SEAWEEDFS_MODULE}@${SEAWEEDFS_VERSION}`],
      {
        what: `downloading ${SEAWEEDFS_MODULE}@${SEAWEEDFS_VERSION}`,
        cwd: staging,
      },
    );
    const moduleDir = (JSON.parse(download.stdout) as { Dir?: string }).Dir;
    if (moduleDir === undefined) throw new ServiceError(`go mod download named no Dir:\n${download.stdout}`);
    const source = join(staging, 'src');
    progress(`SeaweedFS: downloaded in ${elapsed()}; copying the module out of the read-only module cache…`);
    await runCommand('cp', ['-r', moduleDir, source], { what: 'copying the SeaweedFS module' });
    await runCommand('chmod', ['-R', 'u+w', source], { what: 'making the SeaweedFS copy writable' });
    progress(`SeaweedFS: building weed (takes minutes; started at ${elapsed()})…`);
    const ticker = setInterval(() => progress(`SeaweedFS: still building weed (${elapsed()})…`), 30_000);
    try {
      // -trimpath: the build cache then does not depend on this staging directory, so a later build (another
      // clone, a cleared .cache) reuses the compiled packages and only links.
      await runCommand('go', ['build', '-trimpath', '-o', join(staging, 'weed'), './weed'], {
        what: 'building SeaweedFS weed',
        cwd: source,
      });
    } finally {
      clearInterval(ticker);
    }
    try {
      renameSync(join(staging, 'weed'), binary);
    } catch (err) {
      // Another test process finished first; its binary is as good as ours.
      if (!existsSync(binary)) throw err;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  progress(`built SeaweedFS weed in ${elapsed()}: ${binary}`);
  return binary;
}

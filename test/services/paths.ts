import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file is test/services/paths.ts). */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The gitignored cache for downloaded service binaries (`.cache/` at the repo root), kept between runs. */
export const cacheDir = join(repoRoot, '.cache');

/**
 * A fresh directory under the OS temp dir for one service's data, config and log.
 *
 * @example
 * const dir = makeServiceTempDir('kafka'); // /tmp/heapstream-kafka-AbC123
 */
export function makeServiceTempDir(service: string): string {
  return mkdtempSync(join(tmpdir(), `heapstream-${service}-`));
}

import { readdir, rmdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Completed files this sink writes; nothing else under `path` is ever deleted. */
const COMPLETED_FILE = /^part-[^/]+\.(?:parquet|jsonl|jsonl\.gz)$/;
/** Temporary files of a writer; left behind only by a process that stopped before completing them. */
const TEMP_FILE = /^\.part-[^/]+\.tmp$/;

export interface SweepOptions {
  readonly now: number;
  /** Delete completed files last modified more than this many ms before `now`; keep them if undefined. */
  readonly retentionMs?: number | undefined;
  /** Delete temporary files last modified more than this many ms before `now`; keep them if undefined. */
  readonly orphanAgeMs?: number | undefined;
}

export interface SweepResult {
  readonly deleted: string[];
  readonly orphans: string[];
}

/**
 * Deletes expired completed files and orphaned temporary files under `root`, then the partition directories
 * that this left empty. A file that disappears meanwhile (another replica's sweep) is not an error.
 *
 * @example
 * await sweepFiles('/data/lake', { now: Date.now(), retentionMs: 7 * 24 * 3600_000 });
 */
export async function sweepFiles(root: string, options: SweepOptions): Promise<SweepResult> {
  const result: SweepResult = { deleted: [], orphans: [] };
  await sweepDirectory(root, true, options, result);
  return result;
}

/** Returns whether the directory was removed. */
async function sweepDirectory(
  dir: string,
  isRoot: boolean,
  options: SweepOptions,
  result: SweepResult,
): Promise<boolean> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return false;
    throw err;
  }
  let remaining = entries.length;
  let deletedHere = false;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (await sweepDirectory(path, false, options, result)) {
        remaining--;
        deletedHere = true;
      }
      continue;
    }
    if (!entry.isFile()) continue;
    const completed = COMPLETED_FILE.test(entry.name);
    const limit = completed
      ? options.retentionMs
      : TEMP_FILE.test(entry.name)
        ? options.orphanAgeMs
        : undefined;
    if (limit === undefined) continue;
    const modified = await modifiedAt(path);
    if (modified === undefined || options.now - modified <= limit) continue;
    try {
      await unlink(path);
    } catch (err) {
      if (!isMissing(err)) throw err;
    }
    (completed ? result.deleted : result.orphans).push(path);
    remaining--;
    deletedHere = true;
  }
  if (isRoot || !deletedHere || remaining > 0) return false;
  try {
    await rmdir(dir);
    return true;
  } catch {
    // A writer opened a new file here meanwhile, or another sweep removed it: both fine.
    return false;
  }
}

async function modifiedAt(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

function isMissing(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ENOENT';
}

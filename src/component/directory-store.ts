// An ObjectStore on a local directory, for `file://` targets and for tests that run the same code as for S3.
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ObjectInfo, ObjectStore, PutOptions } from './object-store.js';

/** Temp files start with this, so that a listing never names a half-written object. */
const TEMP_MARK = '.tmp-';

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && (error.code === 'ENOENT' || error.code === 'ENOTDIR');
}

/**
 * Objects are files under `root`; a key's slashes are directories. A put writes a temp file beside the target and
 * renames it, which is atomic on one file system.
 *
 * @example
 * const store = new DirectoryObjectStore('/var/lib/heapstream/lake');
 * await store.put('date=2026-01-01/part-0.parquet', bytes);
 */
export class DirectoryObjectStore implements ObjectStore {
  constructor(private readonly root: string) {}

  url(key: string): string {
    return pathToFileURL(this.pathOf(key)).href;
  }

  async put(key: string, body: Uint8Array, _options?: PutOptions): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    const temp = join(dirname(target), `${TEMP_MARK}${randomBytes(6).toString('hex')}`);
    try {
      await writeFile(temp, body, { flush: true });
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async putFile(key: string, path: string, _options?: PutOptions): Promise<void> {
    const target = this.pathOf(key);
    await mkdir(dirname(target), { recursive: true });
    const temp = join(dirname(target), `${TEMP_MARK}${randomBytes(6).toString('hex')}`);
    try {
      // A copy, not a rename: the caller owns the file (and the store may be on another file system).
      await copyFile(path, temp);
      const copied = await open(temp, 'r+');
      try {
        await copied.datasync();
      } finally {
        await copied.close();
      }
      await rename(temp, target);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await readFile(this.pathOf(key)));
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];
    await this.walk(this.root, prefix, found);
    return found.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  private pathOf(key: string): string {
    const path = join(this.root, key);
    const inside = relative(this.root, path);
    if (inside === '' || inside.startsWith('..') || inside.split(sep).includes('..')) {
      throw new Error(`object key ${JSON.stringify(key)} leaves the store's directory ${this.root}`);
    }
    return path;
  }

  private async walk(dir: string, prefix: string, found: ObjectInfo[]): Promise<void> {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    for (const entry of entries) {
      const path = join(dir, entry.name);
      const key = relative(this.root, path).split(sep).join('/');
      if (entry.isDirectory()) {
        // Only descend where keys can still start with the prefix.
        if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix) || key.startsWith(prefix)) {
          await this.walk(path, prefix, found);
        }
      } else if (entry.isFile() && !entry.name.startsWith(TEMP_MARK) && key.startsWith(prefix)) {
        found.push({ key, size: (await stat(path)).size });
      }
    }
  }
}

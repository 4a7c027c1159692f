import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Asset {
  readonly body: Buffer;
  readonly contentType: string;
}

/** The page's files, built by `npm run build` (ui/build.ts) into dist/ui: bundled, nothing fetched elsewhere. */
export const ASSET_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
};

/** dist/ui of the package this file belongs to, whether it runs from src/ (tsx) or from dist/src/. */
export function assetDirectory(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return join(dir, 'dist', 'ui');
}

/**
 * Reads the page's files once, on first use; undefined (and the page says how to build it) when they are absent.
 */
export function assetReader(directory = assetDirectory()): (name: string) => Asset | undefined {
  const cache = new Map<string, Asset>();
  return (name) => {
    const contentType = ASSET_FILES[name];
    if (contentType === undefined) return undefined;
    let asset = cache.get(name);
    if (asset === undefined) {
      try {
        asset = { body: readFileSync(join(directory, name)), contentType };
      } catch {
        return undefined;
      }
      cache.set(name, asset);
    }
    return asset;
  };
}

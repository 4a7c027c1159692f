import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * `file:` URL of a module next to the caller, whether it runs from TypeScript sources (tsx, vitest) or from the
 * built JavaScript, for a worker to import.
 *
 * @example
 * moduleBeside(import.meta.url, './decode-bytes') // file:///…/sources/kubelet-summary/decode-bytes.ts (or .js)
 */
export function moduleBeside(callerUrl: string, relative: string): string {
  return new URL(relative + (callerUrl.endsWith('.ts') ? '.ts' : '.js'), callerUrl).href;
}

/**
 * The worker's entry: the built module, or, from TypeScript sources (tsx, vitest), a bootstrap that registers
 * tsx's loader in the new thread first (a thread does not inherit the loader of the one that starts it).
 */
export function workerEntry(): URL {
  const url = new URL(moduleBeside(import.meta.url, './worker'));
  if (!url.pathname.endsWith('.ts')) return url;
  // tsx's ESM API, found from here (the `import` condition is the .mjs beside the `require` one).
  const api = pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  );
  const code = `import { register } from ${JSON.stringify(api.href)}; register(); await import(${JSON.stringify(url.href)});`;
  return new URL('data:text/javascript,' + encodeURIComponent(code));
}

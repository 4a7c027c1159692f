import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HEAPSTREAM_VERSION } from '../src/component/version.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));

/** The project's own files that `npm run build` compiles into dist/ (what the package ships). */
function buildInputs(): string[] {
  const out = execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--listFilesOnly'], {
    cwd: root,
    encoding: 'utf8',
  });
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((file) => relative(root, file))
    .filter((file) => !file.startsWith('..') && !file.split(sep).includes('node_modules'));
}

describe('the build', () => {
  it('ships no test-only file: no tests, no testdata, nothing of test/ or bench/', () => {
    const files = buildInputs();
    expect(files.length).toBeGreaterThan(100);
    const testOnly = files.filter(
      (file) =>
        file.endsWith('.test.ts') ||
        file.split(sep).includes('testdata') ||
        file.startsWith(`test${sep}`) ||
        file.startsWith(`bench${sep}`),
    );
    expect(testOnly).toEqual([]);
  });

  it('reports the version package.json gives (--version, the metrics API /version)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(HEAPSTREAM_VERSION).toBe(pkg.version);
  });

  it('bundles the live view into dist/ui: the page, one script and one stylesheet, loading nothing else', () => {
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build-ui.ts'], { cwd: root });
    const dir = new URL('../dist/ui/', import.meta.url);
    expect(readdirSync(dir).sort()).toEqual(['app.css', 'app.js', 'index.html']);
    const html = readFileSync(new URL('index.html', dir), 'utf8');
    const references = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]);
    expect(references.sort()).toEqual(['#nodes', '/ui/app.css', '/ui/app.js']);
    // No inline script or style for the CSP to refuse.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)|<style|\sstyle=/);
    const script = readFileSync(new URL('app.js', dir), 'utf8');
    expect(/\bimport\s*\(|^import\s|\bfrom\s*["']/m.test(script)).toBe(false);
    // uPlot is in the bundle (its root class name), not fetched.
    expect(script.includes('"uplot"')).toBe(true);
    expect(readFileSync(new URL('app.css', dir), 'utf8')).toContain('.uplot');
  });
});

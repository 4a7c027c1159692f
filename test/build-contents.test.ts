import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
});

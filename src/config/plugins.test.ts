import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../builtins.js';
import { ConfigError } from '../component/errors.js';
import { loadPipelineConfig, type LoadOptions } from './load.js';

const pipeline = (module: string) => `source:
  type: kubelet_summary
  discovery: { static: [{ name: node-1, address: 127.0.0.1 }] }
processors:
  - type: custom
    module: ${module}
sinks:
  out: { type: stdout }
`;

describe('importing plugins', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'heapstream-plugins-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  async function problemsOf(plugin: string, source: string, options: LoadOptions = {}): Promise<string[]> {
    writeFileSync(join(dir, plugin), source);
    const file = join(dir, 'pipeline.yaml');
    writeFileSync(file, pipeline(`./${plugin}`));
    try {
      await loadPipelineConfig(file, createBuiltinRegistry(), {}, options);
    } catch (error) {
      if (error instanceof ConfigError) return [...error.problems];
      throw error;
    }
    throw new Error('expected the config to be rejected');
  }

  it('gives up a plugin whose top-level await never settles, naming its file', async () => {
    const started = Date.now();
    const problems = await problemsOf('hangs.mjs', 'await new Promise(() => {});\nexport default {};\n', {
      pluginImportTimeoutMs: 300,
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(problems).toEqual([
      `${join(dir, 'pipeline.yaml')}:6:13 processors[0].module: module "./hangs.mjs" (${join(dir, 'hangs.mjs')}) ` +
        'did not finish loading within 0.3s: its top-level code is still running (an await that never settles?)',
    ]);
  });

  it('gives up a plugin whose import waits on a timer longer than the limit', async () => {
    const problems = await problemsOf(
      'slow.mjs',
      'await new Promise((resolve) => setTimeout(resolve, 60_000).unref());\nexport default {};\n',
      { pluginImportTimeoutMs: 200 },
    );
    expect(problems[0]).toContain('module "./slow.mjs"');
    expect(problems[0]).toContain('did not finish loading within 0.2s');
  });

  it('says in one line what a plugin threw as it loaded', async () => {
    // Where it was thrown is added from the stack under plain Node.js (the CLI test checks it), not under vitest.
    const thrown = await problemsOf(
      'throws.mjs',
      "const x = 1;\nthrow new TypeError('bad value ' + x + '\\nmore');\n",
    );
    expect(thrown).toHaveLength(1);
    expect(thrown[0]).toMatch(
      /^.*pipeline\.yaml:6:13 processors\[0\]\.module: cannot load module "\.\/throws\.mjs": TypeError: bad value 1( \(thrown at .*throws\.mjs:2:7\))?$/,
    );
    const notAnError = await problemsOf('object.mjs', 'throw { code: 42 };\n');
    expect(notAnError[0]).toMatch(
      /processors\[0\]\.module: cannot load module "\.\/object\.mjs": it threw \{ code: 42 \}$/,
    );
  });
});

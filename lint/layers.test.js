import path from 'node:path';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import layers from './layers.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Lints one import written in the file at `file` (relative to the repository) with only the layer rule on. */
function problems(file, specifier) {
  const linter = new Linter({ configType: 'flat' });
  const messages = linter.verify(
    `import { x } from '${specifier}';\nexport const y = x;\n`,
    [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { heapstream: layers },
        rules: { 'heapstream/layers': 'error' },
      },
    ],
    { filename: path.join(ROOT, file) },
  );
  return messages.map((m) => m.message);
}

describe('the layer rule', () => {
  it('refuses an arrow that points up or sideways', () => {
    expect(problems('src/kube/discovery.ts', '../sim/index.js')).toEqual([
      'src/kube (kube) may not import src/sim (sim): see docs/architecture.md',
    ]);
    expect(problems('src/component/component.ts', '../engine/pipeline.js')).toHaveLength(1);
    expect(problems('src/engine/pipeline.ts', '../../sinks/kafka/index.js')).toHaveLength(1);
    expect(problems('src/config/plugins.ts', '../../processors/custom/index.js')).toHaveLength(1);
    expect(problems('src/model/catalogue.ts', '../component/errors.js')).toHaveLength(1);
  });

  it('refuses a component importing another component', () => {
    expect(problems('sources/kubelet-prometheus/decode.ts', '../kubelet-cadvisor/decode.js')).toEqual([
      'sources/kubelet-prometheus may not import another component (sources/kubelet-cadvisor): move what both need to a shared layer',
    ]);
  });

  it('allows the arrows of docs/architecture.md, the composition root and tests', () => {
    expect(problems('sources/kubelet-summary/decode.ts', '../../src/kube/payload/read-json.js')).toEqual([]);
    expect(problems('sinks/kafka/kafka-sink.ts', '../../src/component/component.js')).toEqual([]);
    expect(problems('src/engine/pipeline.ts', '../config/index.js')).toEqual([]);
    expect(problems('src/builtins.ts', './sim/index.js')).toEqual([]);
    expect(problems('src/cli/run.ts', '../../sinks/stdout/index.js')).toEqual([]);
    expect(problems('src/kube/discovery.test.ts', '../sim/index.js')).toEqual([]);
    expect(problems('processors/custom/testdata/plugin.ts', '../../../src/index.js')).toEqual([]);
  });
});

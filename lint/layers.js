// The layer rule: which folder may import which. docs/architecture.md draws the same arrows; change both together.
// A product file may import only the layers in its row of ALLOWED (and its own); a component (one folder under
// sources/, processors/ or sinks/) never imports another component. Tests (*.test.ts, testdata/), test/, bench/
// and examples/ sit on top and may import anything.
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');

/** layer → the layers it may import besides its own. `root` (the composition root) may import everything. */
export const ALLOWED = {
  model: [],
  component: ['model'],
  kube: ['component', 'model'],
  source: ['kube', 'component', 'model'],
  processor: ['kube', 'component', 'model'],
  sink: ['kube', 'component', 'model'],
  config: ['component', 'model'],
  engine: ['config', 'kube', 'component', 'model'],
  sim: ['component', 'model'],
  testing: ['source', 'engine', 'config', 'kube', 'component', 'model'],
};

const SRC_FOLDERS = {
  model: 'model',
  component: 'component',
  kube: 'kube',
  config: 'config',
  engine: 'engine',
  sim: 'sim',
  testing: 'testing',
  cli: 'root',
};
const COMPONENT_FOLDERS = { sources: 'source', processors: 'processor', sinks: 'sink' };

/** The layer of a file and its unit: a component may import only inside its own folder, a layer inside itself. */
export function layerOf(file) {
  const parts = path.relative(ROOT, file).split(path.sep);
  const [top, second] = parts;
  if (top in COMPONENT_FOLDERS) return { layer: COMPONENT_FOLDERS[top], unit: `${top}/${second}` };
  if (top !== 'src') return { layer: 'outside', unit: top };
  // src/index.ts (the public API) and src/builtins.ts bind the built-ins: the composition root.
  if (parts.length === 2) return { layer: 'root', unit: 'src' };
  return { layer: SRC_FOLDERS[second] ?? 'unknown', unit: `src/${second}` };
}

function isProductFile(file) {
  const rel = path.relative(ROOT, file);
  const top = rel.split(path.sep)[0];
  // testdata/ holds users' plugins as a test loads them: they import the public API like any user's code.
  const testOnly = rel.endsWith('.test.ts') || rel.split(path.sep).includes('testdata');
  return !testOnly && (top === 'src' || top in COMPONENT_FOLDERS);
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports point down the layers that docs/architecture.md draws.' },
    schema: [],
    messages: {
      layer: '{{from}} ({{fromLayer}}) may not import {{to}} ({{toLayer}}): see docs/architecture.md',
      component: '{{from}} may not import another component ({{to}}): move what both need to a shared layer',
    },
  },
  create(context) {
    const file = context.filename;
    if (!isProductFile(file)) return {};
    const from = layerOf(file);
    if (from.layer === 'root') return {};
    const check = (node) => {
      const specifier = node.value;
      if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
      const to = layerOf(path.resolve(path.dirname(file), specifier));
      if (to.unit === from.unit) return;
      const data = { from: from.unit, fromLayer: from.layer, to: to.unit, toLayer: to.layer };
      if (to.layer === from.layer) {
        if (from.layer in ALLOWED && !['source', 'processor', 'sink'].includes(from.layer)) return;
        context.report({ node, messageId: 'component', data });
        return;
      }
      if (!(ALLOWED[from.layer] ?? []).includes(to.layer)) context.report({ node, messageId: 'layer', data });
    };
    const fromSource = (node) => {
      if (node.source?.type === 'Literal') check(node.source);
    };
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression: fromSource,
    };
  },
};

export default { rules: { layers: rule } };

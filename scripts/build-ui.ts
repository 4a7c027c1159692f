// Bundles the live view's page (ui/app.ts with uPlot and its CSS) into dist/ui, which the ops server serves:
// everything the page loads comes from the package itself. Run by `npm run build` and before `npm start`.
import { copyFile, mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));
const out = here('../dist/ui/');

await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: here('../ui/app.ts') },
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  sourcemap: false,
  legalComments: 'eof',
  outdir: out,
  logLevel: 'warning',
});
await copyFile(here('../ui/index.html'), `${out}index.html`);

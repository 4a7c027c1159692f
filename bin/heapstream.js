#!/usr/bin/env node
// The published entry point runs the compiled CLI; `npm run build` (run by `npm ci`) produces it.
await import('../dist/src/cli/main.js');

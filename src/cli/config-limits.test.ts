/**
 * Hostile pipeline files through the real command: `validate` and `run` must both refuse them quickly, with exit
 * code 1 and the problem on stderr, never hang, crash with a stack trace, or exit 13 with no word.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliOutcome } from '../../test/support/cli.js';

const HEADER = `resolution: 15s
source:
  type: kubelet_summary
  discovery: { static: [{ name: node-1, address: 127.0.0.1, port: 1 }] }
sinks:
  out: { type: stdout }
`;

/** Both commands on one file: they must refuse the same files. */
async function bothRefuse(file: string, limitMs = 30_000): Promise<CliOutcome[]> {
  const outcomes = await Promise.all([
    runCli(['validate', '-c', file], limitMs),
    runCli(['run', '-q', '-c', file], limitMs),
  ]);
  for (const outcome of outcomes) {
    expect(outcome.code, outcome.stderr).toBe(1);
    expect(outcome.stderr).not.toMatch(/RangeError|TimeoutOverflowWarning|\n\s+at /);
  }
  return outcomes;
}

describe('hostile pipeline files through the CLI', { timeout: 60_000 }, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'heapstream-cli-limits-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('a billion-laughs file is refused in seconds, at the alias that went past the limit', async () => {
    const levels = ['  a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 10; i++)
      levels.push(
        `  a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const file = write('laughs.yaml', `${HEADER}lol:\n${levels.join('\n')}\n`);
    for (const outcome of await bothRefuse(file)) {
      expect(outcome.stderr).toContain(
        `${file}:11:47 lol.a3[7]: alias *a2 expands past the limit of 10,000 values that aliases may add to a file`,
      );
      expect(outcome.seconds).toBeLessThan(15);
    }
  });

  it('an alias inside the value it names is a problem at file:line:col, not a RangeError', async () => {
    const file = write('self.yaml', HEADER.replace('sinks:', 'processors: &a [*a]\nsinks:'));
    for (const outcome of await bothRefuse(file)) {
      expect(outcome.stderr).toContain(
        `${file}:5:17 processors[0]: alias *a is inside the value it names (&a at 5:16), so it would never end`,
      );
    }
  });

  it('resolution: 720h is refused with its range, instead of spinning a timer', async () => {
    const file = write('resolution.yaml', HEADER.replace('15s', '720h'));
    for (const outcome of await bothRefuse(file)) {
      expect(outcome.stderr).toContain(`${file}:1:13 resolution: "720h" is out of range: use 1s to 1h`);
    }
  });

  it('a file over 1 MiB is refused before it is parsed, naming the file and the limit', async () => {
    const text = `${HEADER}big: "${'x'.repeat(5 * 1024 * 1024)}"\n`;
    const file = write('huge.yaml', text);
    for (const outcome of await bothRefuse(file)) {
      expect(outcome.stderr).toContain(
        `${file}: the file is ${Buffer.byteLength(text).toLocaleString('en-US')} bytes`,
      );
      expect(outcome.stderr).toContain(
        'larger than 1 MiB (1,048,576 bytes), the most a pipeline file may hold',
      );
      expect(outcome.seconds).toBeLessThan(15);
    }
  });

  it('a plugin whose top-level await never settles is given up after 10 s, naming its file', async () => {
    write('hangs.mjs', 'await new Promise(() => {});\nexport default {};\n');
    const file = write('hangs.yaml', HEADER.replace('sinks:', 'plugins:\n  - ./hangs.mjs\nsinks:'));
    for (const outcome of await bothRefuse(file, 40_000)) {
      expect(outcome.stderr).toContain(
        `${file}:6:5 plugins[0]: module "./hangs.mjs" (${join(dir, 'hangs.mjs')}) did not finish ` +
          'loading within 10s: its top-level code is still running (an await that never settles?)',
      );
    }
  });

  it('a plugin that throws as it loads gives one line naming the file and where it threw', async () => {
    write('throws.mjs', "const x = 1;\nthrow new TypeError('bad value ' + x + '\\nsecond line');\n");
    const file = write('throws.yaml', HEADER.replace('sinks:', 'plugins:\n  - ./throws.mjs\nsinks:'));
    for (const outcome of await bothRefuse(file)) {
      expect(outcome.stderr.trimEnd().split('\n')).toEqual([
        `${file}:6:5 plugins[0]: cannot load module "./throws.mjs": TypeError: bad value 1 ` +
          `(thrown at ${join(dir, 'throws.mjs')}:2:7)`,
        `1 problem(s) in ${file}`,
      ]);
    }
  });
});

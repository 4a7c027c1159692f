import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../component/errors.js';
import { rotatingTokenFile } from './token-file.js';

let dir: string;
let now = 0;
const clock = { now: () => now, scheduler: asyncScheduler };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'heapstream-token-'));
  now = 1_000_000;
});
afterEach(() => rm(dir, { recursive: true, force: true }));

describe('rotatingTokenFile', () => {
  it('re-reads the file after it changes, at most once per recheck interval', async () => {
    const file = join(dir, 'token');
    await writeFile(file, 'first-token\n');
    const token = rotatingTokenFile(file, clock, 5000);
    expect(token()).toBe('first-token');
    await writeFile(file, 'second-token-longer');
    expect(token()).toBe('first-token'); // within the interval: no stat
    now += 5000;
    expect(token()).toBe('second-token-longer');
  });

  it('keeps the last good token while the file is missing mid-rotation', async () => {
    const file = join(dir, 'token');
    await writeFile(file, 'good');
    const token = rotatingTokenFile(file, clock, 0);
    expect(token()).toBe('good');
    await rm(file);
    now += 1;
    expect(token()).toBe('good');
  });

  it('fails with a ConfigError naming the file, never the token', async () => {
    const file = join(dir, 'empty');
    await writeFile(file, '  \n');
    expect(() => rotatingTokenFile(file, clock)()).toThrow(ConfigError);
    expect(() => rotatingTokenFile(join(dir, 'missing'), clock)()).toThrow(
      /token file .*missing: cannot read a bearer token/,
    );
  });
});

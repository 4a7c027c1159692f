import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockDirectory } from './dir-lock.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'heapstream-lock-'));
  dirs.push(dir);
  return dir;
}

describe('lockDirectory', () => {
  it('makes a second claim in this process wait until the first is released', async () => {
    const dir = tempDir();
    const release = await lockDirectory(dir, () => undefined);
    const order: string[] = [];
    const second = lockDirectory(dir, () => order.push('taken over')).then((releaseSecond) => {
      order.push('second');
      return releaseSecond;
    });
    await new Promise((resolve) => setTimeout(resolve, 120));
    order.push('released');
    await release();
    await (
      await second
    )();
    expect(order).toEqual(['released', 'second']);
    expect(existsSync(join(dir, 'lock'))).toBe(false);
  });

  it('takes over a lock another process left, and says whose', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'lock'), '4242 0d5e2f3a-0000-4000-8000-000000000000');
    const holders: string[] = [];
    const release = await lockDirectory(dir, (holder) => holders.push(holder));
    expect(holders).toEqual(['4242']);
    expect(readFileSync(join(dir, 'lock'), 'utf8')).toMatch(new RegExp(`^${process.pid} `));
    await release();
  });
});

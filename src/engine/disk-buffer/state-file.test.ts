import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readPositions, STATE_FILE, StateFile, writePositions } from './state-file.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'heapstream-state-'));
  dirs.push(dir);
  return dir;
}

describe('the state file', () => {
  it('is absent before the first write, then reads back what was written last', async () => {
    const dir = tempDir();
    expect(await readPositions(dir)).toBeUndefined();
    await writePositions(dir, { acked: 7, read: 9 }, false);
    await writePositions(dir, { acked: 2 ** 40, read: 2 ** 40 + 3 }, true);
    expect(await readPositions(dir)).toEqual({ acked: 2 ** 40, read: 2 ** 40 + 3 });
  });

  it('is refused when torn or changed, so that the caller replays everything', async () => {
    const dir = tempDir();
    await writePositions(dir, { acked: 7, read: 9 }, false);
    const path = join(dir, STATE_FILE);
    const data = readFileSync(path);
    writeFileSync(path, data.subarray(0, 20));
    await expect(readPositions(dir)).rejects.toThrow(/not a state record/);
    data[10] = (data[10] as number) ^ 1;
    writeFileSync(path, data);
    await expect(readPositions(dir)).rejects.toThrow(/checksum/);
  });

  it('held open, starts whole with the positions given and is rewritten in place', async () => {
    const dir = tempDir();
    const state = await StateFile.open(dir, { acked: 3, read: 5 });
    expect(await readPositions(dir)).toEqual({ acked: 3, read: 5 });
    await state.write({ acked: 6, read: 8 }, false);
    expect(await readPositions(dir)).toEqual({ acked: 6, read: 8 });
    await state.write({ acked: 2 ** 40, read: 2 ** 40 }, true);
    await state.close();
    expect(readFileSync(join(dir, STATE_FILE))).toHaveLength(24);
    expect(await readPositions(dir)).toEqual({ acked: 2 ** 40, read: 2 ** 40 });
  });
});

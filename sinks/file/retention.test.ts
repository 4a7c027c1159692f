import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweepFiles } from './retention.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'heapstream-retention-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function file(path: string, ageMs: number, now: number): Promise<string> {
  const full = join(root, path);
  await mkdir(join(full, '..'), { recursive: true });
  await writeFile(full, 'x');
  const t = (now - ageMs) / 1000;
  await utimes(full, t, t);
  return full;
}

describe('retention sweep', () => {
  it("deletes only this sink's completed files past retention, and the directories that leaves empty", async () => {
    const now = Date.now();
    const old = await file('dt=1/type=pod/part-a.parquet', 10_000, now);
    const oldGz = await file('dt=1/type=node/part-b.jsonl.gz', 10_000, now);
    await file('dt=2/type=pod/part-c.jsonl', 1_000, now);
    await file('dt=1/type=ns/mine.parquet', 10_000, now); // not a name this sink writes
    await mkdir(join(root, 'empty-by-user'));
    const result = await sweepFiles(root, { now, retentionMs: 5_000 });
    expect(result.deleted.sort()).toEqual([oldGz, old].sort());
    expect(result.orphans).toEqual([]);
    expect((await readdir(root)).sort()).toEqual(['dt=1', 'dt=2', 'empty-by-user']);
    expect(await readdir(join(root, 'dt=1'))).toEqual(['type=ns']);
  });

  it('deletes temporary files only when asked and only past the orphan age', async () => {
    const now = Date.now();
    const orphan = await file('p/.part-x.parquet.tmp', 60_000, now);
    await file('p/.part-y.parquet.tmp', 1_000, now);
    expect(await sweepFiles(root, { now })).toEqual({ deleted: [], orphans: [] });
    expect(await sweepFiles(root, { now, orphanAgeMs: 30_000 })).toEqual({ deleted: [], orphans: [orphan] });
  });

  it('treats a missing root as empty', async () => {
    expect(await sweepFiles(join(root, 'nope'), { now: Date.now(), retentionMs: 1 })).toEqual({
      deleted: [],
      orphans: [],
    });
  });
});

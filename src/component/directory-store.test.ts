import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DirectoryObjectStore } from './directory-store.js';

describe('DirectoryObjectStore', () => {
  it('puts, gets, lists by prefix in key order and deletes', async () => {
    const root = mkdtempSync(join(tmpdir(), 'heapstream-dirstore-'));
    const store = new DirectoryObjectStore(root);
    await store.put('b/date=2026-01-02/part-1.jsonl', Buffer.from('two\n'));
    await store.put('b/date=2026-01-01/part-0.jsonl', Buffer.from('one\n'));
    await store.put('c/other', Buffer.from('x'));

    expect(Buffer.from((await store.get('b/date=2026-01-01/part-0.jsonl')) ?? []).toString()).toBe('one\n');
    expect(await store.get('b/missing')).toBeUndefined();
    expect(await store.list('b/')).toEqual([
      { key: 'b/date=2026-01-01/part-0.jsonl', size: 4 },
      { key: 'b/date=2026-01-02/part-1.jsonl', size: 4 },
    ]);
    expect((await store.list('b/date=2026-01-0')).map((o) => o.key)).toHaveLength(2);
    expect(store.url('c/other')).toBe(`file://${root}/c/other`);

    await store.delete('c/other');
    await store.delete('c/other'); // absent: not an error
    expect(await store.list('c')).toEqual([]);
  });

  it('never lists a temp file, and leaves none behind', async () => {
    const root = mkdtempSync(join(tmpdir(), 'heapstream-dirstore-'));
    const store = new DirectoryObjectStore(root);
    await store.put('k', Buffer.from('v'));
    writeFileSync(join(root, '.tmp-abandoned'), 'half');
    expect((await store.list('')).map((o) => o.key)).toEqual(['k']);
    expect(readdirSync(root).sort()).toEqual(['.tmp-abandoned', 'k']);
  });

  it('puts a file by copying it, leaving the source in place and no temp file', async () => {
    const root = mkdtempSync(join(tmpdir(), 'heapstream-dirstore-'));
    const source = join(mkdtempSync(join(tmpdir(), 'heapstream-dirstore-src-')), 'part-0.parquet');
    const bytes = randomBytes(300_000);
    writeFileSync(source, bytes);
    const store = new DirectoryObjectStore(root);
    await store.putFile('date=2026-01-01/part-0.parquet', source);
    expect(Buffer.compare(readFileSync(join(root, 'date=2026-01-01/part-0.parquet')), bytes)).toBe(0);
    expect(existsSync(source)).toBe(true);
    expect(readdirSync(join(root, 'date=2026-01-01'))).toEqual(['part-0.parquet']);
    await expect(store.putFile('missing', join(root, 'no-such-file'))).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(readdirSync(root).sort()).toEqual(['date=2026-01-01']);
  });

  it('refuses keys that leave its directory', async () => {
    const store = new DirectoryObjectStore(mkdtempSync(join(tmpdir(), 'heapstream-dirstore-')));
    await expect(store.put('../escape', Buffer.from('x'))).rejects.toThrow(/leaves the store's directory/);
  });
});

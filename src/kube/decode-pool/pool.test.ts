import { afterAll, describe, expect, it } from 'vitest';
import { DecodeError } from '../../component/errors.js';
import { DecodeReport } from '../../model/decode-report.js';
import { moduleBeside } from './entry.js';
import { DecodePool } from './pool.js';

const pool = new DecodePool(1, {
  module: moduleBeside(import.meta.url, './testdata/test-decoder'),
  name: 'decodeForTest',
});
const limits = { maxSets: 100, what: '/stats/summary' };
const decode = (name: string, bytes = new Uint8Array(7)) =>
  pool.decode({ name }, bytes, new DecodeReport(), limits);

afterAll(() => pool.close());

describe('DecodePool', () => {
  it('decodes on a worker and gives the sets back', async () => {
    await pool.ready();
    const [set] = await decode('n1');
    expect(set?.key).toBe('node:n1');
    expect(set?.values.get('cpu/usage')).toBe(7);
  });

  it('rejects with the decoder’s own DecodeError, and names a bug as such', async () => {
    await expect(decode('bad')).rejects.toThrow(new DecodeError('no node section'));
    await expect(decode('bug')).rejects.toThrow('decode worker: not a function, as bugs go');
  });

  it('a worker that exits fails its request as a decode error, and the next request gets a new worker', async () => {
    const failed = decode('exits');
    await expect(failed).rejects.toBeInstanceOf(DecodeError);
    await expect(failed).rejects.toThrow('exited (code 3)');
    const [set] = await decode('n2', new Uint8Array(5));
    expect(set?.values.get('cpu/usage')).toBe(5);
  });

  it('copies the bytes it is given, a view, a pooled Buffer or a large one, and leaves the caller’s intact', async () => {
    const big = new Uint8Array(100);
    const view = big.subarray(10, 13);
    const pooled = Buffer.from('abcde'); // cut from Node's shared Buffer pool, which cannot be transferred
    const large = Buffer.alloc(100_000, 1);
    for (const [bytes, size] of [
      [view, 3],
      [pooled, 5],
      [large, 100_000],
    ] as const) {
      const [set] = await decode('n3', bytes);
      expect(set?.values.get('cpu/usage')).toBe(size);
      expect(bytes.byteLength).toBe(size);
    }
    expect(big.byteLength).toBe(100);
    expect(large.every((b) => b === 1)).toBe(true);
  });
});

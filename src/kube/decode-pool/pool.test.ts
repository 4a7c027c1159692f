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

  it('copies bytes that are a view into a larger buffer instead of moving the whole buffer', async () => {
    const big = new Uint8Array(100);
    const view = big.subarray(10, 13);
    const [set] = await decode('n3', view);
    expect(set?.values.get('cpu/usage')).toBe(3);
    expect(big.byteLength).toBe(100);
  });
});

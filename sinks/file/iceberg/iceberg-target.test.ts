import { describe, expect, it } from 'vitest';
import { icebergPartitionDir } from './iceberg-target.js';

describe('the staging directory of a row', () => {
  it('is the UTC day of its time and its set type, changing exactly at midnight', () => {
    const midnight = Date.UTC(2026, 11, 7);
    expect(icebergPartitionDir('pod', midnight - 1)).toBe('time_day=2026-12-06/type=pod');
    expect(icebergPartitionDir('pod', midnight)).toBe('time_day=2026-12-07/type=pod');
    expect(icebergPartitionDir('node', midnight - 1)).toBe('time_day=2026-12-06/type=node');
    expect(icebergPartitionDir('ns', 0)).toBe('time_day=1970-01-01/type=ns');
  });
});

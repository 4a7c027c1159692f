import { describe, expect, it } from 'vitest';
import { crc32c } from './crc32c.js';

// Check values from the CRC catalogue (CRC-32/ISCSI) and RFC 3720 appendix B.4.
describe('crc32c', () => {
  it('matches the catalogue check value for "123456789"', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
  });

  it('matches the RFC 3720 vectors', () => {
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i))).toBe(0x113fdb5c);
  });

  it('is 0 for nothing', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('gives the same value over a range, whatever the alignment, as over a copy of it', () => {
    const data = Buffer.from('the quick brown fox jumps over the lazy dog, twice over: the quick brown fox');
    for (let start = 0; start < 9; start++) {
      for (const end of [start, start + 1, start + 7, start + 8, start + 9, data.length]) {
        expect(crc32c(data, start, end)).toBe(crc32c(Buffer.from(data.subarray(start, end))));
      }
    }
  });

  it('chains: the CRC of a whole is the CRC of its second part seeded with that of the first', () => {
    const data = Buffer.from('123456789');
    expect(crc32c(data, 4, 9, crc32c(data, 0, 4))).toBe(0xe3069283);
  });

  it('changes when any one bit flips', () => {
    const data = Buffer.from('{"kind":"batch","cycle":1}');
    const clean = crc32c(data);
    for (let byte = 0; byte < data.length; byte++) {
      for (let bit = 0; bit < 8; bit++) {
        const flipped = Buffer.from(data);
        flipped[byte] = (flipped[byte] as number) ^ (1 << bit);
        expect(crc32c(flipped)).not.toBe(clean);
      }
    }
  });
});

import { describe, expect, it } from 'vitest';
import { GO_ZERO_TIME_MS, KubeletTimeParser, parseKubeletTime } from './time.js';

describe('parseKubeletTime', () => {
  it.each([
    ['2018-01-01T01:00:00Z', Date.parse('2018-01-01T01:00:00Z')],
    ['2018-01-01T01:00:00.5Z', Date.parse('2018-01-01T01:00:00Z') + 500],
    ['2018-01-01T01:00:00.000250Z', Date.parse('2018-01-01T01:00:00Z') + 0.25],
    ['2018-01-01t01:00:00z', Date.parse('2018-01-01T01:00:00Z')],
    ['2018-01-01T02:30:00+01:30', Date.parse('2018-01-01T01:00:00Z')],
    ['2017-12-31T23:00:00-02:00', Date.parse('2018-01-01T01:00:00Z')],
    ['2024-02-29T23:59:59Z', Date.parse('2024-02-29T23:59:59Z')],
    ['2000-02-29T00:00:00Z', Date.parse('2000-02-29T00:00:00Z')],
    ['1970-01-01T00:00:00Z', 0],
    ['0001-01-01T00:00:00Z', GO_ZERO_TIME_MS],
  ])('%s', (text, expected) => {
    expect(parseKubeletTime(text)).toBe(expected);
  });

  it('keeps nanoseconds as a fraction of a millisecond (to double precision)', () => {
    const ms = parseKubeletTime('2026-01-13T18:40:14.123456789Z') ?? 0;
    expect(Math.floor(ms)).toBe(Date.parse('2026-01-13T18:40:14.123Z'));
    expect(ms - Math.floor(ms)).toBeCloseTo(0.456789, 3);
  });

  it('matches Date.parse on every second of a leap day boundary sample', () => {
    for (let day = 0; day < 800; day += 7) {
      const ms = Date.UTC(2023, 0, 1) + day * 86_400_000 + day * 1_234_000;
      const text = new Date(ms).toISOString().replace('.000Z', 'Z');
      expect(parseKubeletTime(text), text).toBe(ms);
    }
  });

  it.each([
    [undefined],
    [null],
    [1514768400],
    [''],
    ['yesterday'],
    ['2018-01-01'],
    ['2018-01-01 01:00:00Z'],
    ['2018-01-01T01:00:00'],
    ['2018-01-01T01:00:00.Z'],
    ['2018-13-01T01:00:00Z'],
    ['2023-02-29T01:00:00Z'],
    ['2018-01-01T24:00:00Z'],
    ['2018-01-01T01:60:00Z'],
    ['2018-01-01T01:00:60Z'],
    ['2018-01-01T01:00:00+0100'],
    ['2018-01-01T01:00:00Zjunk'],
    ['2O18-01-01T01:00:00Z'],
  ])('rejects %j', (text) => {
    expect(parseKubeletTime(text)).toBeUndefined();
  });
});

describe('KubeletTimeParser', () => {
  it('returns the same values as parseKubeletTime, for repeated and alternating texts', () => {
    const parser = new KubeletTimeParser();
    const texts = ['2018-01-01T01:00:00Z', '2018-01-01T01:00:00Z', 'bad', 'bad', '2019-06-01T00:00:00.1Z'];
    for (const text of texts) expect(parser.parse(text)).toBe(parseKubeletTime(text));
  });
});

import { describe, expect, it } from 'vitest';
import { OffsetBook } from './offsets.js';

describe('OffsetBook', () => {
  it('commits up to the first message whose cycle is not delivered yet, whole cycles only', () => {
    const book = new OffsetBook();
    const c = (cycle: number) => ({ cluster: undefined, cycle });
    book.read('t', 0, 10, c(1));
    book.read('t', 0, 11, c(1));
    book.read('t', 0, 12, c(2));
    book.read('t', 0, 13); // a bad message: settled at once, but behind cycle 2
    book.read('t', 0, 14, c(1)); // a late batch of cycle 1
    expect(book.commits()).toEqual([]);
    book.delivered(undefined, 1);
    expect(book.commits()).toEqual([{ topic: 't', partition: 0, offset: '12' }]);
    expect(book.commits()).toEqual([]);
    book.delivered(undefined, 2);
    expect(book.commits()).toEqual([{ topic: 't', partition: 0, offset: '15' }]);
  });

  it('keeps clusters apart and partitions apart', () => {
    const book = new OffsetBook();
    book.read('t', 0, 5, { cluster: 'east', cycle: 3 });
    book.read('t', 1, 8, { cluster: 'west', cycle: 3 });
    book.delivered('west', 3);
    expect(book.commits()).toEqual([{ topic: 't', partition: 1, offset: '9' }]);
    book.keepOnly({ t: [1] });
    book.delivered('east', 3);
    expect(book.commits()).toEqual([]);
  });
});

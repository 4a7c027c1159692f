import { describe, expect, it } from 'vitest';
import { parseQuantity, parseResourceList } from './quantity.js';

describe('parseQuantity', () => {
  it('reads cpu in millicores and the rest in base units', () => {
    expect(parseQuantity('cpu', '250m')).toBe(250);
    expect(parseQuantity('cpu', '10')).toBe(10_000);
    expect(parseQuantity('cpu', '0.5')).toBe(500);
    expect(parseQuantity('memory', '64Mi')).toBe(64 * 1024 * 1024);
    expect(parseQuantity('memory', '16356452Ki')).toBe(16356452 * 1024);
    expect(parseQuantity('memory', '5M')).toBe(5_000_000);
    expect(parseQuantity('memory', '1e3')).toBe(1000);
    expect(parseQuantity('pods', '110')).toBe(110);
  });

  it('names the resource of a bad quantity', () => {
    expect(() => parseQuantity('memory', '12 bytes')).toThrow(
      /memory: "12 bytes" is not a Kubernetes quantity/,
    );
  });

  it('parses a resource list and ignores what is not a quantity', () => {
    expect(parseResourceList({ cpu: '100m', memory: '50Mi', junk: { a: 1 } })).toEqual({
      cpu: 100,
      memory: 50 * 1024 * 1024,
    });
    expect(parseResourceList(undefined)).toEqual({});
  });
});

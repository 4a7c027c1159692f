import { describe, expect, it } from 'vitest';
import { quantityValue, resourceList } from './quantity.js';

describe('Kubernetes quantities', () => {
  it('reads cpu in millicores and the rest in base units', () => {
    expect(quantityValue('cpu', '250m')).toBe(250);
    expect(quantityValue('cpu', '10')).toBe(10_000);
    expect(quantityValue('cpu', '0.5')).toBe(500);
    expect(quantityValue('cpu', 2)).toBe(2000);
    expect(quantityValue('memory', '64Mi')).toBe(64 * 1024 * 1024);
    expect(quantityValue('memory', '16356452Ki')).toBe(16356452 * 1024);
    expect(quantityValue('memory', '5M')).toBe(5_000_000);
    expect(quantityValue('memory', '1e3')).toBe(1000);
    expect(quantityValue('pods', '110')).toBe(110);
  });

  it('gives undefined for what is not a quantity', () => {
    expect(quantityValue('memory', '12 bytes')).toBeUndefined();
    expect(quantityValue('memory', { a: 1 })).toBeUndefined();
  });

  it('parses a resource list and leaves out what is not a quantity', () => {
    expect(resourceList({ cpu: '100m', memory: '50Mi', junk: { a: 1 } })).toEqual({
      cpu: 100,
      memory: 50 * 1024 * 1024,
    });
    expect(resourceList(undefined)).toEqual({});
  });
});

import { describe, expect, it } from 'vitest';
import { HeapstreamError } from '../component/errors.js';
import { nodeAddress } from './address.js';

describe('nodeAddress', () => {
  it('numbers nodes from 127.0.1.1, skipping .0 and .255, into the next octet', () => {
    expect(nodeAddress(0)).toBe('127.0.1.1');
    expect(nodeAddress(253)).toBe('127.0.1.254');
    expect(nodeAddress(254)).toBe('127.0.2.1');
    expect(nodeAddress(4999)).toBe('127.0.20.174');
  });

  it('gives 5,000 distinct addresses, none ending in .0 or .255', () => {
    const all = Array.from({ length: 5000 }, (_, i) => nodeAddress(i));
    expect(new Set(all).size).toBe(5000);
    expect(all.filter((a) => a.endsWith('.0') || a.endsWith('.255'))).toEqual([]);
  });

  it('continues from another first address', () => {
    expect(nodeAddress(0, '127.0.1.200')).toBe('127.0.1.200');
    expect(nodeAddress(60, '127.0.1.200')).toBe('127.0.2.6');
  });

  it('refuses to leave loopback or to start from a bad address', () => {
    expect(() => nodeAddress(300, '127.255.255.1')).toThrow(HeapstreamError);
    expect(() => nodeAddress(0, '10.0.0.1')).toThrow(/outside loopback/);
    expect(() => nodeAddress(0, '127.0.1.0')).toThrow(/\.0 or \.255/);
    expect(() => nodeAddress(0, 'localhost')).toThrow(/not an IPv4 address/);
  });
});

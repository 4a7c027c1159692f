import { describe, expect, it } from 'vitest';
import { cpuQuantity, goDuration, memoryQuantity } from './go-text.js';

// The texts Go gives: resource.Quantity's MarshalJSON → CanonicalizeBytes (apimachinery pkg/api/resource
// quantity.go, amount.go), of the quantities metrics-server builds in pkg/storage/types.go `resourceUsage`
// (NewScaledQuantity(nanocores, -9) DecimalSI; bytes BinarySI), and time.Duration.String() for metav1.Duration.
describe('cpuQuantity (DecimalSI at scale -9)', () => {
  it.each([
    [0, '0'],
    [100, '100n'],
    [123_456_789, '123456789n'],
    [1_000, '1u'],
    [1_500_000, '1500u'],
    [250_000_000, '250m'],
    [1_500_000_000, '1500m'],
    [2_000_000_000, '2'],
    [12_000_000_000, '12'],
    [10_000, '10u'],
  ])('%d nanocores is %s', (n, text) => {
    expect(cpuQuantity(n)).toBe(text);
  });
});

describe('memoryQuantity (BinarySI)', () => {
  it.each([
    [0, '0'],
    [512, '512'],
    // Below 1024 a BinarySI quantity is written as DecimalSI ("This avoids rounding and hopefully confusion").
    [1000, '1k'],
    [1020, '1020'],
    [1024, '1Ki'],
    [1536, '1536'],
    [1_263_616, '1234Ki'],
    [1_234_567, '1234567'],
    [2 ** 31, '2Gi'],
    [3 * 2 ** 40, '3Ti'],
  ])('%d bytes is %s', (n, text) => {
    expect(memoryQuantity(n)).toBe(text);
  });
});

describe('goDuration (time.Duration.String)', () => {
  it.each([
    [0, '0s'],
    [999, '999ns'],
    [1_500, '1.5µs'],
    [1_500_000, '1.5ms'],
    [500_000_000, '500ms'],
    [15_012_000_000, '15.012s'],
    [10_000_000_000, '10s'],
    [60_000_000_000, '1m0s'],
    [60_500_000_000, '1m0.5s'],
    [3_600_000_000_000, '1h0m0s'],
    [3_723_000_000_000, '1h2m3s'],
  ])('%d ns is %s', (n, text) => {
    expect(goDuration(n)).toBe(text);
  });
});

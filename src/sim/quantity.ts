import { HeapstreamError } from '../errors.js';

const SUFFIXES: Readonly<Record<string, number>> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([KMGTPE]i|[numkMGTPE]?)$/;

/**
 * Parses a Kubernetes resource quantity into heapstream's units: `cpu` in millicores, everything else in base
 * units (bytes, counts).
 *
 * @example
 * parseQuantity('cpu', '250m'); // 250
 * parseQuantity('memory', '64Mi'); // 67108864
 */
export function parseQuantity(resource: string, quantity: string | number): number {
  const text = String(quantity).trim();
  const match = QUANTITY.exec(text);
  const multiplier = match ? SUFFIXES[match[2] ?? ''] : undefined;
  if (!match || multiplier === undefined) {
    throw new HeapstreamError(`resource ${resource}: "${text}" is not a Kubernetes quantity`);
  }
  const value = Number(match[1]) * multiplier;
  return resource === 'cpu' ? Math.round(value * 1000) : Math.round(value);
}

/** Parses every quantity of a `requests`/`limits`/`capacity` map. */
export function parseResourceList(list: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (list === null || typeof list !== 'object') return out;
  for (const [resource, quantity] of Object.entries(list as Record<string, unknown>)) {
    if (typeof quantity === 'string' || typeof quantity === 'number') {
      out[resource] = parseQuantity(resource, quantity);
    }
  }
  return out;
}

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
 * Parses a Kubernetes resource quantity into heapstream's units (cpu in millicores, everything else in base
 * units), or undefined when it is not a quantity. Runs per object event, never per metric value.
 *
 * @example
 * quantityValue('cpu', '250m'); // 250
 * quantityValue('memory', '64Mi'); // 67108864
 */
export function quantityValue(resource: string, quantity: unknown): number | undefined {
  if (typeof quantity === 'number') return resource === 'cpu' ? Math.round(quantity * 1000) : quantity;
  if (typeof quantity !== 'string') return undefined;
  const match = QUANTITY.exec(quantity.trim());
  const multiplier = match ? SUFFIXES[match[2] ?? ''] : undefined;
  if (!match || multiplier === undefined) return undefined;
  const value = Number(match[1]) * multiplier;
  return resource === 'cpu' ? Math.round(value * 1000) : Math.round(value);
}

/** Parses a `requests`/`limits`/`capacity` map, dropping entries that are not quantities. */
export function resourceList(list: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  if (list === null || typeof list !== 'object') return out;
  for (const resource of Object.keys(list)) {
    const value = quantityValue(resource, (list as Record<string, unknown>)[resource]);
    if (value !== undefined) out[resource] = value;
  }
  return out;
}

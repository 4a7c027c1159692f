/**
 * A small seeded generator (mulberry32), so a simulated cluster with the same seed behaves the same on every run.
 *
 * @example
 * const rng = seededRandom(42, 7);
 * const cpuRate = logUniform(rng, 5e6, 8e8);
 */
export type Random = () => number;

/** A generator of floats in [0, 1) from a seed and a stream number (one stream per node keeps nodes independent). */
export function seededRandom(seed: number, stream = 0): Random {
  // Mix seed and stream so that neighbouring streams do not start from neighbouring states.
  let state = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul((stream | 0) + 0x632be5ab, 0x85ebca6b)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform in [min, max). */
export function uniform(rng: Random, min: number, max: number): number {
  return min + (max - min) * rng();
}

/** Log-uniform in [min, max): most values small, a few large, the way workloads are. `min` must be > 0. */
export function logUniform(rng: Random, min: number, max: number): number {
  return min * Math.exp(Math.log(max / min) * rng());
}

/** A random version-4 UUID drawn from the generator (deterministic for a seed, unlike crypto.randomUUID). */
export function seededUuid(rng: Random): string {
  let hex = '';
  for (let i = 0; i < 4; i++) {
    hex += Math.floor(rng() * 4294967296)
      .toString(16)
      .padStart(8, '0');
  }
  const variant = ((parseInt(hex.charAt(16), 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

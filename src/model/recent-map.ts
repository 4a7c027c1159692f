/** Lookups before the first generation ends; later generations last twice the entries seen in the one before. */
const MIN_GENERATION = 4096;

/**
 * A map of per-series state that forgets series no longer seen, without timestamps: entries not looked up for
 * about two cycles are dropped. Lookups go to a current generation; a hit in the previous one moves there; the
 * previous one is dropped once a generation has had twice as many lookups as the entries it started after. Used
 * by the caches that live as long as a component and are keyed by set key (series come and go with pods).
 *
 * @example
 * const seen = new RecentMap<Labels>();
 * seen.get(set.key) ?? seen.set(set.key, set.labels);
 */
export class RecentMap<V> {
  private current = new Map<string, V>();
  private previous = new Map<string, V>();
  private lookups = 0;
  private generationLength = MIN_GENERATION;

  get(key: string): V | undefined {
    if (++this.lookups > this.generationLength) this.nextGeneration();
    let value = this.current.get(key);
    if (value === undefined) {
      value = this.previous.get(key);
      if (value !== undefined) this.current.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.current.set(key, value);
  }

  /** Entries held: the current generation and what is left of the previous one (counted twice if in both). */
  get size(): number {
    return this.current.size + this.previous.size;
  }

  private nextGeneration(): void {
    this.previous = this.current;
    this.current = new Map();
    this.lookups = 0;
    this.generationLength = Math.max(MIN_GENERATION, 2 * this.previous.size);
  }
}

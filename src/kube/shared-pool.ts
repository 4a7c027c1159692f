/**
 * Shares equal immutable values (label maps, container lists, owner refs) between the objects that hold
 * them, counting references so a value is dropped when its last holder goes. With 150,000 pods made from a
 * few thousand templates, this is what keeps the metadata cache small.
 *
 * @example
 * const labels = pool.acquire(canonicalKey, () => Object.freeze({ ...raw }));
 * pool.release(labels); // when the pod is deleted or replaced
 */
export class SharedPool<T extends object> {
  private readonly byKey = new Map<string, { value: T; refs: number }>();
  private readonly byValue = new Map<T, string>();

  acquire(key: string, make: () => T): T {
    const entry = this.byKey.get(key);
    if (entry !== undefined) {
      entry.refs++;
      return entry.value;
    }
    const value = make();
    this.byKey.set(key, { value, refs: 1 });
    this.byValue.set(value, key);
    return value;
  }

  release(value: T): void {
    const key = this.byValue.get(value);
    if (key === undefined) return;
    const entry = this.byKey.get(key);
    if (entry === undefined) return;
    entry.refs--;
    if (entry.refs <= 0) {
      this.byKey.delete(key);
      this.byValue.delete(value);
    }
  }

  clear(): void {
    this.byKey.clear();
    this.byValue.clear();
  }

  get size(): number {
    return this.byKey.size;
  }
}

/** Returns one instance of each equal string, so thousands of pods share their namespace and node names. */
export class StringInterner {
  private readonly strings = new Map<string, string>();

  intern(text: string): string {
    const known = this.strings.get(text);
    if (known !== undefined) return known;
    this.strings.set(text, text);
    return text;
  }
}

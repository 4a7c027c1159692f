/**
 * A fresh copy of a plain record (labels, values) that the caller will add keys to.
 *
 * Why not `{ ...own }` or `{ ...own, key: value }`: on Node 20 (V8 11.3) an object made by a spread and then given
 * new keys costs about ten times more than one filled by `for…in` (≈ 3–11 µs against 0.3–1 µs per metric set
 * here; rate alone spent a seventh of the pipeline's CPU on it). Node 22+ made the spread fast, where this copy
 * costs about the same. It is one function so the hot paths share one well-warmed copy loop.
 *
 * @example
 * const labels = copyRecord(set.labels);
 * labels[LABEL.namespaceId] = ns.id;
 */
export function copyRecord<V>(own: Readonly<Record<string, V>>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const key in own) out[key] = own[key] as V;
  return out;
}

/**
 * `own` plus `added` (an added key replaces the same key of `own`), copied the way copyRecord copies.
 *
 * @example
 * const labels = copyRecordWith(hostLabels, { [LABEL.type]: 'pod' });
 */
export function copyRecordWith<V>(
  own: Readonly<Record<string, V>>,
  added: Readonly<Record<string, V>>,
): Record<string, V> {
  const out = copyRecord(own);
  for (const key in added) out[key] = added[key] as V;
  return out;
}

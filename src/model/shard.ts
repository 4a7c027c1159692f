/**
 * Which part of a cluster's nodes one sharded collector covered in a cycle: the partitions of the sharding
 * topic it held (`partitions`) out of how many there are (`of`). A node belongs to partition
 * `shardOf(name, of)`.
 */
export interface ShardCoverage {
  readonly partitions: readonly number[];
  readonly of: number;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/**
 * The partition a node belongs to: FNV-1a (32 bits) of the node name's UTF-8 bytes, modulo `partitions`. Stable
 * across processes, versions and platforms (no seed, no locale), so every collector replica and the second tier
 * agree on it without talking to each other. Documented in sources/kubelet-summary/README.md (sharding).
 *
 * @example
 * shardOf('node-17', 12) // always the same number in 0..11
 */
export function shardOf(node: string, partitions: number): number {
  let hash = FNV_OFFSET;
  const bytes = new TextEncoder().encode(node);
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME) >>> 0;
  }
  return hash % partitions;
}

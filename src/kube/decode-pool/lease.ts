import type { DecoderRef } from './protocol.js';
import { DecodePool } from './pool.js';

/** How long a pool no source uses is kept: a reload's new source takes over the old one's warm threads. */
const IDLE_CLOSE_MS = 10_000;

interface SharedPool {
  readonly pool: DecodePool;
  users: number;
  closing: NodeJS.Timeout | undefined;
}

const sharedPools = new Map<string, SharedPool>();

/**
 * A decode pool shared by the sources that use the same decoder with the same number of threads, released with
 * `release()`. The threads outlive a source by IDLE_CLOSE_MS, so a reload (a new source, often while the old one
 * finishes its cycle) finds them loaded and keeps each node's interned labels.
 *
 * @example
 * const lease = leaseDecodePool(2, decoderRef);
 * try { await lease.pool.ready(); … } finally { lease.release(); }
 */
export function leaseDecodePool(
  size: number,
  decoder: DecoderRef,
): { pool: DecodePool; release: () => void } {
  const key = `${decoder.module}#${decoder.name}#${size}`;
  let shared = sharedPools.get(key);
  if (shared === undefined) {
    shared = { pool: new DecodePool(size, decoder), users: 0, closing: undefined };
    sharedPools.set(key, shared);
  }
  const lease = shared;
  clearTimeout(lease.closing);
  lease.closing = undefined;
  lease.users++;
  let released = false;
  return {
    pool: lease.pool,
    release: () => {
      if (released) return;
      released = true;
      if (--lease.users > 0) return;
      lease.closing = setTimeout(() => {
        sharedPools.delete(key);
        void lease.pool.close();
      }, IDLE_CLOSE_MS);
      lease.closing.unref();
    },
  };
}

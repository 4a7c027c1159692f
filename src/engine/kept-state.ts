import type { Dispose } from '../component/component.js';
/** Releases a kept resource (stops a server, say) once no pipeline uses it any more. */

/**
 * State that outlives one pipeline: what a processor keeps here (rate's last samples) is handed to the pipeline
 * that replaces it on a config reload, so the first cycle after a reload still gets rates. A source may keep a
 * running resource too (the simulated cluster), with a `dispose` that stops it: it goes on across a reload while
 * the new pipeline claims it under the same key, and is disposed once no pipeline does.
 *
 * Each pipeline has its own KeptState, built from its predecessor's entries: a key the new pipeline does not
 * claim is dropped with the old pipeline (and disposed, if it has a `dispose`), so a processor removed from the
 * config leaves nothing behind. The supervisor starts the new pipeline only once the old one has scraped its last
 * cycle (its sinks may still be draining), so the state is never used by two pipelines at once.
 *
 * @example
 * const series = ctx.keep(`rate max_gap=${maxGapMs}`, () => perNodeState({ … }));
 * const cluster = ctx.keep(`simulated ${key}`, () => startCluster(), async (c) => (await c).stop());
 */
export class KeptState {
  private readonly entries = new Map<string, unknown>();
  /** How to release the resources among `entries`, and those claimed twice (not kept, but still owned). */
  private readonly disposers = new Map<string | symbol, () => Promise<void> | void>();
  /**
   * The predecessor's entries, not the predecessor itself: holding the KeptState would chain every pipeline since
   * start. At most one generation of unclaimed state stays reachable, until this pipeline is replaced.
   */
  private readonly handedOver: ReadonlyMap<string, unknown> | undefined;
  /** The predecessor's disposers: a claimed resource's moves here, so the predecessor no longer releases it. */
  private readonly handedOverDisposers: Map<string | symbol, () => Promise<void> | void> | undefined;
  private successorExpected = false;

  constructor(previous?: KeptState) {
    this.handedOver = previous?.entries;
    this.handedOverDisposers = previous?.disposers;
  }

  /**
   * The state the previous pipeline kept under `key`, or a new one from `create`. A key claimed twice in one
   * pipeline (two identical processors) gets a fresh state the second time rather than sharing one. `dispose`
   * releases a resource once no pipeline claims it any more (see `release`).
   */
  keep<S>(key: string, create: () => S, dispose?: Dispose<S>): S {
    if (this.entries.has(key)) {
      const fresh = create();
      if (dispose !== undefined) this.disposers.set(Symbol(key), () => dispose(fresh));
      return fresh;
    }
    if (this.handedOver?.has(key) === true) {
      const state = this.handedOver.get(key) as S;
      this.entries.set(key, state);
      const handedDispose = this.handedOverDisposers?.get(key);
      if (handedDispose !== undefined) {
        this.handedOverDisposers?.delete(key);
        this.disposers.set(key, handedDispose);
      }
      return state;
    }
    const state = create();
    this.entries.set(key, state);
    if (dispose !== undefined) this.disposers.set(key, () => dispose(state));
    return state;
  }

  /**
   * Marks that a successor (a reload) will claim what it wants from this state: the pipeline then leaves its
   * resources running when it ends, and whoever started the successor calls `release()` afterwards.
   */
  expectSuccessor(): void {
    this.successorExpected = true;
  }

  get hasSuccessor(): boolean {
    return this.successorExpected;
  }

  /** Disposes the resources no successor claimed (all of them when there is none). Idempotent. */
  async release(): Promise<void> {
    const disposers = [...this.disposers.values()];
    this.disposers.clear();
    await Promise.allSettled(disposers.map(async (dispose) => dispose()));
  }

  /** The keys kept, for tests and logs. */
  get keys(): readonly string[] {
    return [...this.entries.keys()];
  }
}

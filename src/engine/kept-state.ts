/**
 * State that outlives one pipeline: what a processor keeps here (rate's last samples) is handed to the pipeline
 * that replaces it on a config reload, so the first cycle after a reload still gets rates.
 *
 * Each pipeline has its own KeptState, built from its predecessor's entries: a key the new pipeline does not
 * claim is dropped with the old pipeline, so a processor removed from the config leaves nothing behind. The
 * supervisor starts the new pipeline only once the old one has scraped its last cycle (its sinks may still be
 * draining), so the state is never used by two pipelines at once.
 *
 * @example
 * const series = ctx.keep(`rate max_gap=${maxGapMs}`, () => perNodeState({ … }));
 */
export class KeptState {
  private readonly entries = new Map<string, unknown>();
  /**
   * The predecessor's entries, not the predecessor itself: holding the KeptState would chain every pipeline since
   * start. At most one generation of unclaimed state stays reachable, until this pipeline is replaced.
   */
  private readonly handedOver: ReadonlyMap<string, unknown> | undefined;

  constructor(previous?: KeptState) {
    this.handedOver = previous?.entries;
  }

  /**
   * The state the previous pipeline kept under `key`, or a new one from `create`. A key claimed twice in one
   * pipeline (two identical processors) gets a fresh state the second time rather than sharing one.
   */
  keep<S>(key: string, create: () => S): S {
    if (this.entries.has(key)) return create();
    const state = this.handedOver?.has(key) === true ? (this.handedOver.get(key) as S) : create();
    this.entries.set(key, state);
    return state;
  }

  /** The keys kept, for tests and logs. */
  get keys(): readonly string[] {
    return [...this.entries.keys()];
  }
}

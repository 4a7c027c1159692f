import type { Clock } from '../component/clock.js';
import type { Telemetry } from '../component/telemetry.js';

export interface HealthOptions {
  /** A cycle older than this means the pipeline is not keeping up (default 3 × resolution). */
  readonly maxCycleAgeMs: number;
  /** Share of expected nodes that must have answered the last cycle (0–1). */
  readonly minNodeShare: number;
  /** Every sink must have delivered within this window, once it has had something to deliver. */
  readonly sinkWindowMs: number;
  /** Longest the event loop may be silent before /livez fails. */
  readonly maxLoopStallMs: number;
}

export interface HealthReport {
  readonly ok: boolean;
  readonly checks: Readonly<Record<string, { ok: boolean; detail: string }>>;
}

/**
 * Honest health, read from the same telemetry that /metrics exports: unlike Heapster's /healthz, readiness
 * fails when nodes stop answering or a sink stops delivering.
 */
export class HealthChecker {
  private lastLoopBeat: number;

  constructor(
    private readonly telemetry: Telemetry,
    private readonly clock: Clock,
    /** The sinks to check; a function because a reload may change them. */
    private readonly sinks: () => readonly string[],
    private readonly options: HealthOptions,
  ) {
    this.lastLoopBeat = clock.now();
  }

  /** Called by a periodic timer: if the timer stops firing, the event loop is stuck. */
  beat(): void {
    this.lastLoopBeat = this.clock.now();
  }

  live(): HealthReport {
    const now = this.clock.now();
    const stall = now - this.lastLoopBeat;
    const loop = { ok: stall <= this.options.maxLoopStallMs, detail: `event loop last beat ${stall} ms ago` };
    const cycle = this.cycleAge(now);
    // Liveness tolerates slow cycles (readiness reports them); it fails only if the clock stopped entirely.
    const ticking = {
      ok: cycle === undefined || cycle <= this.options.maxCycleAgeMs * 4,
      detail: cycle === undefined ? 'no cycle finished yet' : `last cycle ended ${Math.round(cycle)} ms ago`,
    };
    return report({ event_loop: loop, cycles_ticking: ticking });
  }

  ready(): HealthReport {
    const now = this.clock.now();
    const t = this.telemetry;
    const age = this.cycleAge(now);
    const checks: Record<string, { ok: boolean; detail: string }> = {};
    checks.recent_cycle =
      age === undefined
        ? { ok: false, detail: 'no cycle has finished yet' }
        : {
            ok: age <= this.options.maxCycleAgeMs,
            detail: `last cycle ended ${Math.round(age)} ms ago (limit ${this.options.maxCycleAgeMs} ms)`,
          };
    const expected = t.value('heapstream_cycle_nodes_expected');
    const answered = t.value('heapstream_cycle_nodes_answered');
    const share = expected === 0 ? 0 : answered / expected;
    // None answering is never ready, whatever min_node_share allows: that cycle wrote nothing at all.
    checks.nodes_answering = {
      ok: expected > 0 && answered > 0 && share >= this.options.minNodeShare,
      detail:
        `${answered}/${expected} nodes answered the last cycle (need ${Math.round(this.options.minNodeShare * 100)}%` +
        `${answered === 0 && expected > 0 ? ', and at least one' : ''})`,
    };
    for (const sink of this.sinks()) {
      // A disk buffer nearly full is about to apply its when_full policy: worth a look before it does.
      const bufferMax = t.value('heapstream_buffer_max_bytes', { sink });
      if (bufferMax > 0) {
        const used = t.value('heapstream_buffer_bytes', { sink }) / bufferMax;
        checks[`buffer_${sink}`] = {
          ok: used <= BUFFER_READY_SHARE,
          detail: `disk buffer ${Math.round(used * 100)}% full (not ready above ${BUFFER_READY_SHARE * 100}%)`,
        };
      }
      const lastOk = t.value('heapstream_sink_last_success_timestamp_seconds', { sink }) * 1000;
      const queued = t.value('heapstream_sink_queue_batches', { sink });
      const failing =
        t.value('heapstream_sink_retries_total', { sink }) +
        t.value('heapstream_sink_failed_batches_total', { sink });
      if (lastOk === 0) {
        // A sink that has had nothing to deliver yet is not unhealthy; one that has tried and failed is.
        checks[`sink_${sink}`] = {
          ok: queued === 0 && failing === 0,
          detail:
            queued === 0 && failing === 0
              ? 'nothing delivered yet, nothing pending'
              : 'has not delivered yet',
        };
        continue;
      }
      const since = now - lastOk;
      checks[`sink_${sink}`] = {
        ok: since <= this.options.sinkWindowMs || queued === 0,
        detail: `last delivery ${Math.round(since)} ms ago, ${queued} batches queued`,
      };
    }
    return report(checks);
  }

  private cycleAge(now: number): number | undefined {
    const last = this.telemetry.value('heapstream_last_cycle_end_timestamp_seconds') * 1000;
    return last === 0 ? undefined : now - last;
  }
}

/** A sink's disk buffer fuller than this share of buffer.max_size makes /readyz fail. */
const BUFFER_READY_SHARE = 0.9;

function report(checks: Record<string, { ok: boolean; detail: string }>): HealthReport {
  return { ok: Object.values(checks).every((c) => c.ok), checks };
}

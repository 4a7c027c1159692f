import type { Telemetry } from '../../component/telemetry.js';
import type { SinkRow } from './wire.js';

export type { SinkRow } from './wire.js';

export const SINK_HISTORY_POINTS = 60;

/** Each sink's delivery, sampled from the engine's own counters once per cycle. */
export class SinkHealth {
  private readonly histories = new Map<string, number[]>();
  private readonly lastSent = new Map<string, { sent: number; at: number; rate: number }>();

  constructor(
    private readonly telemetry: Telemetry,
    private readonly sinkNames: () => readonly string[],
  ) {}

  sample(now: number): void {
    const names = this.sinkNames();
    for (const name of [...this.histories.keys()]) {
      if (!names.includes(name)) {
        this.histories.delete(name);
        this.lastSent.delete(name);
      }
    }
    for (const sink of names) {
      const history = this.histories.get(sink) ?? [];
      history.push(this.telemetry.value('heapstream_sink_queue_batches', { sink }));
      if (history.length > SINK_HISTORY_POINTS) history.shift();
      this.histories.set(sink, history);
      const sent = this.telemetry.value('heapstream_sink_batches_sent_total', { sink });
      const before = this.lastSent.get(sink);
      const seconds = before === undefined ? 0 : (now - before.at) / 1000;
      const rate = before === undefined || seconds <= 0 ? 0 : (sent - before.sent) / seconds;
      this.lastSent.set(sink, { sent, at: now, rate });
    }
  }

  view(): SinkRow[] {
    const t = this.telemetry;
    return this.sinkNames().map((sink) => ({
      name: sink,
      backlog: t.value('heapstream_sink_queue_batches', { sink }),
      backlogBytes: t.value('heapstream_sink_queue_bytes', { sink }),
      deliveredPerSecond: Math.round((this.lastSent.get(sink)?.rate ?? 0) * 100) / 100,
      delivered: t.value('heapstream_sink_batches_sent_total', { sink }),
      dropped: t.total('heapstream_sink_dropped_batches_total', { sink }),
      retries: t.value('heapstream_sink_retries_total', { sink }),
      failed: t.value('heapstream_sink_failed_batches_total', { sink }),
      backlogHistory: [...(this.histories.get(sink) ?? [])],
    }));
  }
}

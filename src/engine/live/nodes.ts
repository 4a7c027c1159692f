import { redact } from '../../component/redact.js';
import type { CycleEnd, NodeBatch } from '../../model/types.js';
import { valuesInBatch } from '../../model/count.js';
import { CPU, MEMORY, valueOf, type ReadValue } from './value.js';

export interface NodeRow {
  readonly name: string;
  /** Whether the node failed its last scrape. */
  failing: boolean;
  /** Scrapes failed in a row (0 once it answers). */
  failuresInRow: number;
  /** Ms from the cycle's tick until its batch left the processors: the scrape plus the queue before it. */
  answerMs: number | null;
  lastError: { reason: string; message: string; cycle: number } | null;
  sets: number;
  values: number;
  cpu: number | null;
  memory: number | null;
  lastCycle: number;
}

/** A node neither answering nor failing for this many cycles has left the cluster: its row goes. */
export const NODE_GONE_CYCLES = 10;
/** Rows one answer holds at most; the total says how many there are. */
export const MAX_NODE_ROWS = 100;

/** One row per node of the cluster: how its last scrape went. */
export class NodeTable {
  private readonly rows = new Map<string, NodeRow>();

  answered(batch: NodeBatch, now: number, read: ReadValue = valueOf): void {
    const row = this.row(batch.node);
    const node = batch.sets.find((s) => s.type === 'node');
    row.failing = false;
    row.failuresInRow = 0;
    row.answerMs = Math.max(0, Math.round(now - batch.timestamp));
    row.sets = batch.sets.length;
    row.values = valuesInBatch(batch);
    row.cpu = node === undefined ? null : (read(node, CPU) ?? null);
    row.memory = node === undefined ? null : (read(node, MEMORY) ?? null);
    row.lastCycle = batch.cycle;
  }

  cycleEnded(mark: CycleEnd): void {
    for (const f of mark.failures) {
      const row = this.row(f.node);
      row.failing = true;
      row.failuresInRow++;
      // Scrape errors quote URLs and response bodies: no credential a kubelet echoed reaches the page.
      row.lastError = { reason: f.reason, message: redact(f.message).slice(0, 300), cycle: mark.cycle };
      row.lastCycle = mark.cycle;
    }
    for (const [name, row] of this.rows)
      if (mark.cycle - row.lastCycle >= NODE_GONE_CYCLES) this.rows.delete(name);
  }

  get size(): number {
    return this.rows.size;
  }

  /** Failing nodes first (longest failing on top), then the slowest to answer; at most `limit`. */
  view(
    match: (node: string) => boolean,
    limit = MAX_NODE_ROWS,
  ): { rows: NodeRow[]; total: number; failing: number } {
    const all = [...this.rows.values()].filter((r) => match(r.name));
    all.sort(
      (a, b) =>
        Number(b.failing) - Number(a.failing) ||
        b.failuresInRow - a.failuresInRow ||
        (b.answerMs ?? 0) - (a.answerMs ?? 0) ||
        (a.name < b.name ? -1 : 1),
    );
    return { rows: all.slice(0, limit), total: all.length, failing: all.filter((r) => r.failing).length };
  }

  private row(name: string): NodeRow {
    let row = this.rows.get(name);
    if (row === undefined) {
      row = {
        name,
        failing: false,
        failuresInRow: 0,
        answerMs: null,
        lastError: null,
        sets: 0,
        values: 0,
        cpu: null,
        memory: null,
        lastCycle: 0,
      };
      this.rows.set(name, row);
    }
    return row;
  }
}

import { Writable } from 'node:stream';
import type { Pipeline } from '../engine/pipeline.js';
import type { CycleEnd, PipelineEvent } from '../model/types.js';
import { valuesInBatch } from '../model/count.js';

const LEVELS: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL',
};
const HIDDEN = new Set(['level', 'time', 'msg', 'service', 'pid', 'hostname']);

/**
 * Turns pino's JSON lines into `10:00:05 WARN  message  key=value` for people at a terminal; a log pipeline
 * (stderr not a terminal) keeps the JSON.
 */
export function readableLogStream(
  out: NodeJS.WriteStream,
  beforeLine: () => void = () => undefined,
): Writable {
  let pending = '';
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      pending += chunk.toString('utf8');
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        beforeLine();
        out.write(formatLogLine(line) + '\n');
      }
      done();
    },
  });
}

export function formatLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toISOString().slice(11, 19) : '--:--:--';
  const level = LEVELS[entry.level as number] ?? String(entry.level);
  const fields = Object.entries(entry)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${time} ${level} ${typeof entry.msg === 'string' ? entry.msg : ''}${fields ? '  ' + fields : ''}`;
}

/**
 * A live one-line status per cycle on a terminal: nodes ok/failed, sets, values/s, the slowest node, and each
 * sink's backlog. Log lines clear it first, so the two never garble each other.
 */
export class ProgressLine {
  private shown = false;
  private sets = 0;
  private values = 0;
  private lastCycleAt: number | undefined;

  constructor(
    private readonly out: NodeJS.WriteStream,
    private readonly pipeline: () => Pipeline | undefined,
  ) {}

  /** Erases the status line so a log line can take its place. */
  clear(): void {
    if (!this.shown) return;
    this.out.write('\r\x1b[2K');
    this.shown = false;
  }

  observe(event: PipelineEvent): void {
    if (event.kind === 'batch') {
      this.sets += event.sets.length;
      this.values += valuesInBatch(event);
      return;
    }
    this.render(event);
  }

  private render(mark: CycleEnd): void {
    const now = Date.now();
    const seconds = this.lastCycleAt === undefined ? undefined : (now - this.lastCycleAt) / 1000;
    this.lastCycleAt = now;
    const rate = seconds === undefined || seconds === 0 ? '' : ` (${Math.round(this.values / seconds)}/s)`;
    const pipeline = this.pipeline();
    const backlog =
      pipeline?.sinkNames
        .map(
          (s) =>
            `${s} ${pipeline.telemetry.value('heapstream_sink_queue_batches', { sink: s })}${onDisk(pipeline, s)}`,
        )
        .join(', ') ?? '';
    const failed = mark.nodesExpected - mark.nodesAnswered;
    const slowest =
      mark.slowest === undefined ? '' : ` · slowest ${mark.slowest.node} ${Math.round(mark.slowest.ms)} ms`;
    const line =
      `${new Date(mark.timestamp).toISOString().slice(11, 19)} nodes ${mark.nodesAnswered} ok` +
      `${failed > 0 ? `, ${failed} failed` : ''} · ${this.sets} sets · ${this.values} values${rate}` +
      `${slowest} · backlog ${backlog}`;
    this.clear();
    this.out.write(line.slice(0, Math.max(20, (this.out.columns ?? 120) - 1)));
    this.shown = true;
    this.sets = 0;
    this.values = 0;
  }
}

/** ` (disk 12.5 MB)` for a sink buffered on disk: the bytes its buffer holds; nothing for a memory queue. */
function onDisk(pipeline: Pipeline, sink: string): string {
  if (pipeline.telemetry.value('heapstream_buffer_max_bytes', { sink }) === 0) return '';
  const bytes = pipeline.telemetry.value('heapstream_buffer_bytes', { sink });
  return ` (disk ${(bytes / 1e6).toFixed(1)} MB)`;
}

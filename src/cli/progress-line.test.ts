import { describe, expect, it } from 'vitest';
import { Telemetry } from '../component/telemetry.js';
import type { Pipeline } from '../engine/pipeline.js';
import { ProgressLine } from './terminal.js';

describe('the status line', () => {
  it('shows each sink’s backlog, and the bytes of a disk buffer', () => {
    const telemetry = new Telemetry();
    telemetry.gauge('heapstream_sink_queue_batches', { sink: 'lake' }).set(3);
    telemetry.gauge('heapstream_sink_queue_batches', { sink: 'tsdb' }).set(120);
    telemetry.gauge('heapstream_buffer_max_bytes', { sink: 'tsdb' }).set(256 * 1024 * 1024);
    telemetry.gauge('heapstream_buffer_bytes', { sink: 'tsdb' }).set(12_345_678);
    const written: string[] = [];
    const out = {
      columns: 400,
      write: (text: string) => written.push(text),
    } as unknown as NodeJS.WriteStream;
    const pipeline = { sinkNames: ['lake', 'tsdb'], telemetry } as unknown as Pipeline;
    const line = new ProgressLine(out, () => pipeline);
    line.observe({
      kind: 'cycle_end',
      cycle: 1,
      timestamp: 0,
      nodesExpected: 1,
      nodesAnswered: 1,
      failures: [],
      durationMs: 1,
    });
    expect(written.at(-1)).toMatch(/ · backlog lake 3, tsdb 120 \(disk 12\.3 MB\)$/);
  });
});

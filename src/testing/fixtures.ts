import { readFileSync } from 'node:fs';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import type { CycleEnd, NodeBatch } from '../model/types.js';

/**
 * A node batch decoded from a saved `/stats/summary` payload, as the kubelet_summary source would emit it.
 *
 * @example
 * const batch = summaryBatch('fixtures/kubelet/nri-1.34/stats-summary.json', { node: 'n1', cycle: 1 });
 */
export function summaryBatch(
  path: string | URL,
  options: { node?: string; cycle?: number; timestamp?: number } = {},
): NodeBatch {
  const payload: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const node = options.node ?? 'node-1';
  return {
    kind: 'batch',
    scope: 'node',
    node,
    cycle: options.cycle ?? 1,
    timestamp: options.timestamp ?? (options.cycle ?? 1) * 15_000,
    sets: decodeSummary(payload, { name: node }),
  };
}

/** The end mark of a cycle in which every one of `nodes` answered. */
export function cycleEnd(cycle: number, nodes: number, timestamp = cycle * 15_000): CycleEnd {
  return {
    kind: 'cycle_end',
    cycle,
    timestamp,
    nodesExpected: nodes,
    nodesAnswered: nodes,
    failures: [],
    durationMs: 0,
  };
}

import { readFileSync } from 'node:fs';
import { decodeSummary } from '../../sources/kubelet-summary/decode.js';
import type { CycleEnd, MetricSet, NodeBatch, NodeFailure } from '../model/types.js';

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

/**
 * A node batch of the given sets, as a source would emit it (timestamp: 15 s per cycle unless given).
 *
 * @example
 * nodeBatch('node-1', 1, [nodeSet('node-1', { values: { 'cpu/usage': 1e9 } })])
 */
export function nodeBatch(
  node: string,
  cycle: number,
  sets: readonly MetricSet[],
  timestamp = cycle * 15_000,
): NodeBatch {
  return { kind: 'batch', scope: 'node', node, cycle, timestamp, sets };
}

/**
 * The end mark of a cycle: `nodes` expected, all of them answered except those in `failures`.
 *
 * @example
 * cycleEnd(2, 3, { failures: [{ node: 'n3', reason: 'timeout', message: 'no answer in 5s' }] })
 */
export function cycleEnd(
  cycle: number,
  nodes: number,
  options: { readonly failures?: readonly NodeFailure[]; readonly timestamp?: number } = {},
): CycleEnd {
  const failures = options.failures ?? [];
  return {
    kind: 'cycle_end',
    cycle,
    timestamp: options.timestamp ?? cycle * 15_000,
    nodesExpected: nodes,
    nodesAnswered: nodes - failures.length,
    failures,
    durationMs: 0,
  };
}

import { isPlainObject } from './plain-object.js';
import { readSetJson } from './set-json.js';
import type { ShardCoverage } from './shard.js';
import type { CycleEnd, MetricSet, NodeFailure, ScrapeFailureReason } from './types.js';

/**
 * Version of the Kafka `batch` format's messages (field `v`). A reader refuses a higher version (written by a
 * newer heapstream: it cannot know what changed) and reads a message without `v` (written before the field
 * existed) as a batch of version 1.
 */
export const BATCH_MESSAGE_VERSION = 1;

/** One part of a batch, as the Kafka sink's `batch` format carries it (see sinks/kafka/README.md). */
export interface BatchPartMessage {
  readonly kind: 'batch';
  readonly scope: 'node' | 'cluster';
  readonly time: number;
  readonly cluster?: string;
  /** Present when scope is node. */
  readonly node?: string;
  readonly cycle: number;
  readonly part: number;
  readonly parts: number;
  readonly sets: readonly MetricSet[];
}

export interface CycleEndMessage {
  readonly kind: 'cycle_end';
  readonly mark: CycleEnd;
}

export type BatchFormatMessage = BatchPartMessage | CycleEndMessage;

const REASONS: readonly ScrapeFailureReason[] = [
  'timeout',
  'http_status',
  'connection',
  'tls',
  'decode',
  'too_large',
  'busy',
];

/**
 * A cycle's end as a `batch` format message: its counts, its failures and the nodes this process covered, so a
 * reader can tell which nodes a cycle should hold and which producer covered them. Once per cycle, so plain
 * JSON.stringify (snake_case fields, as in the batch messages).
 *
 * @example
 * cycleEndMessage(mark, '2026-11-28T10:00:00.000Z') // '{"v":1,"kind":"cycle_end","time":"…","cycle":42,…}'
 */
export function cycleEndMessage(mark: CycleEnd, time: string): string {
  return JSON.stringify({
    v: BATCH_MESSAGE_VERSION,
    kind: 'cycle_end',
    time,
    ...(mark.cluster === undefined ? {} : { cluster: mark.cluster }),
    cycle: mark.cycle,
    nodes_expected: mark.nodesExpected,
    nodes_answered: mark.nodesAnswered,
    failures: mark.failures,
    ...(mark.nodes === undefined ? {} : { nodes: mark.nodes }),
    ...(mark.shard === undefined ? {} : { shard: { partitions: mark.shard.partitions, of: mark.shard.of } }),
    duration_ms: mark.durationMs,
  });
}

/**
 * A `batch` format message's text, parsed and checked: a part of a node or cluster batch (its sets read with
 * readSetJson) or a cycle end. Throws, saying what is wrong, on anything else.
 *
 * @example
 * const message = readBatchMessage(kafkaMessage.value.toString('utf8'));
 */
export function readBatchMessage(text: string): BatchFormatMessage {
  const value: unknown = JSON.parse(text);
  if (!isPlainObject(value)) throw new Error('the message is not a JSON object');
  const version = value.v ?? 1;
  if (version !== BATCH_MESSAGE_VERSION)
    throw new Error(`format version ${JSON.stringify(version)} is not known here (this reader knows 1)`);
  const kind = value.kind ?? 'batch';
  const { time, cycle, cluster } = value;
  if (typeof time !== 'string' || Number.isNaN(Date.parse(time))) throw new Error('no valid time');
  if (!isCount(cycle)) throw new Error('no valid cycle');
  if (cluster !== undefined && typeof cluster !== 'string') throw new Error('cluster is not a string');
  const named = cluster === undefined ? {} : { cluster };
  if (kind === 'cycle_end')
    return { kind, mark: { ...readCycleEnd(value, cycle, Date.parse(time)), ...named } };
  if (kind !== 'batch') throw new Error(`unknown kind ${JSON.stringify(kind)}`);
  const { scope, node, part, parts, sets } = value;
  if (scope !== 'node' && scope !== 'cluster') throw new Error(`unknown scope ${String(scope)}`);
  if (scope === 'node' && typeof node !== 'string') throw new Error('a node batch without a node');
  if (!isCount(part) || !isCount(parts) || part >= parts) throw new Error('no valid part/parts');
  if (!Array.isArray(sets)) throw new Error('sets is not a list');
  return {
    kind,
    scope,
    time: Date.parse(time),
    ...named,
    ...(scope === 'node' ? { node: node as string } : {}),
    cycle,
    part,
    parts,
    sets: (sets as unknown[]).map((set) => readSetJson(set, time)),
  };
}

function readCycleEnd(value: Record<string, unknown>, cycle: number, timestamp: number): CycleEnd {
  const { nodes_expected, nodes_answered, failures, nodes, shard, duration_ms } = value;
  if (!isCount(nodes_expected) || !isCount(nodes_answered)) throw new Error('no valid node counts');
  if (!Array.isArray(failures)) throw new Error('failures is not a list');
  const read: NodeFailure[] = (failures as unknown[]).map((f) => {
    if (
      !isPlainObject(f) ||
      typeof f.node !== 'string' ||
      typeof f.message !== 'string' ||
      !REASONS.includes(f.reason as ScrapeFailureReason)
    )
      throw new Error('a failure is not { node, reason, message }');
    return { node: f.node, reason: f.reason as ScrapeFailureReason, message: f.message };
  });
  if (nodes !== undefined && !(Array.isArray(nodes) && nodes.every((n) => typeof n === 'string')))
    throw new Error('nodes is not a list of names');
  const coverage = shard === undefined ? undefined : readShard(shard);
  return {
    kind: 'cycle_end',
    cycle,
    timestamp,
    nodesExpected: nodes_expected,
    nodesAnswered: nodes_answered,
    failures: read,
    ...(nodes === undefined ? {} : { nodes }),
    ...(coverage === undefined ? {} : { shard: coverage }),
    durationMs: typeof duration_ms === 'number' ? duration_ms : 0,
  };
}

function readShard(value: unknown): ShardCoverage {
  if (!isPlainObject(value)) throw new Error('shard is not { partitions, of }');
  const { partitions, of } = value;
  if (!isCount(of) || of === 0) throw new Error('shard.of is not a positive count');
  if (!Array.isArray(partitions) || !partitions.every((p) => isCount(p) && p < of))
    throw new Error('shard.partitions is not a list of partitions below shard.of');
  return { partitions: partitions as number[], of };
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

import { describe, expect, it } from 'vitest';
import type { BatchFormatMessage, BatchPartMessage } from '../../src/model/batch-message.js';
import type { CycleEnd, NodeBatch, PipelineEvent } from '../../src/model/types.js';
import { cycleEnd } from '../../src/testing/fixtures.js';
import { podSet } from '../../src/testing/sets.js';
import { shardOf } from '../../src/model/shard.js';
import { CycleAssembler, type Outcome } from './assembler.js';

function part(node: string, cycle: number, index: number, parts: number, cluster?: string): BatchPartMessage {
  return {
    kind: 'batch',
    scope: 'node',
    node,
    cycle,
    time: cycle * 15_000,
    part: index,
    parts,
    ...(cluster === undefined ? {} : { cluster }),
    sets: [podSet('ns1', `${node}-p${index}`, node)],
  };
}

function mark(cycle: number, nodes: string[], failed: string[] = [], cluster?: string): BatchFormatMessage {
  const failures = failed.map((node) => ({ node, reason: 'timeout' as const, message: 'no answer' }));
  const end: CycleEnd = {
    ...cycleEnd(cycle, nodes.length, { failures }),
    nodes,
    ...(cluster === undefined ? {} : { cluster }),
  };
  return { kind: 'cycle_end', mark: end };
}

/** Feeds messages; returns what was emitted, as short names (n1@3 a node batch, end3 a mark), and the outcomes. */
function feed(messages: BatchFormatMessage[]): {
  names: string[];
  events: PipelineEvent[];
  outcomes: Outcome[];
} {
  const events: PipelineEvent[] = [];
  const assembler = new CycleAssembler((event) => events.push(event));
  const outcomes = messages.map((m) => assembler.accept(m));
  const names = events.map((e) =>
    e.kind === 'cycle_end'
      ? `end${e.cycle}${e.cluster === undefined ? '' : '/' + e.cluster}`
      : `${e.scope === 'node' ? e.node : 'cluster'}@${e.cycle}${e.cluster === undefined ? '' : '/' + e.cluster}`,
  );
  return { names, events, outcomes };
}

describe('CycleAssembler', () => {
  it('emits a node batch once all its parts are in, sets in part order, a part sent twice counted once', () => {
    const { names, events, outcomes } = feed([
      part('a', 1, 1, 2),
      part('b', 1, 0, 1),
      part('a', 1, 1, 2),
      part('a', 1, 0, 2),
      part('a', 1, 0, 2),
      mark(1, ['a', 'b']),
    ]);
    expect(names).toEqual(['b@1', 'a@1', 'end1']);
    expect(outcomes).toEqual(['part', 'batch', 'duplicate', 'batch', 'duplicate', 'mark']);
    const a = events[1] as NodeBatch;
    expect(a.sets.map((s) => s.key)).toEqual(['namespace:ns1/pod:a-p0', 'namespace:ns1/pod:a-p1']);
    expect(events[2]).toMatchObject({ nodesExpected: 2, nodesAnswered: 2, nodes: ['a', 'b'] });
  });

  it('holds a mark that came before its batches (another partition) until every answered node is in', () => {
    const { names, events } = feed([
      mark(1, ['a', 'b', 'c'], ['c']),
      part('a', 1, 0, 1),
      part('b', 1, 0, 1),
      part('a', 2, 0, 1),
    ]);
    expect(names).toEqual(['a@1', 'b@1', 'end1', 'a@2']);
    expect(events[2]).toMatchObject({ nodesExpected: 3, nodesAnswered: 2, failures: [{ node: 'c' }] });
  });

  it('closes a cycle still waiting for a batch when a later one closes, saying how many nodes came', () => {
    const { names, events } = feed([
      part('a', 1, 0, 1),
      mark(1, ['a', 'b']),
      part('a', 2, 0, 1),
      part('b', 2, 0, 1),
      mark(2, ['a', 'b']),
      part('b', 1, 0, 1),
    ]);
    expect(names).toEqual(['a@1', 'a@2', 'b@2', 'end1', 'end2', 'b@1']);
    expect(events[3]).toMatchObject({ cycle: 1, nodesExpected: 2, nodesAnswered: 1 });
    expect(events[4]).toMatchObject({ cycle: 2, nodesExpected: 2, nodesAnswered: 2 });
  });

  it('passes on a batch that comes after its cycle closed, as late, and ignores a mark sent again', () => {
    const { names, outcomes } = feed([
      part('a', 1, 0, 1),
      mark(1, ['a']),
      mark(1, ['a']),
      part('a', 1, 0, 1),
      part('z', 1, 0, 1),
    ]);
    expect(names).toEqual(['a@1', 'end1', 'z@1']);
    expect(outcomes).toEqual(['batch', 'mark', 'late', 'duplicate', 'late']);
  });

  it('keeps clusters apart: the same node and cycle in two clusters are two batches, each closed by its own mark', () => {
    const { names } = feed([
      part('a', 1, 0, 1, 'east'),
      part('a', 1, 0, 1, 'west'),
      mark(1, ['a', 'b'], [], 'west'),
      mark(1, ['a'], [], 'east'),
      part('b', 1, 0, 1, 'west'),
    ]);
    expect(names).toEqual(['a@1/east', 'a@1/west', 'end1/east', 'b@1/west', 'end1/west']);
  });
});

/** A sharded collector's mark: the nodes of `partitions` (of `of`) among `all`, all answered. */
function shardMark(cycle: number, all: string[], partitions: number[], of: number): BatchFormatMessage {
  const nodes = all.filter((n) => partitions.includes(shardOf(n, of)));
  return {
    kind: 'cycle_end',
    mark: { ...cycleEnd(cycle, nodes.length), nodes, shard: { partitions, of } },
  };
}

describe('CycleAssembler with sharded collectors', () => {
  // Eight node names and the partition (of 2) each hashes to.
  const all = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7', 'n8'];
  const inPartition = (p: number) => all.filter((n) => shardOf(n, 2) === p);
  const batches = (cycle: number, nodes: string[]) => nodes.map((n) => part(n, cycle, 0, 1));

  it('closes a cycle once the marks cover every partition, with one mark merged from them', () => {
    expect(inPartition(0).length).toBeGreaterThan(0);
    expect(inPartition(1).length).toBeGreaterThan(0);
    const events: PipelineEvent[] = [];
    const assembler = new CycleAssembler((e) => events.push(e));
    for (const m of batches(1, all)) assembler.accept(m);
    assembler.accept(shardMark(1, all, [0], 2));
    expect(events.filter((e) => e.kind === 'cycle_end')).toEqual([]);
    assembler.accept(shardMark(1, all, [1], 2));
    const end = events.at(-1) as CycleEnd;
    expect(end).toMatchObject({ kind: 'cycle_end', cycle: 1, nodesExpected: 8, nodesAnswered: 8 });
    expect(end.shard).toEqual({ partitions: [0, 1], of: 2 });
    expect([...(end.nodes ?? [])].sort()).toEqual(all);
  });

  it('counts a node two replicas covered in a rebalance once', () => {
    const events: PipelineEvent[] = [];
    const assembler = new CycleAssembler((e) => events.push(e));
    for (const m of batches(1, all)) assembler.accept(m);
    assembler.accept(shardMark(1, all, [0], 2));
    assembler.accept(shardMark(1, all, [0, 1], 2));
    expect(events.at(-1)).toMatchObject({ nodesExpected: 8, nodesAnswered: 8 });
  });

  it('closes a cycle missing a shard at its deadline as incomplete: expected counts the missing nodes, answered what came', () => {
    let now = 0;
    const events: PipelineEvent[] = [];
    const incomplete: { cycle: number; missing: readonly number[] }[] = [];
    const assembler = new CycleAssembler((e) => events.push(e), {
      now: () => now,
      deadlineMs: 1_000,
      incomplete: (mark, missing) => incomplete.push({ cycle: mark.cycle, missing }),
    });
    // Cycle 1 complete; in cycle 2 the replica holding partition 1 is gone.
    for (const m of batches(1, all)) assembler.accept(m);
    assembler.accept(shardMark(1, all, [0], 2));
    assembler.accept(shardMark(1, all, [1], 2));
    now = 5_000;
    for (const m of batches(2, inPartition(0))) assembler.accept(m);
    assembler.accept(shardMark(2, all, [0], 2));
    now = 5_999;
    assembler.expire();
    expect(events.filter((e) => e.kind === 'cycle_end')).toHaveLength(1);
    now = 6_000;
    assembler.expire();
    const end = events.at(-1) as CycleEnd;
    expect(end).toMatchObject({
      cycle: 2,
      nodesExpected: all.length,
      nodesAnswered: inPartition(0).length,
      shard: { partitions: [0], of: 2 },
    });
    expect(incomplete).toEqual([{ cycle: 2, missing: [1] }]);
  });
});

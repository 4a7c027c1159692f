import { connect } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { SimulatedNode } from './cluster.js';
import { runSimulatorProcess } from './process.js';

function firstLines(stream: PassThrough, count: number): Promise<string[]> {
  return new Promise((resolve) => {
    let text = '';
    stream.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const lines = text.split('\n').filter(Boolean);
      if (lines.length >= count) resolve(lines);
    });
  });
}

function refused(node: SimulatedNode): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(node.port, node.address, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

describe('runSimulatorProcess', () => {
  it('prints the nodes as JSON lines, serves them, and stops when told', async () => {
    const stdout = new PassThrough();
    const abort = new AbortController();
    const lines = firstLines(stdout, 2);
    const running = runSimulatorProcess({ nodes: 2, podsPerNode: 3 }, { stdout, signal: abort.signal });
    const nodes = (await lines).map((line) => JSON.parse(line) as SimulatedNode);
    expect(nodes.map((n) => [n.name, n.address])).toEqual([
      ['sim-node-001', '127.0.1.1'],
      ['sim-node-002', '127.0.1.2'],
    ]);
    const response = await fetch(`http://${nodes[1]!.address}:${nodes[1]!.port}/stats/summary`);
    const summary = (await response.json()) as { node: { nodeName: string }; pods: unknown[] };
    expect(summary.node.nodeName).toBe('sim-node-002');
    expect(summary.pods).toHaveLength(3);
    abort.abort();
    await running;
    expect(await refused(nodes[0]!)).toBe(true);
  });
});

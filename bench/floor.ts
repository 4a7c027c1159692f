import { Agent, request } from 'undici';
import type { NodeTarget } from '../src/component/node-target.js';

export interface Floor {
  readonly nodes: number;
  /** Bytes of one cycle: every node's payload once. */
  readonly bytes: number;
  /** CPU seconds of JSON.parse alone over those bytes (decoded to strings first); per payload, median of three. */
  readonly parseCpuSeconds: number;
}

const FETCHES_IN_FLIGHT = 8;
/**
 * One parse per payload let a young-generation GC that happened to fall inside it, or not, move a size's floor by
 * a fifth between runs (5,000 × 30: 3.07 and 3.81 s on two days with the same pipeline CPU); the median of three
 * parses, each of a fresh string, is steadier.
 */
const PARSES_PER_PAYLOAD = 3;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

/**
 * The cost no decoder of this JSON can avoid: fetches every node's /stats/summary once and measures the CPU time
 * of `JSON.parse` on each body (the median of three parses of fresh strings), nothing else (the fetch and the
 * UTF-8 decoding are outside the measured span).
 *
 * @example
 * const floor = await measureParseFloor(nodes, '/stats/summary');
 */
export async function measureParseFloor(nodes: readonly NodeTarget[], path: string): Promise<Floor> {
  const agent = new Agent({ connections: 1 });
  let bytes = 0;
  let cpuMicros = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < nodes.length) {
      const node = nodes[next++]!;
      const response = await request(`http://${node.address}:${node.port}${path}`, { dispatcher: agent });
      // Bytes, then a fresh flat string per parse, as the kubelet client makes one: JSON.parse of a string that
      // undici built from chunks would also pay for flattening it, and a second parse of one string is warmer.
      const body = Buffer.from(await response.body.arrayBuffer());
      bytes += body.length;
      const runs: number[] = [];
      for (let run = 0; run < PARSES_PER_PAYLOAD; run++) {
        const text = body.toString('utf8');
        const before = process.cpuUsage();
        const parsed: unknown = JSON.parse(text);
        const spent = process.cpuUsage(before);
        runs.push(spent.user + spent.system);
        if (parsed === null) throw new Error(`node ${node.name}: empty payload`);
      }
      cpuMicros += median(runs);
    }
  };
  try {
    await Promise.all(Array.from({ length: FETCHES_IN_FLIGHT }, worker));
  } finally {
    await agent.close();
  }
  return { nodes: nodes.length, bytes, parseCpuSeconds: cpuMicros / 1e6 };
}

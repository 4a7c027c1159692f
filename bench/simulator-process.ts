import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { NodeTarget } from '../src/component/node-target.js';

/** A simulator running in its own process, so that its CPU is not the pipeline's and can be measured apart. */
export interface SimulatorProcess {
  readonly pid: number | undefined;
  readonly nodes: readonly NodeTarget[];
  /** Sends SIGTERM and waits for the process to exit. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts bench/simulator.ts in a child Node process (tsx loaded with --import, so the pid is the simulator's own
 * and /proc/<pid>/stat gives its CPU) and resolves once it has printed every node.
 *
 * @example
 * const sim = await startSimulatorProcess({ nodes: 100, podsPerNode: 30, seed: 1 });
 * await sim.stop();
 */
export async function startSimulatorProcess(options: {
  nodes: number;
  podsPerNode: number;
  seed: number;
}): Promise<SimulatorProcess> {
  const script = fileURLToPath(new URL('./simulator.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', script, String(options.nodes), String(options.podsPerNode), String(options.seed)],
    // stdin stays open and unwritten: the simulator exits when it ends, which happens when this process does.
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = once(child, 'exit');
  try {
    const nodes = await readNodes(child, options.nodes, exited);
    let stopped: Promise<void> | undefined;
    return {
      pid: child.pid,
      nodes,
      stop: () => (stopped ??= stopChild(child, exited)),
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

async function readNodes(
  child: ChildProcess,
  expected: number,
  exited: Promise<unknown[]>,
): Promise<NodeTarget[]> {
  const nodes: NodeTarget[] = [];
  const lines = createInterface({ input: child.stdout! });
  // Resolves (never rejects) so that a later, normal exit is not an unhandled rejection.
  const early = exited.then(([code]) => code as number | null);
  const reading = (async () => {
    for await (const line of lines) {
      if (line.trim() === '') continue;
      const node = JSON.parse(line) as NodeTarget;
      nodes.push({ name: node.name, address: node.address, port: node.port });
      if (nodes.length === expected) break;
    }
    return nodes;
  })();
  // A simulator builds and binds about 1,000 nodes a second; far beyond that, something is wrong.
  const limitMs = 60_000 + expected * 20;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), limitMs)));
  const first = await Promise.race([reading, early, late]).finally(() => clearTimeout(timer));
  if (first === 'late') {
    throw new Error(
      `the simulator printed ${nodes.length}/${expected} nodes in ${limitMs / 1000} s; giving up`,
    );
  }
  if (!Array.isArray(first)) {
    throw new Error(
      `the simulator exited (code ${String(first)}) after printing ${nodes.length}/${expected} nodes`,
    );
  }
  return first;
}

async function stopChild(child: ChildProcess, exited: Promise<unknown[]>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

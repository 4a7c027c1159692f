import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// The real `heapstream run` in a child process, over the simulated cluster: what a user sees on exit.
const repo = join(import.meta.dirname, '..');
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'heapstream-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function pipelineFile(name: string, sinks: string, nodes = 3): Promise<string> {
  const file = join(dir, name);
  const yaml =
    'resolution: 1s\nsource:\n  type: kubelet_summary\n  scheme: http\n' +
    `  discovery: { simulated: { nodes: ${nodes}, pods_per_node: 10, first_address: 127.0.19.1 } }\n` +
    `sinks:\n${sinks}`;
  await writeFile(file, yaml);
  return file;
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** stderr's pino lines at warn level or above. */
  readonly problems: string[];
}

/** Runs the CLI; `onStdout` sees each chunk of its output and may act on the child (close the pipe, signal it). */
function heapstream(
  args: readonly string[],
  onStdout: (chunk: string, child: ReturnType<typeof spawn>) => void = () => undefined,
): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: repo,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    onStdout(chunk, child);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => {
    child.on('close', (code) => {
      const problems = stderr
        .split('\n')
        .filter((line) => line.startsWith('{') && (JSON.parse(line) as { level: number }).level >= 40);
      resolve({ code, stdout, stderr, problems });
    });
  });
}

/** An InfluxDB that refuses every write for good (400), or is down for now (503: retried until shutdown). */
async function fakeInflux(answer: 400 | 503): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(answer).end(answer === 400 ? '{"error":"unable to parse"}' : 'down');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('heapstream run', () => {
  it('ends quietly, with exit code 0, when the reader of its JSON lines closes the pipe (`| head -3`)', async () => {
    const file = await pipelineFile('head.yaml', '  out: { type: stdout, format: jsonl }\n', 12);
    let lines = 0;
    const run = await heapstream(['run', '-c', file], (chunk, child) => {
      lines += chunk.split('\n').length - 1;
      if (lines >= 3) child.stdout?.destroy();
    });
    expect(run.problems).toEqual([]);
    expect(run.stderr).not.toContain('data was lost');
    expect(run.code).toBe(0);
  });

  it('exits 0 after --cycles when every sink delivered everything', async () => {
    const file = await pipelineFile('clean.yaml', '  out: { type: stdout, format: jsonl }\n');
    const run = await heapstream(['run', '-c', file, '--cycles', '1']);
    expect(run.stdout).toContain('"type":"pod"');
    expect(run.stderr).not.toContain('data was lost');
    expect(run.code).toBe(0);
  });

  it('exits 3 after --cycles when a sink failed, and says which and how much on one line', async () => {
    const influx = await fakeInflux(400);
    try {
      const file = await pipelineFile(
        'failing.yaml',
        `  tsdb: { type: influxdb, api: v1, url: '${influx.url}', retry: { max_attempts: 1 } }\n`,
      );
      const run = await heapstream(['run', '-c', file, '--cycles', '1']);
      expect(run.code).toBe(3);
      // One batch per node, each failed; the summary is the last line.
      expect(run.stderr).toMatch(/\nheapstream: data was lost: sink tsdb: 3 batches failed\n$/);
    } finally {
      influx.server.closeAllConnections();
      influx.server.close();
    }
  });

  it('a run ended by a signal exits 0 but still says what was dropped at shutdown', async () => {
    const influx = await fakeInflux(503);
    try {
      const file = await pipelineFile(
        'unavailable.yaml',
        `  tsdb: { type: influxdb, api: v1, url: '${influx.url}', shutdown_timeout: 200ms }\n` +
          '  out: { type: stdout, format: jsonl }\n',
      );
      let signalled = false;
      const run = await heapstream(['run', '-c', file, '--cycles', '5'], (_chunk, child) => {
        if (signalled) return;
        signalled = true;
        child.kill('SIGTERM');
      });
      expect(run.code).toBe(0);
      expect(run.stderr).toMatch(
        /^heapstream: data was lost: sink tsdb: \d+ batch(es)? \(\d+ sets\) dropped \(shutdown\)$/m,
      );
    } finally {
      influx.server.closeAllConnections();
      influx.server.close();
    }
  });
});

describe('heapstream schema', () => {
  it('writes the whole schema into a pipe whose reader starts late (more than a pipe buffer of 64 KiB)', async () => {
    // A shell pipe, as a user's `heapstream schema | jq` is: its 64 KiB buffer fills before the reader starts.
    const child = spawn(
      'bash',
      ['-c', `"${process.execPath}" --import tsx src/cli/main.ts schema | (sleep 2; cat)`],
      {
        cwd: repo,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(stdout.length).toBeGreaterThan(65_536);
    const schema = JSON.parse(stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toContain('sinks');
  });
});

describe('plugins through the CLI', () => {
  it('validate accepts an example that uses a plugin type, and schema -c includes that type', async () => {
    const example = 'examples/top-pods/pipeline.yaml';
    const validated = await heapstream(['validate', '-c', example]);
    expect(validated.stdout).toBe(`${example}: ok (source kubelet_summary, 2 processors, 1 sinks)\n`);
    expect(validated.code).toBe(0);

    const withPlugins = await heapstream(['schema', '-c', example]);
    expect(withPlugins.code).toBe(0);
    const schema = JSON.parse(withPlugins.stdout) as {
      properties: { processors: { items: { oneOf: { title?: string; properties: object }[] } } };
    };
    const topPods = schema.properties.processors.items.oneOf.find((m) => m.title === 'top_pods');
    expect(Object.keys(topPods?.properties ?? {})).toEqual(
      expect.arrayContaining(['type', 'top', 'metric', 'on_error']),
    );
    expect((await heapstream(['schema'])).stdout).not.toContain('top_pods');
  });
});

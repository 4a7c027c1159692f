import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createBuiltinRegistry } from '../../src/builtins.js';
import { parsePipelineConfig } from '../../src/config/index.js';
import { runCli } from '../../test/support/cli.js';
import { isLoopback, parseListen } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'heapstream-metrics-api-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pipeline(sinkLines: readonly string[]): string {
  return [
    'resolution: 15s',
    'source:',
    '  type: kubelet_summary',
    '  discovery: { static: [{ name: n1, address: 127.0.0.1 }] }',
    'sinks:',
    '  api:',
    '    type: metrics_api',
    ...sinkLines.map((l) => `    ${l}`),
    '',
  ].join('\n');
}

describe('metrics_api config', () => {
  it('parses listen addresses', () => {
    expect(parseListen(':4443')).toEqual({ host: '', port: 4443 });
    expect(parseListen('127.0.0.1:10250')).toEqual({ host: '127.0.0.1', port: 10250 });
    expect(parseListen('[::1]:8443')).toEqual({ host: '::1', port: 8443 });
    expect(parseListen('localhost:1')).toEqual({ host: 'localhost', port: 1 });
    expect(parseListen('4443')).toBeUndefined();
    expect(parseListen('[nope]:1')).toBeUndefined();
    expect(parseListen('a:70000')).toBeUndefined();
    expect(['127.0.0.1', '127.9.9.9', '::1', 'localhost'].every(isLoopback)).toBe(true);
    expect(['', '0.0.0.0', '10.0.0.1', '::', 'example.com'].some(isLoopback)).toBe(false);
  });

  it('takes the defaults: delegated auth on :4443, 10 s caches, only node and container sets selected', () => {
    const config = parsePipelineConfig(pipeline([]), 'p.yaml', createBuiltinRegistry(), {});
    const sink = config.sinks.find((s) => s.name === 'api');
    expect(sink?.config).toMatchObject({
      listen: { host: '', port: 4443 },
      authentication: 'delegated',
      token_cache_ttl: 10_000,
      allow_cache_ttl: 10_000,
      deny_cache_ttl: 10_000,
      kubernetes: {},
    });
    expect(sink?.options.select).toEqual({ types: ['node', 'pod_container'] });
  });

  it('lets a user select more, and accepts authentication: none on loopback', () => {
    const config = parsePipelineConfig(
      pipeline(['listen: 127.0.0.1:8443', 'authentication: none', 'select: { types: [node] }']),
      'p.yaml',
      createBuiltinRegistry(),
      {},
    );
    expect(config.sinks[0]?.options.select).toEqual({ types: ['node'] });
  });

  it('heapstream validate rejects authentication: none on a non-loopback address, with file:line', async () => {
    const file = join(dir, 'open.yaml');
    writeFileSync(file, pipeline(['listen: 0.0.0.0:4443', 'authentication: none']));
    const outcome = await runCli(['validate', '-c', file]);
    expect(outcome.code).toBe(1);
    expect(outcome.stderr).toContain(
      `${file}:9:21 sinks.api.authentication: authentication: none serves metrics`,
    );
  }, 30_000); // runs the CLI: seconds on a busy machine
});

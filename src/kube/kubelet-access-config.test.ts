import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePipelineConfig } from '../config/load.js';
import { createBuiltinRegistry } from '../builtins.js';
import { systemClock } from '../component/clock.js';
import { createLogger } from '../component/logger.js';
import { ConfigError } from '../component/errors.js';
import { kubeletAccess } from './kubelet-access.js';

/** A pipeline file whose source is `source` (YAML lines, indented under `source:`). */
function pipeline(...source: string[]): string {
  return ['source:', ...source.map((line) => `  ${line}`), 'sinks:', '  out: { type: stdout }', ''].join(
    '\n',
  );
}

const STATIC = 'discovery: { static: [{ name: n1, address: 127.0.0.1 }] }';

function problems(text: string): string[] {
  try {
    parsePipelineConfig(text, 'pipeline.yaml', createBuiltinRegistry(), {});
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(String);
    throw err;
  }
  return [];
}

describe('a bearer token over plain http', () => {
  it('is a config error naming the file position and key, in every kubelet source', () => {
    const expected =
      'pipeline.yaml:5:23 source.auth.token_file: a bearer token is sent only over TLS: use scheme: https, ' +
      'or set allow_insecure_token: true (the token then crosses the network in clear text)';
    for (const type of ['kubelet_summary', 'kubelet_prometheus']) {
      const text = pipeline(`type: ${type}`, STATIC, 'scheme: http', 'auth: { token_file: token }');
      expect(problems(text)).toEqual([expected]);
    }
    // cAdvisor's api: cadvisor defaults to http.
    const cadvisor = pipeline(
      'type: kubelet_cadvisor',
      STATIC,
      'api: cadvisor',
      'auth: { token_file: token }',
    );
    expect(problems(cadvisor)).toEqual([expected]);
  });

  it('is accepted over https, through the API-server proxy, or with allow_insecure_token: true', () => {
    const base = ['type: kubelet_summary', STATIC, 'auth: { token_file: token }'];
    expect(problems(pipeline(...base))).toEqual([]);
    expect(problems(pipeline(...base, 'scheme: https'))).toEqual([]);
    expect(problems(pipeline(...base, 'via: apiserver_proxy'))).toEqual([]);
    expect(problems(pipeline(...base, 'scheme: http', 'allow_insecure_token: true'))).toEqual([]);
  });
});

describe('kubeletAccess and allow_insecure_token', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  function context() {
    dir = mkdtempSync(join(tmpdir(), 'heapstream-access-'));
    writeFileSync(join(dir, 'token'), 'kubelet-token-0123\n');
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    return {
      ctx: { baseDir: dir, clock: systemClock(), logger: createLogger({ level: 'warn', destination }) },
      lines,
    };
  }
  const discovery = { start: () => Promise.resolve(), nodes: () => [], stop: () => Promise.resolve() };

  it('refuses at start to send a token file over http, as validate does', () => {
    const { ctx } = context();
    expect(() =>
      kubeletAccess({ scheme: 'http', via: 'direct', auth: { token_file: 'token' } }, discovery, ctx),
    ).toThrow(/source\.auth\.token_file: a bearer token is sent only over TLS/);
  });

  it('sends it when allowed, and says so at start', () => {
    const { ctx, lines } = context();
    const access = kubeletAccess(
      { scheme: 'http', via: 'direct', auth: { token_file: 'token' }, allow_insecure_token: true },
      discovery,
      ctx,
    );
    expect(access.bearerToken?.()).toBe('kubelet-token-0123');
    expect(lines.some((l) => l.includes('allow_insecure_token is on'))).toBe(true);
  });
});

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
import { kubeletScheme } from './kubelet-access-config.js';
import type { SummarySourceConfig } from '../../sources/kubelet-summary/config.js';
import { cadvisorEndpoint, type CadvisorSourceConfig } from '../../sources/kubelet-cadvisor/config.js';

/** A pipeline file whose source is `source` (YAML lines, indented under `source:`). */
function pipeline(...source: string[]): string {
  return ['source:', ...source.map((line) => `  ${line}`), 'sinks:', '  out: { type: stdout }', ''].join(
    '\n',
  );
}

const STATIC = 'discovery: { static: [{ name: n1, address: 127.0.0.1 }] }';
const SIMULATED = 'discovery: { simulated: { nodes: 1 } }';
const KUBERNETES = 'discovery: { kubernetes: {} }';

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
    // The proxy needs kubernetes discovery (a static list is refused: see below).
    const proxied = [
      'type: kubelet_summary',
      KUBERNETES,
      'auth: { token_file: token }',
      'via: apiserver_proxy',
    ];
    expect(problems(pipeline(...proxied))).toEqual([]);
    expect(problems(pipeline(...base, 'scheme: http', 'allow_insecure_token: true'))).toEqual([]);
  });
});

describe('the static checks of kubelet access, in the schema of every kubelet source', () => {
  const SOURCES = ['kubelet_summary', 'kubelet_prometheus', 'kubelet_cadvisor'];

  it('refuses via: apiserver_proxy without kubernetes discovery, at the via key', () => {
    for (const type of SOURCES) {
      for (const discovery of [STATIC, SIMULATED]) {
        expect(problems(pipeline(`type: ${type}`, discovery, 'via: apiserver_proxy'))).toEqual([
          'pipeline.yaml:4:8 source.via: apiserver_proxy scrapes through the API server, so it needs ' +
            '`discovery: { kubernetes: … }`; use via: direct with static or simulated discovery',
        ]);
      }
      expect(problems(pipeline(`type: ${type}`, KUBERNETES, 'via: apiserver_proxy'))).toEqual([]);
    }
  });

  it('refuses tls.cert_file without tls.key_file and the other way round, at the key given', () => {
    for (const type of SOURCES) {
      expect(
        problems(pipeline(`type: ${type}`, STATIC, 'scheme: https', 'tls: { cert_file: c.pem }')),
      ).toEqual([
        'pipeline.yaml:5:21 source.tls.cert_file: needs key_file too: the client certificate and its private key go together',
      ]);
      expect(
        problems(pipeline(`type: ${type}`, STATIC, 'scheme: https', 'tls: { key_file: k.pem }')),
      ).toEqual([
        'pipeline.yaml:5:20 source.tls.key_file: needs cert_file too: the client certificate and its private key go together',
      ]);
      const both = pipeline(
        `type: ${type}`,
        STATIC,
        'scheme: https',
        'tls: { cert_file: c.pem, key_file: k.pem }',
      );
      expect(problems(both)).toEqual([]);
    }
  });

  it('refuses tls with plain http, saying why the source scrapes http', () => {
    expect(
      problems(pipeline('type: kubelet_summary', STATIC, 'scheme: http', 'tls: { ca_file: ca.pem }')),
    ).toEqual([
      'pipeline.yaml:5:8 source.tls: set only with scheme: https; this source scrapes plain http (scheme: http)',
    ]);
    expect(problems(pipeline('type: kubelet_summary', SIMULATED, 'tls: { ca_file: ca.pem }'))).toEqual([
      'pipeline.yaml:4:8 source.tls: set only with scheme: https; this source scrapes plain http ' +
        '(a simulated cluster serves http)',
    ]);
  });

  it('refuses an explicit scheme: https with a simulated cluster, at the scheme key', () => {
    for (const type of SOURCES) {
      expect(problems(pipeline(`type: ${type}`, SIMULATED, 'scheme: https'))).toEqual([
        "pipeline.yaml:4:11 source.scheme: a simulated cluster's kubelets serve plain http: leave scheme out " +
          '(it is then http) or set scheme: http',
      ]);
    }
  });

  it('refuses api: cadvisor through the API-server proxy, at the via key', () => {
    expect(
      problems(pipeline('type: kubelet_cadvisor', KUBERNETES, 'api: cadvisor', 'via: apiserver_proxy')),
    ).toEqual([
      'pipeline.yaml:5:8 source.via: apiserver_proxy reaches kubelets only; use `api: kubelet` or `via: direct` ' +
        'for standalone cAdvisor',
    ]);
  });
});

describe('kubeletScheme', () => {
  it('is http for a simulated cluster without a scheme, else the source default, and the written one always', () => {
    const simulated = { simulated: { nodes: 1, port: 0, first_address: '127.0.1.1', seed: 1 } };
    const statics = { static: [{ name: 'n1', address: '127.0.0.1' }] };
    expect(kubeletScheme({ discovery: simulated })).toBe('http');
    expect(kubeletScheme({ discovery: statics })).toBe('https');
    expect(kubeletScheme({ discovery: statics }, 'http')).toBe('http');
    expect(kubeletScheme({ scheme: 'http', discovery: statics })).toBe('http');
    expect(kubeletScheme({ scheme: 'https', discovery: simulated })).toBe('https');
  });

  it('is what a parsed source config resolves to', () => {
    const parsed = parsePipelineConfig(
      pipeline('type: kubelet_summary', SIMULATED),
      'p.yaml',
      createBuiltinRegistry(),
      {},
    );
    expect(kubeletScheme(parsed.source.config as SummarySourceConfig)).toBe('http');
    const cadvisor = parsePipelineConfig(
      pipeline('type: kubelet_cadvisor', SIMULATED),
      'p.yaml',
      createBuiltinRegistry(),
      {},
    );
    expect(cadvisorEndpoint(cadvisor.source.config as CadvisorSourceConfig).scheme).toBe('http');
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

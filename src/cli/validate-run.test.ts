/**
 * `validate` and `run` agree: every file that `run` refuses at start-up for a static reason, `validate` refuses
 * too, with the same positioned problem, and `run` refuses it before it scrapes anything. What only start-up can
 * find (a file that cannot be read) is one readable line and exit code 2, never a log line with a stack.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliOutcome } from '../../test/support/cli.js';

const HAS_ZSTD = typeof (zlib as { zstdCompressSync?: unknown }).zstdCompressSync === 'function';

describe('validate refuses what run refuses, with the same positioned problem', { timeout: 90_000 }, () => {
  let dir: string;
  /** A kubelet stand-in that counts the requests it gets: a refused file must not be scraped at all. */
  let kubelet: Server;
  let requests = 0;
  let node: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'heapstream-validate-run-'));
    kubelet = createServer((_req, res) => {
      requests++;
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => kubelet.listen(0, '127.0.0.1', resolve));
    const { port } = kubelet.address() as AddressInfo;
    node = `discovery: { static: [{ name: node-1, address: 127.0.0.1, port: ${port} }] }`;
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await new Promise((resolve) => kubelet.close(resolve));
  });

  /** A pipeline file whose source has `source` lines (after `type`) and whose sinks are `sinks` lines. */
  function write(name: string, source: string[], sinks = ['  out: { type: stdout, format: jsonl }']): string {
    const path = join(dir, name);
    const text = ['resolution: 15s', 'source:', ...source.map((l) => `  ${l}`), 'sinks:', ...sinks, ''];
    writeFileSync(path, text.join('\n'));
    return path;
  }

  /** Both commands refuse `file` with exit 1 and exactly `problem`; run scrapes nothing. */
  async function bothRefuse(file: string, problem: string): Promise<void> {
    const before = requests;
    const [validate, run] = await Promise.all([
      runCli(['validate', '-c', file]),
      runCli(['run', '-q', '--cycles', '1', '-c', file]),
    ]);
    const expected = `${file}:${problem}\n1 problem(s) in ${file}\n`;
    expect({ code: validate.code, stderr: validate.stderr }).toEqual({ code: 1, stderr: expected });
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 1, stderr: expected });
    expect(run.stdout).toBe('');
    expect(requests - before).toBe(0);
  }

  it('a server.token too short to be a secret', async () => {
    const file = write(
      'short-token.yaml',
      ['type: kubelet_summary', node],
      ['  out: { type: stdout, format: jsonl }', 'server:', '  port: 0', '  token: short'],
    );
    await bothRefuse(file, '9:10 server.token: a bearer token shorter than 16 characters is guessable');
  });

  it('via: apiserver_proxy with static discovery', async () => {
    const file = write('proxy-static.yaml', ['type: kubelet_summary', node, 'via: apiserver_proxy']);
    await bothRefuse(
      file,
      '5:8 source.via: apiserver_proxy scrapes through the API server, so it needs ' +
        '`discovery: { kubernetes: … }`; use via: direct with static or simulated discovery',
    );
  });

  it('tls.cert_file without tls.key_file', async () => {
    const file = write('cert-only.yaml', ['type: kubelet_summary', node, 'tls: { cert_file: client.pem }']);
    await bothRefuse(
      file,
      '5:21 source.tls.cert_file: needs key_file too: the client certificate and its private key go together',
    );
  });

  it('tls with scheme: http', async () => {
    const file = write('tls-http.yaml', [
      'type: kubelet_summary',
      node,
      'scheme: http',
      'tls: { ca_file: ca.pem }',
    ]);
    await bothRefuse(
      file,
      '6:8 source.tls: set only with scheme: https; this source scrapes plain http (scheme: http)',
    );
  });

  it('api: cadvisor through the API-server proxy', async () => {
    const file = write('cadvisor-proxy.yaml', [
      'type: kubelet_cadvisor',
      'discovery: { kubernetes: {} }',
      'api: cadvisor',
      'via: apiserver_proxy',
    ]);
    await bothRefuse(
      file,
      '6:8 source.via: apiserver_proxy reaches kubelets only; use `api: kubelet` or `via: direct` ' +
        'for standalone cAdvisor',
    );
  });

  it('an explicit scheme: https with a simulated cluster', async () => {
    const file = write('simulated-https.yaml', [
      'type: kubelet_summary',
      'discovery: { simulated: { nodes: 1 } }',
      'scheme: https',
    ]);
    await bothRefuse(
      file,
      "5:11 source.scheme: a simulated cluster's kubelets serve plain http: leave scheme out (it is then http) " +
        'or set scheme: http',
    );
  });

  it.runIf(!HAS_ZSTD)('compression: zstd in the file sink, on a Node without zstd', async () => {
    const file = write(
      'zstd.yaml',
      ['type: kubelet_summary', node],
      ['  lake: { type: file, path: lake, compression: zstd }'],
    );
    await bothRefuse(
      file,
      `6:48 sinks.lake.compression: zstd needs Node 22.15 or later (node:zlib zstd); this is Node ` +
        `${process.versions.node}: use snappy or gzip`,
    );
  });

  it('a run in which every scrape fails says so at error level, naming the reason', async () => {
    const file = write('all-fail.yaml', ['type: kubelet_summary', node, 'scheme: http']);
    const run = await runCli(['run', '-q', '--cycles', '1', '--log-level', 'error', '-c', file]);
    expect(run.code, run.stderr).toBe(0);
    const errors = run.stderr
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => (JSON.parse(line) as { msg: string }).msg);
    expect(errors).toEqual([
      expect.stringMatching(
        /^cycle \d+: none of the 1 node answered \(http_status: 1\); e\.g\. node node-1: .*500/,
      ),
    ]);
  });

  it('a simulated cluster without a scheme is scraped over http: the run writes its data', async () => {
    const file = write('simulated.yaml', ['type: kubelet_summary', 'discovery: { simulated: { nodes: 2 } }']);
    const validate = await runCli(['validate', '-c', file]);
    expect(validate.code, validate.stderr).toBe(0);
    const run = await runCli(['run', '-q', '--cycles', '1', '--log-level', 'error', '-c', file]);
    expect(run.code, run.stderr).toBe(0);
    const nodes = new Set(
      run.stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as { labels: { nodename?: string } }).labels.nodename),
    );
    expect([...nodes].filter((n) => n !== undefined).sort()).toEqual(['sim-node-001', 'sim-node-002']);
  });
});

describe('a config mistake only found at start-up', { timeout: 90_000 }, () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'heapstream-start-failure-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** validate says ok; run exits 2 with `line` alone on stderr (after its info logs, if any). */
  async function failsAtStart(text: string, line: (file: string) => string): Promise<CliOutcome> {
    const file = join(dir, `start-${Math.random().toString(36).slice(2)}.yaml`);
    writeFileSync(file, text);
    const validate = await runCli(['validate', '-c', file]);
    expect(validate.code, validate.stderr).toBe(0);
    const run = await runCli(['run', '-q', '--cycles', '1', '--log-level', 'warn', '-c', file]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toBe(`${line(file)}\n`);
    return run;
  }

  it('a source CA file that does not exist: one line naming the key and the file, exit 2', async () => {
    const text = [
      'source:',
      '  type: kubelet_summary',
      '  discovery: { static: [{ name: node-1, address: 127.0.0.1, port: 1 }] }',
      '  tls: { ca_file: missing-ca.pem }',
      'sinks:',
      '  out: { type: stdout }',
      '',
    ].join('\n');
    const ca = join(dir, 'missing-ca.pem');
    await failsAtStart(
      text,
      (file) =>
        `heapstream: cannot start ${file}: source.tls.ca_file: cannot read ${ca}: ENOENT: no such file or ` +
        `directory, open '${ca}'`,
    );
  });

  it('a server.port in use: one line, exit 2, and nothing scraped', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const text = [
        'source:',
        '  type: kubelet_summary',
        '  discovery: { simulated: { nodes: 1 } }',
        'sinks:',
        '  out: { type: stdout, format: jsonl }',
        `server: { port: ${port} }`,
        '',
      ].join('\n');
      const outcome = await failsAtStart(
        text,
        (file) =>
          `heapstream: cannot start ${file}: server.port: cannot listen on 127.0.0.1:${port} (listen ` +
          `EADDRINUSE: address already in use 127.0.0.1:${port}); change server.port or server.address`,
      );
      expect(outcome.stdout).toBe('');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('a server.token_file that does not exist: one line naming the key and the file, exit 2', async () => {
    const text = [
      'source:',
      '  type: kubelet_summary',
      '  discovery: { static: [{ name: node-1, address: 127.0.0.1, port: 1 }] }',
      'sinks:',
      '  out: { type: stdout }',
      'server: { port: 0, token_file: missing-token }',
      '',
    ].join('\n');
    const token = join(dir, 'missing-token');
    await failsAtStart(
      text,
      (file) =>
        `heapstream: cannot start ${file}: server.token_file: cannot read ${token}: ENOENT: no such file or ` +
        `directory, open '${token}'`,
    );
  });

  it('a Kafka sink CA file that does not exist: the sink is named, exit 2', async () => {
    const text = [
      'source:',
      '  type: kubelet_summary',
      '  discovery: { simulated: { nodes: 1 } }',
      'sinks:',
      '  bus: { type: kafka, brokers: [127.0.0.1:1], tls: { ca_file: missing-ca.pem } }',
      '',
    ].join('\n');
    const ca = join(dir, 'missing-ca.pem');
    await failsAtStart(
      text,
      (file) =>
        `heapstream: cannot start ${file}: sinks.bus.tls.ca_file: cannot read ${ca}: ENOENT: no such file or ` +
        `directory, open '${ca}'`,
    );
  });
});

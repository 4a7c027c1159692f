import { getEventListeners } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { systemClock } from '../component/clock.js';
import { ScrapeError } from '../component/errors.js';
import { KubeletClient } from './kubelet-client.js';

/** A kubelet on loopback that holds every request until released, to keep many requests in flight. */
async function holdingKubelet() {
  const held: ServerResponse[] = [];
  const server = createServer((_req, res) => held.push(res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    held,
    close: () => {
      for (const res of held) res.destroy();
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('KubeletClient and the caller’s signal', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanup.map((c) => c()));
    cleanup = [];
  });

  it('puts one abort listener on the signal however many requests are in flight, and aborts them all', async () => {
    const kubelet = await holdingKubelet();
    cleanup.push(kubelet.close);
    const client = new KubeletClient(
      { scheme: 'http', timeoutMs: 60_000, maxResponseBytes: 1 << 20, connectionsPerNode: 300 },
      systemClock(),
    );
    cleanup.push(() => client.close());
    const outer = new AbortController();
    const node = { name: 'n1', address: '127.0.0.1', port: kubelet.port };
    const requests = Array.from({ length: 300 }, () =>
      client.get(node, '/stats/summary', outer.signal).then(
        () => 'answered',
        (err: unknown) => err,
      ),
    );
    while (kubelet.held.length < 300) await new Promise((r) => setTimeout(r, 10));
    expect(getEventListeners(outer.signal, 'abort')).toHaveLength(1);

    outer.abort();
    const outcomes = await Promise.all(requests);
    expect(outcomes.every((o) => o instanceof ScrapeError && o.reason !== 'timeout')).toBe(true);
  });

  it('answers as before with a signal, and aborts at once a request whose signal is already aborted', async () => {
    const kubelet = await holdingKubelet();
    cleanup.push(kubelet.close);
    const client = new KubeletClient(
      { scheme: 'http', timeoutMs: 60_000, maxResponseBytes: 1 << 20 },
      systemClock(),
    );
    cleanup.push(() => client.close());
    const outer = new AbortController();
    const node = { name: 'n1', address: '127.0.0.1', port: kubelet.port };
    const answered = client.get(node, '/stats/summary', outer.signal);
    while (kubelet.held.length < 1) await new Promise((r) => setTimeout(r, 10));
    kubelet.held[0]!.end('{}');
    expect(await answered).toBe('{}');

    const aborted = new AbortController();
    aborted.abort();
    // Without the check it would be sent and held until the client's 60 s timeout.
    await expect(client.get(node, '/stats/summary', aborted.signal)).rejects.toBeInstanceOf(ScrapeError);
  });
});

describe('KubeletClient error bodies', () => {
  it('keeps the token out of the message when a proxy echoes the request in a non-200 answer', async () => {
    const token = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJoZWFwc3RyZWFtIn0.c2ln';
    const server = createServer((req, res) => {
      res.writeHead(403);
      res.end(`GET ${req.url} HTTP/1.1\nAuthorization: ${req.headers.authorization}\nX-Seen: ${token}\n`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new KubeletClient(
      { scheme: 'http', timeoutMs: 5_000, maxResponseBytes: 1 << 20, bearerToken: () => token },
      systemClock(),
    );
    try {
      const node = { name: 'n1', address: '127.0.0.1', port: (server.address() as AddressInfo).port };
      const error = (await client.get(node, '/stats/summary').catch((e: unknown) => e)) as ScrapeError;
      expect(error).toBeInstanceOf(ScrapeError);
      expect(error.message).toContain('answered 403');
      expect(error.message).toContain('GET /stats/summary HTTP/1.1');
      expect(error.message).toContain('Authorization: [redacted]');
      expect(error.message).not.toContain(token.slice(0, 20));
    } finally {
      await client.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('KubeletClient connection errors', () => {
  it('names a refused connection once: the code is not repeated after a message that already has it', async () => {
    // A port that was just free: nothing listens there.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const client = new KubeletClient(
      { scheme: 'http', timeoutMs: 5_000, maxResponseBytes: 1 << 20 },
      systemClock(),
    );
    try {
      const error = await client.get({ name: 'n1', address: '127.0.0.1', port }, '/stats/summary').then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(ScrapeError);
      const message = (error as ScrapeError).message;
      expect(message).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
      expect(message.match(/ECONNREFUSED/g)).toHaveLength(1);
    } finally {
      await client.close();
    }
  });
});

describe('KubeletClient.getBytes', () => {
  let cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    await Promise.all(cleanup.map((c) => c()));
    cleanup = [];
  });

  /** A kubelet that answers every request with `body`, written in chunks of `chunk` bytes. */
  async function answering(body: Buffer, chunk: number): Promise<number> {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      for (let i = 0; i < body.length; i += chunk) res.write(body.subarray(i, i + chunk));
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    });
    return (server.address() as AddressInfo).port;
  }

  // Bytes that are not valid UTF-8 too: get() would have replaced them.
  const body = Buffer.concat([
    Buffer.from('{"node":"'),
    Buffer.from([0xc3, 0x28, 0xff]),
    Buffer.alloc(70_000, 0x61),
  ]);

  it('returns the body byte for byte, in one Buffer however it was chunked', async () => {
    const port = await answering(body, 4096);
    const client = new KubeletClient(
      { scheme: 'http', timeoutMs: 5_000, maxResponseBytes: 1 << 20 },
      systemClock(),
    );
    cleanup.push(() => client.close());
    const node = { name: 'n1', address: '127.0.0.1', port };
    expect((await client.getBytes(node, '/stats/summary')).equals(body)).toBe(true);
    expect(await client.get(node, '/stats/summary')).toBe(body.toString('utf8'));
  });

  it('fails past max_response_bytes with the same too_large error as get()', async () => {
    const port = await answering(body, 4096);
    const client = new KubeletClient(
      { scheme: 'http', timeoutMs: 5_000, maxResponseBytes: 10_000 },
      systemClock(),
    );
    cleanup.push(() => client.close());
    const node = { name: 'n1', address: '127.0.0.1', port };
    const viaBytes = (await client.getBytes(node, '/stats/summary').catch((e: unknown) => e)) as ScrapeError;
    const viaText = (await client.get(node, '/stats/summary').catch((e: unknown) => e)) as ScrapeError;
    expect(viaBytes).toBeInstanceOf(ScrapeError);
    expect(viaBytes.reason).toBe('too_large');
    expect(viaBytes.message).toBe(viaText.message);
    expect(viaBytes.message).toContain('response exceeds max_response_bytes (10000)');
  });
});

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from './api-client.js';

describe('ApiClient error bodies', () => {
  it('keeps the credentials out of the message when the server echoes the request in a non-200 answer', async () => {
    const token = 'kubeconfig-static-token-0123456789';
    const server = createServer((req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ message: 'Unauthorized', echo: { authorization: req.headers.authorization } }),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const api = new ApiClient({
      server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      inCluster: false,
      origin: 'test kubeconfig',
      tls: {},
      authorization: () => Promise.resolve(`Bearer ${token}`),
    });
    try {
      const error = (await api
        .getJson('/api/v1/nodes', new AbortController().signal)
        .catch((e: unknown) => e)) as ApiError;
      expect(error).toBeInstanceOf(ApiError);
      expect(error.message).toContain('answered 401');
      expect(error.message).toContain('Unauthorized');
      expect(error.message).not.toContain(token);
      expect(error.message).not.toContain('0123456789');
    } finally {
      await api.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

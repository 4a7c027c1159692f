import { createServer } from 'node:net';

/**
 * Asks the kernel for a free TCP port on 127.0.0.1 and releases it at once, for a service to bind next.
 *
 * @example
 * const port = await freeLoopbackPort(); // e.g. 41873
 */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned on 127.0.0.1'))));
    });
  });
}

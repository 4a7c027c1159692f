/**
 * A loopback TCP proxy that can hold traffic: while closed, bytes from either side wait in the proxy (connections
 * stay open, nothing fails), so a client sees a server that has become slow, not one that is down. Opening it
 * again delivers what waited, in order.
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';

export interface TcpGate {
  /** `http://127.0.0.1:PORT`, for a target that speaks HTTP. */
  readonly url: string;
  hold(): void;
  open(): void;
  close(): Promise<void>;
}

/** One direction of a connection: forwards chunks, or keeps them while the gate holds. */
class Lane {
  private readonly waiting: Buffer[] = [];
  constructor(
    private readonly to: Socket,
    private readonly held: () => boolean,
  ) {}

  push(chunk: Buffer): void {
    if (this.held() || this.waiting.length > 0) this.waiting.push(chunk);
    else this.to.write(chunk);
  }

  flush(): void {
    for (const chunk of this.waiting.splice(0)) this.to.write(chunk);
  }
}

export async function startTcpGate(target: { host: string; port: number }): Promise<TcpGate> {
  let holding = false;
  const lanes = new Set<Lane>();
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection(target);
    const up = new Lane(upstream, () => holding);
    const down = new Lane(client, () => holding);
    lanes.add(up).add(down);
    sockets.add(client).add(upstream);
    client.on('data', (chunk: Buffer) => up.push(chunk));
    upstream.on('data', (chunk: Buffer) => down.push(chunk));
    const end = (): void => {
      lanes.delete(up);
      lanes.delete(down);
      sockets.delete(client);
      sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hold: () => (holding = true),
    open: () => {
      holding = false;
      for (const lane of lanes) lane.flush();
    },
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

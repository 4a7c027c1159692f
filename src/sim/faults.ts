import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HostilePayload } from './hostile.js';

/**
 * A failure a simulated kubelet can be told to show, for testing how a collector isolates one bad node.
 *
 * @example
 * cluster.setFault('sim-node-002', { kind: 'status', status: 503 });
 */
export type KubeletFault =
  | { kind: 'slow'; delayMs: number }
  | { kind: 'status'; status: number }
  /** Headers promise the whole body; half of it is sent, then the connection is closed. */
  | { kind: 'truncated' }
  /** The connection is destroyed before any response. */
  | { kind: 'reset' }
  /** 200 with a body that is not JSON, like a proxy's error page. */
  | { kind: 'garbage' }
  /**
   * 200 with a hostile payload on every endpoint (see HostilePayload); `pods` sizes a `huge` one. The cluster
   * answers these itself: they are built from the node's summary for each endpoint.
   */
  | { kind: 'hostile'; payload: HostilePayload; pods?: number };

const GARBAGE =
  '<html><head><title>502 Bad Gateway</title></head><body>upstream kubelet went away</body></html>\n';

/** Answers a request the way the fault says, or returns false for faults that only delay the normal answer. */
export function answerWithFault(
  fault: KubeletFault,
  node: string,
  request: IncomingMessage,
  response: ServerResponse,
  renderBody: () => Buffer,
): boolean {
  switch (fault.kind) {
    case 'slow':
    case 'hostile':
      return false;
    case 'status': {
      const body = `simulated ${fault.status} from ${node}\n`;
      response.writeHead(fault.status, {
        'content-type': 'text/plain',
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
      return true;
    }
    case 'truncated': {
      const body = renderBody();
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
      response.write(body.subarray(0, body.length >> 1), () => request.socket.destroy());
      return true;
    }
    case 'reset':
      request.socket.destroy();
      return true;
    case 'garbage':
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(GARBAGE),
      });
      response.end(GARBAGE);
      return true;
  }
}

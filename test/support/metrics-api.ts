import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { connect, type PeerCertificate } from 'node:tls';
import type { GuardDecision, RequestAttributes, RequestGuard } from '../../src/kube/delegated-auth/guard.js';

/**
 * Test doubles of the guard contract and an HTTPS client for the metrics API's tests and bench. Nothing in the
 * sink imports this file.
 */

export const GOOD_TOKEN = 'token-of-alice';
export const DENIED_TOKEN = 'token-of-mallory';

/**
 * A guard that knows two bearer tokens: alice's, allowed everything, and mallory's, authenticated but denied
 * everything; anything else is 401. It records what it was asked, to check the request attributes.
 */
export class TokenTestGuard implements RequestGuard {
  readonly asked: RequestAttributes[] = [];
  closed = 0;

  check(req: IncomingMessage, attributes: RequestAttributes): Promise<GuardDecision> {
    this.asked.push(attributes);
    const header = req.headers.authorization ?? '';
    if (header === `Bearer ${GOOD_TOKEN}`) {
      return Promise.resolve({ allowed: true, user: { name: 'alice', groups: [], extra: {} } });
    }
    if (header === `Bearer ${DENIED_TOKEN}`) {
      const what =
        attributes.kind === 'resource' ? `resource "${attributes.resource}"` : `path "${attributes.path}"`;
      return Promise.resolve({
        allowed: false,
        code: 403,
        status: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: `user "mallory" cannot ${attributes.verb} ${what}`,
          reason: 'Forbidden',
          code: 403,
        },
      });
    }
    return Promise.resolve({
      allowed: false,
      code: 401,
      status: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      },
    });
  }

  close(): Promise<void> {
    this.closed++;
    return Promise.resolve();
  }
}

export interface HttpsAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly text: string;
}

export interface HttpsGetOptions {
  readonly token?: string;
  /** PEM CA to verify the server with; without it the certificate is not verified. */
  readonly ca?: string | Buffer;
  readonly method?: string;
  /** The host name to verify the certificate against (default: the address). */
  readonly servername?: string;
  readonly agent?: false;
}

/** One HTTPS request to the metrics API over loopback. */
export function httpsGet(
  address: { host: string; port: number },
  path: string,
  options: HttpsGetOptions = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: address.host,
        port: address.port,
        path,
        method: options.method ?? 'GET',
        agent: false,
        ...(options.ca === undefined ? { rejectUnauthorized: false } : { ca: options.ca }),
        ...(options.servername === undefined ? {} : { servername: options.servername }),
        headers: options.token === undefined ? {} : { authorization: `Bearer ${options.token}` },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'],
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** The certificate a TLS server presents, as PEM and as Node describes it. */
export function peerCertificate(address: {
  host: string;
  port: number;
}): Promise<{ pem: string; cert: PeerCertificate }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address.host, port: address.port, rejectUnauthorized: false }, () => {
      const cert = socket.getPeerCertificate();
      socket.end();
      const base64 = cert.raw.toString('base64').match(/.{1,64}/g) ?? [];
      resolve({
        pem: `-----BEGIN CERTIFICATE-----\n${base64.join('\n')}\n-----END CERTIFICATE-----\n`,
        cert,
      });
    });
    socket.on('error', reject);
  });
}

import { X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

// id-kp-clientAuth (RFC 5280 4.2.1.12): a client certificate may be used to authenticate a TLS client.
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_USAGE = '2.5.29.37.0';

/**
 * The certificates the TLS peer sent, leaf first, from Node's issuer links. Empty when it sent none: Node then
 * still reports `authorized: true`, which is why the guard never trusts that flag.
 */
export function peerCertificates(socket: TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let current = socket.getPeerCertificate(true) as Partial<import('node:tls').DetailedPeerCertificate>;
  while (current.raw !== undefined && !seen.has(current.fingerprint256 ?? '')) {
    seen.add(current.fingerprint256 ?? '');
    chain.push(new X509Certificate(current.raw));
    if (current.issuerCertificate === undefined || current.issuerCertificate === current) break;
    current = current.issuerCertificate;
  }
  return chain;
}

/** Whether the request's TLS peer sent a certificate (plain HTTP requests have none). */
export function hasPeerCertificate(req: IncomingMessage): boolean {
  const socket = req.socket as Partial<TLSSocket>;
  return typeof socket.getPeerCertificate === 'function' && socket.getPeerCertificate().raw !== undefined;
}

/** Why a certificate chain does not verify, for debug logs; undefined when it does. */
export type ChainProblem = string;

/**
 * Verifies a client certificate chain against a CA bundle as Go's x509.Verify does for a client certificate:
 * every certificate in its validity period at `now`, each signed by the next (intermediates from the peer must
 * be CAs), the last one signed by a CA in `roots`, and the leaf usable for client authentication.
 *
 * @example
 * verifyClientChain(peerCertificates(socket), config.clientCa, Date.now()); // undefined = verified
 */
export function verifyClientChain(
  chain: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  now: number,
): ChainProblem | undefined {
  const leaf = chain[0];
  if (leaf === undefined) return 'no client certificate';
  if (!usableForClientAuth(leaf))
    return `${leaf.subject}: not for client authentication (extended key usage)`;
  for (let i = 0; i < chain.length; i++) {
    const cert = chain[i] as X509Certificate;
    const expired = outsideValidity(cert, now);
    if (expired !== undefined) return `${cert.subject}: ${expired}`;
    if (roots.some((root) => signedBy(cert, root) && outsideValidity(root, now) === undefined))
      return undefined;
    const issuer = chain[i + 1];
    if (issuer === undefined || !issuer.ca || !signedBy(cert, issuer)) break;
  }
  return `${leaf.subject}: not signed by a trusted CA`;
}

function signedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  // checkIssued compares names and key identifiers; verify checks the signature itself.
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function outsideValidity(cert: X509Certificate, now: number): string | undefined {
  if (now < Date.parse(cert.validFrom)) return `not valid before ${cert.validFrom}`;
  if (now > Date.parse(cert.validTo)) return `expired ${cert.validTo}`;
  return undefined;
}

function usableForClientAuth(cert: X509Certificate): boolean {
  // Node 20 names the extended key usage list `keyUsage`, later versions `extKeyUsage`; absent = any usage.
  const usages = (cert as { extKeyUsage?: string[] }).extKeyUsage ?? cert.keyUsage;
  return usages === undefined || usages.includes(CLIENT_AUTH) || usages.includes(ANY_USAGE);
}

/** The subject's CN and O values: the user and groups of an x509-authenticated client. */
export function subjectNames(cert: X509Certificate): { cn: string | undefined; organizations: string[] } {
  let cn: string | undefined;
  const organizations: string[] = [];
  for (const line of cert.subject.split('\n')) {
    const eq = line.indexOf('=');
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const value = line.slice(eq + 1);
    if (key === 'CN') cn ??= value;
    if (key === 'O') organizations.push(value);
  }
  return { cn, organizations };
}

import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { AuthenticationConfig } from './auth-config.js';
import {
  hasPeerCertificate,
  peerCertificates,
  subjectNames,
  verifyClientChain,
} from './certificate-chain.js';
import type { RequestUser } from './guard.js';
import { userFromHeaders } from './request-header.js';

/** What the certificate and headers of a request prove, before any token is looked at. */
export type CertificateIdentity =
  | { readonly kind: 'user'; readonly user: RequestUser; readonly via: 'front-proxy' | 'client-certificate' }
  /** No certificate, or one that proves nothing (its headers are then ignored). `why` is for debug logs. */
  | { readonly kind: 'none'; readonly hadCertificate: boolean; readonly why?: string };

/**
 * Authenticates by certificate in k8s.io/apiserver's union order: a front-proxy certificate (verified against
 * the request-header CA, CN in the allowed names) with a username header gives the headers' user; else a client
 * certificate signed by the client CA gives CN as user and O as groups. X-Remote-* headers of any other request are
 * never read.
 */
export function authenticateCertificate(
  req: IncomingMessage,
  config: AuthenticationConfig,
  now: number,
): CertificateIdentity {
  const chain = hasPeerCertificate(req) ? peerCertificates(req.socket as TLSSocket) : [];
  if (chain.length === 0) return { kind: 'none', hadCertificate: false };
  const leaf = chain[0];
  const problems: string[] = [];
  const requestHeader = config.requestHeader;
  if (requestHeader !== undefined && leaf !== undefined) {
    const problem = verifyClientChain(chain, requestHeader.ca, now);
    const { cn } = subjectNames(leaf);
    if (problem !== undefined) problems.push(`front-proxy: ${problem}`);
    else if (requestHeader.allowedNames.length > 0 && !requestHeader.allowedNames.includes(cn ?? '')) {
      problems.push(`front-proxy: CN "${cn ?? ''}" is not in requestheader-allowed-names`);
    } else {
      const user = userFromHeaders(req, requestHeader);
      if (user !== undefined) return { kind: 'user', user: withAuthenticated(user), via: 'front-proxy' };
      problems.push('front-proxy: no username header');
    }
  }
  if (config.clientCa.length > 0 && leaf !== undefined) {
    const problem = verifyClientChain(chain, config.clientCa, now);
    const { cn, organizations } = subjectNames(leaf);
    if (problem === undefined && cn !== undefined && cn !== '') {
      const user = { name: cn, groups: organizations, extra: {} };
      return { kind: 'user', user: withAuthenticated(user), via: 'client-certificate' };
    }
    problems.push(`client-ca: ${problem ?? 'no CN'}`);
  }
  return { kind: 'none', hadCertificate: true, why: problems.join('; ') };
}

/** The bearer token of a request, as the apiserver's bearertoken authenticator reads it; undefined when none. */
export function bearerToken(req: IncomingMessage): string | undefined {
  const parts = (req.headers.authorization ?? '').trim().split(/\s+/);
  if (parts.length !== 2 || parts[0]?.toLowerCase() !== 'bearer' || parts[1] === '') return undefined;
  return parts[1];
}

/** Adds `system:authenticated`, as k8s.io/apiserver's AuthenticatedGroupAdder does for every authenticated user. */
export function withAuthenticated(user: RequestUser): RequestUser {
  if (user.groups.includes('system:authenticated') || user.name === 'system:anonymous') return user;
  return { ...user, groups: [...user.groups, 'system:authenticated'] };
}

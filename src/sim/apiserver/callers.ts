import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** A user as the fake API server knows it: TokenReview's `status.user`, the aggregation layer's X-Remote-*. */
export interface SimUser {
  readonly username: string;
  readonly uid?: string;
  readonly groups: readonly string[];
}

/** Who the plain `tokens` of FakeApiServerOptions authenticate as. Not system:masters, so a deny list applies. */
export const DEFAULT_TOKEN_USER: SimUser = { username: 'sim-admin', groups: ['system:authenticated'] };

const ANONYMOUS: SimUser = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

/** The bearer tokens the fake server accepts and who each one is. */
export class SimCallers {
  private readonly users = new Map<string, SimUser>();

  constructor(tokens: readonly string[], users: Readonly<Record<string, SimUser>>) {
    for (const token of tokens) this.users.set(token, DEFAULT_TOKEN_USER);
    for (const [token, user] of Object.entries(users)) this.users.set(token, user);
  }

  get size(): number {
    return this.users.size;
  }

  /** The user a token authenticates as, as TokenReview answers it; undefined for an unknown token. */
  byToken(token: string): SimUser | undefined {
    return this.users.get(token);
  }

  /**
   * Who made a request: a known bearer token, else a client certificate the server's client CA verified (user =
   * CN, groups = O, as kube-apiserver's x509 authenticator), else undefined. Anonymous when nothing is required.
   */
  identify(req: IncomingMessage, required: boolean): SimUser | undefined {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ') === true) {
      const user = this.users.get(header.slice(7).trim());
      if (user !== undefined) return user;
    }
    const socket = req.socket as Partial<TLSSocket>;
    // Node reports `authorized` true when the client sent no certificate at all (nothing failed verification),
    // so a certificate counts only when there is one.
    if (socket.authorized === true && socket.getPeerCertificate !== undefined) {
      // Node types each RDN as a string, but gives an array when a subject repeats one (several O = groups).
      const subject = socket.getPeerCertificate().subject as unknown as
        Partial<Record<string, string | string[]>> | undefined;
      const cn = subject?.CN;
      const org = subject?.O;
      if (typeof cn === 'string') {
        const groups = org === undefined ? [] : Array.isArray(org) ? org : [org];
        return { username: cn, groups: [...groups, 'system:authenticated'] };
      }
    }
    return required ? undefined : ANONYMOUS;
  }
}

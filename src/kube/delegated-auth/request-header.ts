import type { IncomingMessage } from 'node:http';
import type { RequestHeaderConfig } from './auth-config.js';
import type { RequestUser } from './guard.js';

/**
 * The user a front-proxy request names, read as k8s.io/apiserver's requestheader authenticator does: the first
 * non-empty username header, every value of every group header, `<prefix><key>` headers as extra (key lower-cased
 * and %-decoded). Undefined without a username. Call it only for a request whose certificate verified against the
 * request-header CA with an allowed name: anyone can send these headers.
 */
export function userFromHeaders(req: IncomingMessage, config: RequestHeaderConfig): RequestUser | undefined {
  const headers = req.headersDistinct;
  const first = (names: readonly string[]) => {
    for (const name of names) {
      const value = headers[name.toLowerCase()]?.find((v) => v !== '');
      if (value !== undefined) return value;
    }
    return undefined;
  };
  const name = first(config.usernameHeaders);
  if (name === undefined) return undefined;
  const uid = first(config.uidHeaders);
  const groups = config.groupHeaders.flatMap((h) => (headers[h.toLowerCase()] ?? []).filter((v) => v !== ''));
  const extra: Record<string, string[]> = {};
  for (const prefix of config.extraHeaderPrefixes.map((p) => p.toLowerCase())) {
    for (const [header, values] of Object.entries(headers)) {
      if (values === undefined || !header.startsWith(prefix) || header.length === prefix.length) continue;
      const key = unescapeExtraKey(header.slice(prefix.length));
      (extra[key] ??= []).push(...values);
    }
  }
  return { name, ...(uid === undefined ? {} : { uid }), groups, extra };
}

function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    // As the apiserver does: a malformed escape is kept as sent rather than dropped.
    return key;
  }
}

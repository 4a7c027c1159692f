/**
 * Redaction of credentials from text a remote peer sent (error bodies, watch error messages), before it goes into
 * a log line or an error message. A proxy or server that echoes the request puts our own Authorization header in
 * its answer; these rules take the secrets out and leave the rest readable.
 */

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/** Configured secrets shorter than this are not searched for: replacing every `t` would say nothing useful. */
export const MIN_SECRET_LENGTH = 8;

// `Authorization: …` / `Proxy-Authorization: …` lines, as an echoed request shows them; the header name stays.
const HEADER_LINE = /^([ \t]*(?:proxy-)?authorization[ \t]*:)[^\r\n]*/gim;
// The same headers as keys of a JSON object or a map dump: `"Authorization": "Bearer …"` or `["…"]`.
const HEADER_KEY = /((["'])(?:proxy-)?authorization\2[ \t]*[:=][ \t]*\[?[ \t]*)(["'])(?:\\.|(?!\3).)*\3/gi;
// Credentials of an HTTP authentication scheme, wherever they appear (looksLikeCredentials tells them from prose).
const SCHEME_CREDENTIALS = /\b(Bearer|Basic|Negotiate)([ \t]+)([A-Za-z0-9\-._~+/]+=*)/gi;
// A JSON Web Token: base64url parts, the first an encoded `{"` (`eyJ`); two parts are enough, for one cut short.
const JWT = /\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*)?/g;
// `password=…`, `"token": "…"`, `client_secret: …`: the value, quoted or not, up to a separator.
const SECRET_PAIR =
  /((["']?)[\w.-]*(?:password|passwd|pwd|secret|token|api_?key)\2[ \t]*[=:][ \t]*)("(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|[^\s&,;"'{}[\]]+)/gi;
// `scheme://user:password@host`: the password part.
const URL_PASSWORD = /(\/\/[^/\s:@]+:)[^/\s@]+@/g;

/**
 * Returns `text` without the credentials it may hold: Authorization and Proxy-Authorization header values,
 * `Bearer`/`Basic` credentials, anything shaped like a JWT, `password=…`-style pairs, URL passwords, and each of
 * `secrets` (the token or password configured for this peer) wherever it appears.
 *
 * @example
 * redact('echo: Authorization: Bearer abc.def\nstatus: 403'); // 'echo: Authorization: [redacted]\nstatus: 403'
 */
export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret === undefined || secret.length < MIN_SECRET_LENGTH) continue;
    out = withoutCutTail(out.split(secret).join(REDACTED), secret);
  }
  return out
    .replace(HEADER_LINE, `$1 ${REDACTED}`)
    .replace(HEADER_KEY, `$1$3${REDACTED}$3`)
    .replace(SCHEME_CREDENTIALS, (match, scheme: string, space: string, credentials: string) =>
      looksLikeCredentials(credentials) ? `${scheme}${space}${REDACTED}` : match,
    )
    .replace(JWT, REDACTED)
    .replace(SECRET_PAIR, (_match, key: string, _quote: string, value: string) => {
      const quote = value.startsWith('"') || value.startsWith("'") ? value[0] : '';
      return `${key}${quote ?? ''}${REDACTED}${quote ?? ''}`;
    })
    .replace(URL_PASSWORD, `$1${REDACTED}@`);
}

/** A body read up to a size limit may end in the first part of a secret: that part goes too. */
function withoutCutTail(text: string, secret: string): string {
  for (let length = Math.min(secret.length - 1, text.length); length >= MIN_SECRET_LENGTH; length--) {
    if (text.endsWith(secret.slice(0, length))) return text.slice(0, text.length - length) + REDACTED;
  }
  return text;
}

/**
 * Whether the word after `Bearer`/`Basic` is a credential rather than prose ("Bearer token required"): tokens are
 * long or hold digits or symbols; Basic credentials decode to `user:password`.
 */
function looksLikeCredentials(word: string): boolean {
  if (word.length >= 16 || /[^A-Za-z]/.test(word)) return true;
  return Buffer.from(word, 'base64').toString('latin1').includes(':');
}

/**
 * The credentials inside an Authorization header value (`Bearer abc` → `abc`), to pass to `redact` as a secret.
 *
 * @example
 * credentialsOf('Bearer abc'); // 'abc'
 */
export function credentialsOf(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  const space = authorization.indexOf(' ');
  return space < 0 ? authorization : authorization.slice(space + 1).trim();
}

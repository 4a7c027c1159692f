/** Environment variables as the loader sees them; `process.env` by default, any record in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/** The outcome of substituting one string: its new text, or why it could not be substituted. */
export type Substitution =
  { readonly ok: true; readonly value: string } | { readonly ok: false; readonly message: string };

// `$${` is an escaped literal `${`; `${env:NAME}` and `${env:NAME:-default}` are references; any other `${…}`
// is a mistake worth reporting rather than passing through silently.
const REFERENCE = /\$\$\{|\$\{([^}]*)\}/g;
const ENV_REFERENCE = /^env:([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/**
 * Substitutes `${env:NAME}` (and `${env:NAME:-default}`, used when NAME is unset or empty) in one string.
 * `$${` stands for a literal `${`.
 *
 * @example
 * substituteEnv('Bearer ${env:TOKEN}', { TOKEN: 'abc' }) // { ok: true, value: 'Bearer abc' }
 */
export function substituteEnv(text: string, env: Env): Substitution {
  if (!text.includes('${')) return { ok: true, value: text };
  const missing: string[] = [];
  const malformed: string[] = [];
  const value = text.replace(REFERENCE, (match: string, body: string | undefined) => {
    if (body === undefined) return '${';
    const reference = ENV_REFERENCE.exec(body);
    if (reference === null) {
      malformed.push(match);
      return match;
    }
    const name = reference[1] as string;
    const fallback = reference[2];
    const current = env[name];
    if (fallback !== undefined) return current === undefined || current === '' ? fallback : current;
    if (current === undefined) missing.push(name);
    return current ?? '';
  });
  if (malformed.length > 0) {
    return {
      ok: false,
      message: `unsupported reference ${malformed.map((m) => `"${m}"`).join(', ')}: use \${env:NAME}, \${env:NAME:-default}, or $\${ for a literal "\${"`,
    };
  }
  if (missing.length > 0) {
    const names = missing.map((name) => `"${name}"`).join(', ');
    return {
      ok: false,
      message: `environment variable ${names} is not set (set it, or give a default: \${env:${missing[0]}:-value})`,
    };
  }
  return { ok: true, value };
}

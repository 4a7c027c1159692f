/**
 * The messages of an error and its causes, joined, for the one line a failed request is logged as: Node's fetch
 * and undici put the useful part (`connect ECONNREFUSED …`) in a cause. A code the message does not already
 * name is added in parentheses.
 *
 * @example
 * causeChain(err) // 'fetch failed: connect ECONNREFUSED 127.0.0.1:6443'
 */
export function causeChain(err: unknown): string {
  const parts: string[] = [];
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    parts.push(typeof code === 'string' && !e.message.includes(code) ? `${e.message} (${code})` : e.message);
  }
  return parts.length > 0 ? parts.join(': ') : String(err);
}

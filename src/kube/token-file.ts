import { readFileSync, statSync } from 'node:fs';
import { ConfigError } from '../component/errors.js';
import type { Clock } from '../component/clock.js';

/**
 * A bearer token read from a file and re-read when the file changes (projected service-account tokens rotate
 * about hourly). The file is stat'ed at most once per `recheckMs`, so a scrape of thousands of nodes costs one
 * stat, not thousands of reads. The token itself is never logged or put into an error message.
 *
 * @example
 * const token = rotatingTokenFile('/var/run/secrets/kubernetes.io/serviceaccount/token', clock);
 * headers.authorization = `Bearer ${token()}`;
 */
export function rotatingTokenFile(path: string, clock: Clock, recheckMs = 5_000): () => string {
  let token = '';
  let stamp = '';
  let checkedAt = -Infinity;
  return () => {
    const now = clock.now();
    if (now - checkedAt < recheckMs && stamp !== '') return token;
    checkedAt = now;
    let current: string;
    try {
      const stat = statSync(path);
      current = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
      if (current === stamp) return token;
      const text = readFileSync(path, 'utf8').trim();
      if (text === '') throw new Error('the file is empty');
      token = text;
      stamp = current;
    } catch (err) {
      // Keep serving the last good token while a rotation is half-written; fail only if there never was one.
      if (token !== '') return token;
      throw new ConfigError([`token file ${path}: cannot read a bearer token: ${(err as Error).message}`], {
        cause: err,
      });
    }
    return token;
  };
}

import { catchError, throwError, type Observable } from 'rxjs';
import { ConfigError } from '../component/errors.js';

/** A problem that starts with a key path (`tls.ca_file: …`), which the component's name then prefixes. */
const KEY_PATH = /^[a-z_][\w.[\]]*:/;

/**
 * A component's ConfigError with its name in front of every problem, so a line such as `tls.ca_file: cannot
 * read …` says which sink it came from: `sinks.lake.tls.ca_file: cannot read …`. Other errors pass as they are.
 *
 * @example
 * named('sinks.lake', new ConfigError(['tls.ca_file: cannot read ca.pem'])) // problems: ['sinks.lake.tls.ca_file: …']
 */
export function named(name: string, err: unknown): unknown {
  if (!(err instanceof ConfigError)) return err;
  const problems = err.problems.map((problem) => {
    if (problem.startsWith(`${name}.`) || problem.startsWith(`${name}:`)) return problem;
    return KEY_PATH.test(problem) ? `${name}.${problem}` : `${name}: ${problem}`;
  });
  return new ConfigError(problems, { cause: err });
}

/** Calls a component's `create()`, naming it in a ConfigError it throws (a file it could not read, say). */
export function createNamed<T>(name: string, create: () => T): T {
  try {
    return create();
  } catch (err) {
    throw named(name, err);
  }
}

/** The same for a source's errors, which arrive when it starts (after discovery, say), not from `create()`. */
export function namedErrors<T>(name: string): (source: Observable<T>) => Observable<T> {
  return catchError((err: unknown) => throwError(() => named(name, err)));
}

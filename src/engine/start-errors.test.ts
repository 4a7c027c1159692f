import { firstValueFrom, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../component/errors.js';
import { createNamed, named, namedErrors } from './start-errors.js';

describe('a component ConfigError found at start-up', () => {
  it('gets the component name in front: as a key path prefix, or before a sentence', () => {
    const err = named(
      'sinks.lake',
      new ConfigError([
        'tls.ca_file: cannot read /etc/ca.pem: ENOENT',
        'token file /t: cannot read a bearer token',
      ]),
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      'sinks.lake.tls.ca_file: cannot read /etc/ca.pem: ENOENT',
      'sinks.lake: token file /t: cannot read a bearer token',
    ]);
  });

  it('keeps a problem that names the component already, and passes other errors as they are', () => {
    const own = named('source', new ConfigError(['source.tls.ca_file: cannot read x']));
    expect((own as ConfigError).problems).toEqual(['source.tls.ca_file: cannot read x']);
    const custom = named(
      'processors[0] (custom)',
      new ConfigError(['processors[0] (custom): plugin failed']),
    );
    expect((custom as ConfigError).problems).toEqual(['processors[0] (custom): plugin failed']);
    const fault = new TypeError('x is undefined');
    expect(named('source', fault)).toBe(fault);
  });

  it('is named whether create() throws it or the source emits it when it starts', async () => {
    expect(() =>
      createNamed('sinks.bus', () => {
        throw new ConfigError(['sasl.password_file: cannot read /p']);
      }),
    ).toThrow(expect.objectContaining({ problems: ['sinks.bus.sasl.password_file: cannot read /p'] }));
    const started = throwError(() => new ConfigError(['discovery.kubernetes: 401'])).pipe(
      namedErrors('source'),
    );
    await expect(firstValueFrom(started)).rejects.toMatchObject({
      problems: ['source.discovery.kubernetes: 401'],
    });
  });
});

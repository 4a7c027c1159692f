import { describe, expect, it } from 'vitest';
import { parseAuthenticationConfig } from './auth-config.js';

describe('parseAuthenticationConfig', () => {
  it('has no request-header settings without requestheader-client-ca-file (no aggregation layer)', () => {
    expect(parseAuthenticationConfig({})).toEqual({ clientCa: [], requestHeader: undefined });
  });

  it('names the key whose value does not parse', () => {
    expect(() => parseAuthenticationConfig({ 'client-ca-file': 'not a pem' })).toThrow(/client-ca-file/);
    expect(() =>
      parseAuthenticationConfig({
        'requestheader-client-ca-file': '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
      }),
    ).toThrow(/requestheader-client-ca-file: certificate 1/);
  });
});

import { describe, expect, it } from 'vitest';
import { credentialsOf, redact } from './redact.js';

const JWT =
  'eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6aGVhcHN0cmVhbSJ9.c2lnbmF0dXJl';

describe('redact', () => {
  it('takes the values out of echoed Authorization and Proxy-Authorization header lines', () => {
    const echoed = [
      'GET /stats/summary HTTP/1.1',
      'Host: 10.0.0.1:10255',
      'Authorization: Bearer s3cr3t-t0ken',
      'proxy-authorization: Basic dXNlcjpwYXNz',
      'User-Agent: heapstream',
    ].join('\n');
    expect(redact(echoed)).toBe(
      [
        'GET /stats/summary HTTP/1.1',
        'Host: 10.0.0.1:10255',
        'Authorization: [redacted]',
        'proxy-authorization: [redacted]',
        'User-Agent: heapstream',
      ].join('\n'),
    );
  });

  it('takes them out of headers echoed as JSON, keeping the JSON valid', () => {
    const body = JSON.stringify({ headers: { Authorization: 'Bearer abc', 'User-Agent': 'heapstream' } });
    const out = redact(body);
    expect(out).not.toContain('abc');
    expect(JSON.parse(out)).toEqual({ headers: { Authorization: '[redacted]', 'User-Agent': 'heapstream' } });
    expect(redact('{"authorization":["Bearer abc123"]}')).toBe('{"authorization":["[redacted]"]}');
  });

  it('takes out Bearer and Basic credentials anywhere, but not the words in prose', () => {
    expect(redact('got "bearer abc.def-1" from you')).toBe('got "bearer [redacted]" from you');
    expect(redact('x Basic dXNlcjpwYXNz y')).toBe('x Basic [redacted] y');
    expect(redact('Bearer token required; Basic auth is off')).toBe(
      'Bearer token required; Basic auth is off',
    );
  });

  it('takes out the configured secrets wherever they appear', () => {
    expect(redact('you sent plainsecretvalue, wrong', ['plainsecretvalue'])).toBe(
      'you sent [redacted], wrong',
    );
    // Short secrets are not searched for: every "t" would go.
    expect(redact('token t rejected', ['t', undefined])).toBe('token t rejected');
    // A body cut at a size limit in the middle of the secret.
    expect(redact('echo: plainsecr', ['plainsecretvalue'])).toBe('echo: [redacted]');
  });

  it('takes out anything shaped like a JWT', () => {
    expect(redact(`invalid token ${JWT} (expired)`)).toBe('invalid token [redacted] (expired)');
    expect(redact(`echo ${JWT.slice(0, 60)}`)).toBe('echo [redacted]');
  });

  it('takes out password=… style pairs, quoted or not, and URL passwords', () => {
    expect(redact('login failed for user=admin&password=hunter2&db=k8s')).toBe(
      'login failed for user=admin&password=[redacted]&db=k8s',
    );
    expect(redact('{"error":"bad","token":"abc","db_password": "x y"}')).toBe(
      '{"error":"bad","token":"[redacted]","db_password": "[redacted]"}',
    );
    expect(redact('client_secret: zzz; api_key=1')).toBe('client_secret: [redacted]; api_key=[redacted]');
    // A key whose value is an object or list is left alone rather than cut into invalid JSON.
    expect(redact('{"secret":{"name":"s"},"tokens":[1]}')).toBe('{"secret":{"name":"s"},"tokens":[1]}');
    expect(redact('dial https://admin:hunter2@influx:8086 failed')).toBe(
      'dial https://admin:[redacted]@influx:8086 failed',
    );
  });

  it('leaves an ordinary error body as it was', () => {
    const body =
      '{"kind":"Status","apiVersion":"v1","status":"Failure","message":"nodes \\"n1\\" is forbidden: User \\"system:serviceaccount:heapstream:heapstream\\" cannot get resource \\"nodes/proxy\\"","reason":"Forbidden","code":403}';
    expect(redact(body)).toBe(body);
    expect(
      redact('partial write: field type conflict: input field "value" on measurement "memory/usage"'),
    ).toBe('partial write: field type conflict: input field "value" on measurement "memory/usage"');
  });
});

describe('credentialsOf', () => {
  it('gives the credentials of an Authorization value', () => {
    expect(credentialsOf('Bearer abc')).toBe('abc');
    expect(credentialsOf('opaque')).toBe('opaque');
    expect(credentialsOf(undefined)).toBeUndefined();
  });
});

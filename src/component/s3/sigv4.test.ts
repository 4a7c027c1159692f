import { describe, expect, it } from 'vitest';
import { sha256Hex, signRequest, uriEncode } from './sigv4.js';

// The examples of AWS's S3 API reference, "Signature calculations for the Authorization header: transferring
// payload in a single chunk (AWS Signature Version 4)" → "Examples: Signature calculations". The expected
// signatures are the ones printed there, not values this code produced.
const exampleCredentials = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const exampleTime = new Date('2013-05-24T00:00:00Z');
const emptyHash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function signatureOf(authorization: string | undefined): string | undefined {
  return /Signature=([0-9a-f]{64})$/.exec(authorization ?? '')?.[1];
}

describe('signRequest (AWS Signature Version 4)', () => {
  it('signs the GET Object example of the S3 documentation to the documented signature', () => {
    const headers = signRequest({
      method: 'GET',
      url: new URL('https://examplebucket.s3.amazonaws.com/test.txt'),
      headers: { Range: 'bytes=0-9' },
      payloadHash: sha256Hex(''),
      region: 'us-east-1',
      service: 's3',
      credentials: exampleCredentials,
      now: exampleTime,
    });
    expect(headers['x-amz-content-sha256']).toBe(emptyHash);
    expect(headers['x-amz-date']).toBe('20130524T000000Z');
    expect(headers['authorization']).toContain(
      'Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request',
    );
    expect(headers['authorization']).toContain('SignedHeaders=host;range;x-amz-content-sha256;x-amz-date');
    expect(signatureOf(headers['authorization'])).toBe(
      'f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41',
    );
  });

  it('signs the GET Bucket (list objects) example, whose query parameters are sorted', () => {
    const headers = signRequest({
      method: 'GET',
      url: new URL('https://examplebucket.s3.amazonaws.com/?prefix=J&max-keys=2'),
      headers: {},
      payloadHash: emptyHash,
      region: 'us-east-1',
      service: 's3',
      credentials: exampleCredentials,
      now: exampleTime,
    });
    expect(signatureOf(headers['authorization'])).toBe(
      '34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7',
    );
  });

  it('signs a changed request differently (the secret, a header and the body all count)', () => {
    const base = {
      method: 'PUT',
      url: new URL('https://examplebucket.s3.amazonaws.com/a.parquet'),
      headers: { 'content-type': 'application/octet-stream' },
      payloadHash: sha256Hex('body'),
      region: 'us-east-1',
      service: 's3',
      credentials: exampleCredentials,
      now: exampleTime,
    };
    const reference = signatureOf(signRequest(base)['authorization']);
    const variants = [
      { ...base, credentials: { ...exampleCredentials, secretAccessKey: 'other' } },
      { ...base, headers: { 'content-type': 'text/plain' } },
      { ...base, payloadHash: sha256Hex('Body') },
      { ...base, region: 'eu-west-1' },
    ];
    for (const variant of variants)
      expect(signatureOf(signRequest(variant)['authorization'])).not.toBe(reference);
  });

  it('adds and signs the session token of temporary credentials', () => {
    const headers = signRequest({
      method: 'GET',
      url: new URL('http://127.0.0.1:9000/bucket/key'),
      headers: {},
      payloadHash: emptyHash,
      region: 'us-east-1',
      service: 's3',
      credentials: { ...exampleCredentials, sessionToken: 'token/with=chars' },
      now: exampleTime,
    });
    expect(headers['x-amz-security-token']).toBe('token/with=chars');
    expect(headers['authorization']).toContain('x-amz-security-token');
    expect(headers['host']).toBe('127.0.0.1:9000');
  });
});

describe('uriEncode', () => {
  it('keeps only RFC 3986 unreserved characters (and / in paths)', () => {
    expect(uriEncode('a b/c=d~é$', true)).toBe('a%20b/c%3Dd~%C3%A9%24');
    expect(uriEncode('a/b', false)).toBe('a%2Fb');
  });
});

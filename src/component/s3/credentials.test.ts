import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  environmentCredentials,
  fileCredentials,
  parseIni,
  webIdentityCredentials,
  webIdentityFromEnvironment,
} from './credentials.js';

const dir = mkdtempSync(join(tmpdir(), 'heapstream-credentials-'));

describe('environmentCredentials', () => {
  it('reads the keys and the session token', async () => {
    const provider = environmentCredentials({
      AWS_ACCESS_KEY_ID: 'AKID',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'session',
    });
    expect(await provider.credentials()).toEqual({
      accessKeyId: 'AKID',
      secretAccessKey: 'secret',
      sessionToken: 'session',
    });
  });

  it('names both variables when one is missing', async () => {
    await expect(environmentCredentials({ AWS_ACCESS_KEY_ID: 'AKID' }).credentials()).rejects.toThrow(
      /AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/,
    );
  });
});

describe('fileCredentials (AWS shared-credentials INI)', () => {
  const file = join(dir, 'credentials');
  writeFileSync(
    file,
    [
      '# written by aws configure',
      '[default]',
      'aws_access_key_id = AKIDDEFAULT',
      'aws_secret_access_key = secret/default',
      '',
      '[lake]',
      'aws_access_key_id=AKIDLAKE',
      '; a comment',
      'aws_secret_access_key=secret=with=equals',
      'aws_session_token = token',
    ].join('\n'),
  );

  it('reads the named profile', async () => {
    expect(await fileCredentials(file, 'lake').credentials()).toEqual({
      accessKeyId: 'AKIDLAKE',
      secretAccessKey: 'secret=with=equals',
      sessionToken: 'token',
    });
    expect((await fileCredentials(file, 'default').credentials()).secretAccessKey).toBe('secret/default');
  });

  it('names the profile and the file when the profile is absent', async () => {
    await expect(fileCredentials(file, 'nope').credentials()).rejects.toThrow(
      `${file} has no profile [nope]`,
    );
  });

  it('names the file when it cannot be read', async () => {
    await expect(fileCredentials(join(dir, 'missing'), 'default').credentials()).rejects.toThrow(
      /credentials\.file: cannot read .*missing/,
    );
  });

  it('accepts the `[profile name]` headers of ~/.aws/config', () => {
    expect(parseIni('[profile x]\na = 1').get('x')?.get('a')).toBe('1');
  });
});

describe('webIdentityCredentials (STS AssumeRoleWithWebIdentity)', () => {
  const calls: URLSearchParams[] = [];
  let close: (() => void) | undefined;
  afterEach(() => close?.());

  /** A loopback STS that answers with keys numbered by call, expiring `lifetimeMs` after `clock()`. */
  async function sts(clock: () => number, lifetimeMs: number, status = 200): Promise<string> {
    const server = createServer((req: IncomingMessage, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      req.on('end', () => {
        calls.push(new URLSearchParams(body));
        if (status !== 200) {
          res.writeHead(status, { 'content-type': 'text/xml' });
          res.end(
            '<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>' +
              '<Message>token expired</Message></Error></ErrorResponse>',
          );
          return;
        }
        const n = calls.length;
        const expiration = new Date(clock() + lifetimeMs).toISOString();
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          `<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>` +
            `<AccessKeyId>ASIA${n}</AccessKeyId><SecretAccessKey>secret${n}</SecretAccessKey>` +
            `<SessionToken>token&amp;${n}</SessionToken><Expiration>${expiration}</Expiration>` +
            `</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>`,
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    close = () => server.close();
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  it('sends the role and the token file content, and refreshes only near expiry', async () => {
    calls.length = 0;
    let clock = Date.parse('2026-01-01T00:00:00Z');
    const endpoint = await sts(() => clock, 60 * 60_000);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'eyJ.first\n');
    const provider = webIdentityCredentials({
      ...webIdentityFromEnvironment('us-east-1', {
        AWS_ROLE_ARN: 'arn:aws:iam::123456789012:role/heapstream',
        AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
        AWS_ROLE_SESSION_NAME: 'hs',
      }),
      stsEndpoint: endpoint,
      now: () => clock,
    });

    const first = await provider.credentials();
    expect(first).toMatchObject({
      accessKeyId: 'ASIA1',
      secretAccessKey: 'secret1',
      sessionToken: 'token&1',
    });
    expect(Object.fromEntries(calls[0] ?? [])).toEqual({
      Action: 'AssumeRoleWithWebIdentity',
      Version: '2011-06-15',
      RoleArn: 'arn:aws:iam::123456789012:role/heapstream',
      RoleSessionName: 'hs',
      WebIdentityToken: 'eyJ.first',
    });

    clock += 30 * 60_000; // half-way: the cached keys are still good
    expect((await provider.credentials()).accessKeyId).toBe('ASIA1');
    expect(calls).toHaveLength(1);

    clock += 26 * 60_000; // four minutes left: inside the five-minute margin, so refresh with the rotated token
    writeFileSync(tokenFile, 'eyJ.second');
    expect((await provider.credentials()).accessKeyId).toBe('ASIA2');
    expect(calls[1]?.get('WebIdentityToken')).toBe('eyJ.second');
  });

  it("quotes STS's error code and message", async () => {
    calls.length = 0;
    const endpoint = await sts(() => Date.now(), 0, 400);
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'x');
    const provider = webIdentityCredentials({
      roleArn: 'arn:aws:iam::1:role/r',
      tokenFile,
      sessionName: 's',
      stsEndpoint: endpoint,
    });
    await expect(provider.credentials()).rejects.toThrow(/HTTP 400 InvalidIdentityToken: token expired/);
  });

  it('names the variables EKS sets when they are missing', () => {
    expect(() => webIdentityFromEnvironment('us-east-1', {})).toThrow(
      /AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE/,
    );
  });
});

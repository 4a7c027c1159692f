import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { readSecret } from './secrets.js';

describe('readSecret', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'heapstream-secret-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('returns the inline value, or undefined when neither key is set', () => {
    expect(readSecret('inline', undefined, dir, 'token')).toBe('inline');
    expect(readSecret(undefined, undefined, dir, 'token')).toBeUndefined();
  });

  it('reads a file relative to baseDir and trims the trailing newline', () => {
    writeFileSync(join(dir, 'token.txt'), '  s3cret\n');
    expect(readSecret(undefined, 'token.txt', dir, 'token')).toBe('s3cret');
    expect(readSecret(undefined, join(dir, 'token.txt'), '/elsewhere', 'token')).toBe('s3cret');
  });

  it('names the key when the file cannot be read or is empty', () => {
    expect(() => readSecret(undefined, 'nope.txt', dir, 'token')).toThrow(ConfigError);
    expect(() => readSecret(undefined, 'nope.txt', dir, 'token')).toThrow(
      /^token_file: cannot read .*nope\.txt/,
    );
    writeFileSync(join(dir, 'empty.txt'), '\n');
    expect(() => readSecret(undefined, 'empty.txt', dir, 'password')).toThrow(
      /^password_file: .*empty\.txt is empty/,
    );
  });

  it('refuses both the value and the file', () => {
    expect(() => readSecret('a', 'b', dir, 'token')).toThrow(
      'token and token_file are both set: use one of them',
    );
  });
});

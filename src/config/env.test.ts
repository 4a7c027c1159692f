import { describe, expect, it } from 'vitest';
import { substituteEnv } from './env.js';

describe('substituteEnv', () => {
  it('replaces references, anywhere in the string', () => {
    expect(substituteEnv('${env:A}-${env:B}', { A: 'x', B: 'y' })).toEqual({ ok: true, value: 'x-y' });
  });

  it('uses the default when the variable is unset or empty, and the value otherwise', () => {
    expect(substituteEnv('${env:PORT:-8086}', {})).toEqual({ ok: true, value: '8086' });
    expect(substituteEnv('${env:PORT:-8086}', { PORT: '' })).toEqual({ ok: true, value: '8086' });
    expect(substituteEnv('${env:PORT:-8086}', { PORT: '9000' })).toEqual({ ok: true, value: '9000' });
    expect(substituteEnv('${env:EMPTY_OK:-}', {})).toEqual({ ok: true, value: '' });
  });

  it('keeps a set-but-empty variable without default as an empty string', () => {
    expect(substituteEnv('[${env:E}]', { E: '' })).toEqual({ ok: true, value: '[]' });
  });

  it('treats $${ as a literal ${', () => {
    expect(substituteEnv('$${env:A} and $${x}', { A: 'no' })).toEqual({
      ok: true,
      value: '${env:A} and ${x}',
    });
  });

  it('never substitutes inside a substituted value', () => {
    expect(substituteEnv('${env:A}', { A: '${env:B}', B: 'deep' })).toEqual({ ok: true, value: '${env:B}' });
  });

  it('names every unset variable', () => {
    const result = substituteEnv('${env:ONE} ${env:TWO}', {});
    expect(result.ok).toBe(false);
    expect(!result.ok && result.message).toBe(
      'environment variable "ONE", "TWO" is not set (set it, or give a default: ${env:ONE:-value})',
    );
  });

  it('rejects references it does not understand instead of passing them through', () => {
    const result = substituteEnv('${HOME}/x', { HOME: '/root' });
    expect(!result.ok && result.message).toMatch(/^unsupported reference "\$\{HOME\}"/);
  });

  it('leaves strings without references untouched', () => {
    expect(substituteEnv('plain $ text {}', {})).toEqual({ ok: true, value: 'plain $ text {}' });
  });
});

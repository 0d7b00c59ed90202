/**
 * The identity provider's refresh tokens at rest (docs/AUTH.md, "Tokens the gateway issues"):
 * sealed with AES-256-GCM under the operator's key, bound to the person they belong to.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretSealer } from '../src/gateway/authorization-server/sealed-secret.js';
import { OptionError } from '../src/protocol/options.js';

describe('a sealed secret', () => {
  const key = randomBytes(32);
  const sealer = new SecretSealer(key);

  it('opens with the same key for the same record, and shows nothing of the secret', () => {
    const sealed = sealer.seal('provider-refresh-token-123', '["iss","alice"]');
    expect(sealed).not.toContain('provider-refresh-token');
    expect(sealer.open(sealed, '["iss","alice"]')).toBe('provider-refresh-token-123');
    // A new nonce each time: the same secret never seals the same way twice.
    expect(sealer.seal('provider-refresh-token-123', '["iss","alice"]')).not.toBe(sealed);
  });

  it('does not open for another record, under another key, or altered', () => {
    const sealed = sealer.seal('secret', 'alice');
    expect(sealer.open(sealed, 'bob')).toBeUndefined();
    expect(new SecretSealer(randomBytes(32)).open(sealed, 'alice')).toBeUndefined();
    const parts = sealed.split('.');
    const bytes = Buffer.from(parts[3]!, 'base64url');
    bytes[0]! ^= 1;
    expect(sealer.open([...parts.slice(0, 3), bytes.toString('base64url')].join('.'), 'alice')).toBeUndefined();
    expect(sealer.open('not sealed', 'alice')).toBeUndefined();
  });

  it('takes a key as 64 hex digits or base64, and refuses anything but 32 bytes with a coded error', () => {
    const sealed = SecretSealer.fromText(key.toString('hex')).seal('x', 'r');
    expect(SecretSealer.fromText(`${key.toString('base64')}\n`).open(sealed, 'r')).toBe('x');
    for (const text of ['', 'short', randomBytes(16).toString('hex'), randomBytes(31).toString('base64')])
      expect(() => SecretSealer.fromText(text)).toThrow(OptionError);
  });
});

describe('a key ring (rotation)', () => {
  it('seals under the first key and opens under any held: the old key, listed second, still opens what it sealed', () => {
    const [old, next] = [randomBytes(32), randomBytes(32)];
    const before = new SecretSealer(old).seal('grant', 'r');
    const ring = SecretSealer.fromText(`# rotated\n${next.toString('hex')}\n\n${old.toString('base64')}\n`);
    expect(ring.open(before, 'r')).toBe('grant');
    expect(ring.sealedUnderCurrent(before)).toBe(false);
    const after = ring.seal('grant', 'r');
    expect(ring.sealedUnderCurrent(after)).toBe(true);
    expect(new SecretSealer(old).open(after, 'r')).toBeUndefined();
    expect(new SecretSealer(next).open(after, 'r')).toBe('grant');
    expect(SecretSealer.keyIdOf(before)).not.toBe(ring.currentKeyId);
  });
});

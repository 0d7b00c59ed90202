/**
 * The vault (src/gateway/credentials/vault.ts) in process, against the memory store's grants:
 * what a database reader or writer can and cannot do with it (docs/CREDENTIALS.md, "Threat
 * model"), and a key rotated without asking anyone to connect again.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SecretSealer } from '../src/gateway/authorization-server/sealed-secret.js';
import { Vault } from '../src/gateway/credentials/vault.js';
import { OptionError } from '../src/protocol/options.js';
import { MemoryGrants } from '../src/store/memory/memory-grants.js';
import type { GrantStore } from '../src/store/grant-store.js';

const DAY = 24 * 3600_000;
const tokens = { accessToken: 'at-alice-0123456789', refreshToken: 'rt-alice-0123456789', expiresAt: Date.now() + 3600_000 };

/** The grants with a way to read and write raw values, as someone with the database file would. */
function store(): GrantStore & { raw: Map<string, string> } {
  const grants = new MemoryGrants();
  const raw = new Map<string, string>();
  return Object.assign(grants, {
    raw,
    add: async (key: string, value: string, expiresAt: number, now: number) => {
      const added = await MemoryGrants.prototype.add.call(grants, key, value, expiresAt, now);
      if (added) raw.set(key, value);
      return added;
    },
    swap: async (key: string, expected: string, next: string | undefined, expiresAt: number, now: number) => {
      const swapped = await MemoryGrants.prototype.swap.call(grants, key, expected, next, expiresAt, now);
      if (swapped) {
        if (next === undefined) raw.delete(key);
        else raw.set(key, next);
      }
      return swapped;
    },
  });
}

describe('the vault', () => {
  it('keeps no token in clear, and opens only for the person and server it was kept for', async () => {
    const grants = store();
    const vault = new Vault(grants, new SecretSealer(randomBytes(32)), 90 * DAY, Date.now);
    await vault.connect('["idp","alice"]', 'issues', 'alice', tokens);
    const kept = [...grants.raw.entries()].map(([key, value]) => `${key} ${value}`).join('\n');
    expect(kept).not.toContain('at-alice');
    expect(kept).not.toContain('rt-alice');
    expect((await vault.read('["idp","alice"]', 'issues'))?.tokens).toEqual(tokens);
    expect(await vault.read('["idp","bob"]', 'issues')).toBeUndefined();
    expect(await vault.read('["idp","alice"]', 'other')).toBeUndefined();
    expect(await vault.list('["idp","alice"]', ['issues', 'other'])).toEqual([
      expect.objectContaining({ server: 'issues', person: 'alice' }),
    ]);
  });

  it("a record copied under another person's key, or altered, does not open: that person is simply not connected", async () => {
    const grants = store();
    const vault = new Vault(grants, new SecretSealer(randomBytes(32)), 90 * DAY, Date.now);
    await vault.connect('["idp","alice"]', 'issues', 'alice', tokens);
    await vault.connect('["idp","bob"]', 'issues', 'bob', { accessToken: 'at-bob-0123456789' });
    const [aliceKey, bobKey] = [...grants.raw.keys()].filter((key) => key.startsWith('vault:'));
    const aliceRecord = grants.raw.get(aliceKey!)!;
    // Bob's row overwritten with Alice's: the seals name Alice's row, so it opens for nobody.
    expect(await grants.swap(bobKey!, grants.raw.get(bobKey!)!, aliceRecord, Date.now() + DAY, Date.now())).toBe(true);
    expect(await vault.read('["idp","bob"]', 'issues')).toBeUndefined();
    // One bit of Alice's sealed tokens flipped: it no longer opens.
    const stored = JSON.parse(aliceRecord) as { tokens: string };
    const parts = stored.tokens.split('.');
    const bytes = Buffer.from(parts[3]!, 'base64url');
    bytes[0]! ^= 1;
    const altered = JSON.stringify({ ...stored, tokens: [...parts.slice(0, 3), bytes.toString('base64url')].join('.') });
    expect(await grants.swap(aliceKey!, aliceRecord, altered, Date.now() + DAY, Date.now())).toBe(true);
    expect(await vault.read('["idp","alice"]', 'issues')).toBeUndefined();
  });

  it('a rotated key: the new one first, the old after it; records read are sealed again under the new one, and then open without the old', async () => {
    const grants = store();
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    await new Vault(grants, new SecretSealer(oldKey), 90 * DAY, Date.now).connect('["idp","alice"]', 'issues', 'alice', tokens);
    const rotated = new Vault(grants, new SecretSealer(newKey, oldKey), 90 * DAY, Date.now);
    await rotated.checkKey();
    expect((await rotated.read('["idp","alice"]', 'issues'))?.tokens).toEqual(tokens);
    const onlyNew = new Vault(grants, new SecretSealer(newKey), 90 * DAY, Date.now);
    await onlyNew.checkKey();
    expect((await onlyNew.read('["idp","alice"]', 'issues'))?.tokens).toEqual(tokens);
  });

  it('a key that opens nothing of this vault is refused when checked, with a coded error naming both keys', async () => {
    const grants = store();
    await new Vault(grants, new SecretSealer(randomBytes(32)), 90 * DAY, Date.now).checkKey();
    const wrong = new Vault(grants, new SecretSealer(randomBytes(32)), 90 * DAY, Date.now);
    await expect(wrong.checkKey()).rejects.toThrow(OptionError);
    await expect(wrong.checkKey()).rejects.toThrow(/sealed under key \S+, the file's first key is \S+/);
  });
});

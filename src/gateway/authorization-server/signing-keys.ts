/**
 * @module gateway/authorization-server/signing-keys
 * The keys that sign the gateway's access tokens: one ES256 key per rotation period, created by
 * whichever replica needs it first and kept in the store's secrets (the first writer wins), so
 * every replica signs and verifies with the same keys and a restart keeps them. The key set
 * published at `jwks_uri` holds the previous, current and next periods' public keys: a token
 * signed just before a rotation still verifies, and a replica whose clock runs a little ahead
 * is verified by the others.
 */
import { generateKeyPairSync } from 'node:crypto';
import { importJWK, type JWK, type JWTPayload, SignJWT } from 'jose';
import type { SecretStore } from '../../store/secret-store.js';

const ALGORITHM = 'ES256';

type KeyLike = Awaited<ReturnType<typeof importJWK>>;

interface PeriodKey {
  kid: string;
  privateKey: KeyLike;
  publicKey: KeyLike;
  publicJwk: JWK;
}

export class SigningKeys {
  readonly #secrets: SecretStore;
  readonly #rotationMs: number;
  readonly #loaded = new Map<number, Promise<PeriodKey>>();

  constructor(secrets: SecretStore, rotationMs: number) {
    this.#secrets = secrets;
    this.#rotationMs = rotationMs;
  }

  async sign(claims: JWTPayload, now: number): Promise<string> {
    const key = await this.#key(this.#period(now));
    return new SignJWT(claims).setProtectedHeader({ alg: ALGORITHM, kid: key.kid, typ: 'at+jwt' }).sign(key.privateKey);
  }

  /** The public key named by `kid` if it is one of the periods in force (previous, current, next); none else. */
  async verificationKey(kid: unknown, now: number): Promise<KeyLike | undefined> {
    const period = typeof kid === 'string' ? periodOf(kid) : undefined;
    if (period === undefined || Math.abs(period - this.#period(now)) > 1) return undefined;
    return (await this.#key(period)).publicKey;
  }

  /** The key set published at `jwks_uri`. */
  async jwks(now: number): Promise<{ keys: JWK[] }> {
    const current = this.#period(now);
    const keys = await Promise.all([current - 1, current, current + 1].map((period) => this.#key(period)));
    return { keys: keys.map((key) => key.publicJwk) };
  }

  #period(now: number): number {
    return Math.floor(now / this.#rotationMs);
  }

  #key(period: number): Promise<PeriodKey> {
    let loaded = this.#loaded.get(period);
    if (loaded === undefined) {
      loaded = this.#load(period);
      loaded.catch(() => this.#loaded.delete(period));
      this.#loaded.set(period, loaded);
      // Periods long past are not needed again.
      for (const kept of this.#loaded.keys()) if (kept < period - 2) this.#loaded.delete(kept);
    }
    return loaded;
  }

  async #load(period: number): Promise<PeriodKey> {
    const kid = `sg-${period}`;
    const text = await this.#secrets.shared(`oauth-signing-key:${period}`, () =>
      JSON.stringify(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' })),
    );
    const jwk = JSON.parse(text) as JWK;
    const { d: _private, ...publicPart } = jwk;
    const publicJwk: JWK = { ...publicPart, kid, alg: ALGORITHM, use: 'sig' };
    return {
      kid,
      privateKey: await importJWK({ ...jwk, alg: ALGORITHM }, ALGORITHM),
      publicKey: await importJWK(publicJwk, ALGORITHM),
      publicJwk,
    };
  }
}

function periodOf(kid: string): number | undefined {
  const match = /^sg-(\d{1,12})$/.exec(kid);
  return match ? Number(match[1]) : undefined;
}

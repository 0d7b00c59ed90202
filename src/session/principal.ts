/**
 * @module session/principal
 * Identity binding (Security Best Practices, "Session Hijacking"): the record keeps a keyed hash
 * of the authenticated identity, never the credential. The key comes from configuration or from
 * the store's shared secret, so it survives restarts and is the same on every replica.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { SecretStore } from '../store/secret-store.js';

const SECRET_NAME = 'principal-key';
const CACHE_LIMIT = 1024;

export class PrincipalHasher {
  readonly #key: Promise<string>;
  /** Recent identity -> hash; hashing is per request, identities repeat. */
  readonly #cache = new Map<string, string>();

  constructor(secrets: SecretStore, configuredKey?: string) {
    this.#key =
      configuredKey !== undefined
        ? Promise.resolve(configuredKey)
        : secrets.shared(SECRET_NAME, () => randomBytes(32).toString('base64url'));
    // A rejected key load is reported by whoever awaits hash(); never unhandled here.
    this.#key.catch(() => {});
  }

  /** The keyed hash of `identity`, or null for anonymous. */
  async hash(identity: string | undefined): Promise<string | null> {
    if (identity === undefined) return null;
    const cached = this.#cache.get(identity);
    if (cached !== undefined) return cached;
    const digest = createHmac('sha256', await this.#key)
      .update(identity)
      .digest('base64url')
      .slice(0, 32);
    if (this.#cache.size >= CACHE_LIMIT) this.#cache.delete(this.#cache.keys().next().value!);
    this.#cache.set(identity, digest);
    return digest;
  }
}

/**
 * @module store/redis/redis-grants
 * The authorization server's records on Redis (store/grant-store.ts): one key each, kept as
 * "expiresAt:value" with a native TTL; adding and the compare-and-set are Lua scripts
 * (scripts.ts), so two replicas never both use one code or rotate one refresh token.
 */
import type { GrantStore } from '../grant-store.js';
import type { RedisConnection } from './redis-connection.js';

export class RedisGrants implements GrantStore {
  readonly #redis: RedisConnection;

  constructor(redis: RedisConnection) {
    this.#redis = redis;
  }

  async add(key: string, value: string, expiresAt: number, now: number): Promise<boolean> {
    const added = await this.#redis.call(() =>
      this.#redis.redis.sgAddGrant(this.#key(key), kept(value, expiresAt), ttl(expiresAt, now), now),
    );
    return added === 1;
  }

  async get(key: string, now: number): Promise<string | undefined> {
    const text = await this.#redis.call(() => this.#redis.redis.get(this.#key(key)));
    return text === null ? undefined : liveValue(text, now);
  }

  async swap(key: string, expected: string, next: string | undefined, expiresAt: number, now: number): Promise<boolean> {
    // One round trip: the script compares the live value (its expiry not passed) with `expected`.
    const swapped = await this.#redis.call(() =>
      this.#redis.redis.sgSwapGrant(this.#key(key), expected, next === undefined ? '' : kept(next, expiresAt), ttl(expiresAt, now), now),
    );
    return swapped === 1;
  }

  #key(key: string): string {
    return `${this.#redis.prefix}grant:${key}`;
  }
}

function kept(value: string, expiresAt: number): string {
  return `${Math.ceil(expiresAt)}:${value}`;
}

function liveValue(text: string, now: number): string | undefined {
  const colon = text.indexOf(':');
  return Number(text.slice(0, colon)) > now ? text.slice(colon + 1) : undefined;
}

/** Redis's PX: at least a millisecond. */
function ttl(expiresAt: number, now: number): number {
  return Math.max(1, Math.ceil(expiresAt - now));
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/store/redis/index.js';
import { record, storeContract } from './helpers/store-contract.js';
import { PATIENT, startRedis, type RedisServer } from './helpers/redis.js';

let redis: RedisServer;
let n = 0;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
});

// Each test gets its own key prefix on the shared real server.
storeContract('redis', async () => {
  const store = new RedisStore({ ...PATIENT, url: redis.url, prefix: `t${n++}:` });
  await store.ready();
  return store;
});

describe('RedisStore', () => {
  it('two stores with one prefix (two replicas) share sessions and the secret', async () => {
    const a = new RedisStore({ ...PATIENT, url: redis.url, prefix: 'shared:' });
    const b = new RedisStore({ ...PATIENT, url: redis.url, prefix: 'shared:' });
    const now = Date.now();
    const r = record(now);
    await a.sessions.create(r, { maxSessions: Infinity, maxSessionsPerPrincipal: Infinity, maxAnonymousSessions: Infinity }, now);
    expect(await b.sessions.get(r.id, now)).toEqual(r);
    expect(await b.secrets.shared('k', () => 'b')).toBe(await a.secrets.shared('k', () => 'a'));
    expect(await b.sessions.delete(r.id)).toEqual(r);
    expect(await a.sessions.delete(r.id)).toBeUndefined();
    await a.close();
    await b.close();
  });

  it('gives the session hash a native TTL at its deadline plus the grace period', async () => {
    const store = new RedisStore({ ...PATIENT, url: redis.url, prefix: 'ttl:', expiryGraceMs: 1000 });
    const now = Date.now();
    const r = record(now, { idleExpiresAt: now + 2000 });
    await store.sessions.create(r, { maxSessions: Infinity, maxSessionsPerPrincipal: Infinity, maxAnonymousSessions: Infinity }, now);
    const { Redis } = await import('ioredis');
    const raw = new Redis(redis.url);
    const ttl = await raw.pttl(`ttl:s:${r.id}`);
    expect(ttl).toBeGreaterThan(2000);
    expect(ttl).toBeLessThanOrEqual(3000);
    raw.disconnect();
    await store.close();
  });

  it('answers SG_STORE_UNAVAILABLE quickly when Redis is unreachable', async () => {
    const down = await startRedis();
    const store = new RedisStore({ url: down.url, commandTimeoutMs: 300 });
    try {
      await store.ready();
      await down.stop();
      const started = Date.now();
      await expect(store.sessions.get('x'.repeat(32), Date.now())).rejects.toMatchObject({ code: 'SG_STORE_UNAVAILABLE' });
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await store.close();
      await down.stop();
    }
  });
});

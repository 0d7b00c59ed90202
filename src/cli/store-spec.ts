/**
 * @module cli/store-spec
 * `--store memory | sqlite:PATH | redis://HOST:PORT | redis-cluster://... | redis-sentinel://...` to a
 * SessionStore.
 */
import { dirname } from 'node:path';
import { mkdirSync } from 'node:fs';
import { MemoryStore } from '../store/memory/index.js';
import { describeRedisTarget, parseRedisTarget } from '../store/redis/target.js';
import type { SessionStore } from '../store/store.js';

/** The gateway's store unless `--store` says otherwise (`pins` reads the same one). */
export const DEFAULT_GATEWAY_STORE = 'sqlite:.sessiongate/sessions.db';

export type StoreSpec = { kind: 'memory' } | { kind: 'sqlite'; path: string } | { kind: 'redis'; url: string };

export function parseStoreSpec(text: string): StoreSpec {
  if (text === 'memory') return { kind: 'memory' };
  if (text.startsWith('sqlite:') && text.length > 'sqlite:'.length) return { kind: 'sqlite', path: text.slice('sqlite:'.length) };
  if (/^redis(s|-cluster|-sentinel)?:\/\//.test(text)) {
    try {
      parseRedisTarget(text);
      return { kind: 'redis', url: text };
    } catch (error) {
      throw new Error(`invalid store: ${(error as Error).message}`, { cause: error });
    }
  }
  throw new Error(
    `invalid store "${text}" (use memory, sqlite:PATH, redis://HOST:PORT, redis-cluster://HOST:PORT,... or redis-sentinel://HOST:PORT,.../MASTER)`,
  );
}

export function describeStore(spec: StoreSpec): string {
  if (spec.kind === 'memory') return 'memory (sessions end with the process)';
  if (spec.kind === 'sqlite') return `sqlite:${spec.path}`;
  return describeRedisTarget(parseRedisTarget(spec.url)); // never prints credentials
}

/** Opens the store; the SQLite and Redis modules load only when asked for. */
export async function openStore(spec: StoreSpec): Promise<SessionStore> {
  switch (spec.kind) {
    case 'memory':
      return new MemoryStore();
    case 'sqlite': {
      const { SqliteStore } = await import('../store/sqlite/index.js');
      if (spec.path !== ':memory:') mkdirSync(dirname(spec.path), { recursive: true });
      return new SqliteStore(spec.path);
    }
    case 'redis': {
      const { RedisStore } = await import('../store/redis/index.js');
      const store = new RedisStore({ url: spec.url });
      try {
        await firstAnswer(store);
      } catch (error) {
        await store.close();
        throw new Error(`cannot reach Redis at ${describeStore(spec)}`, { cause: error });
      }
      // A replica keeps a cache of the records it serves, kept true by the store's bus.
      const { CachingStore } = await import('../store/caching-store.js');
      return new CachingStore(store);
    }
  }
}

/**
 * How long a start waits for Redis's first answer. Longer than a request's wait (the store's
 * command timeout, 1 s): a cluster client's first connection discovers the slots over every
 * node, which a loaded machine has been seen to take past a second; a start is not a request.
 */
const STORE_START_MS = 5000;

/** Resolves once the store answers; rejects with its last failure after STORE_START_MS. */
async function firstAnswer(store: { ready(): Promise<void> }): Promise<void> {
  const until = Date.now() + STORE_START_MS;
  for (;;) {
    try {
      return await store.ready();
    } catch (error) {
      if (Date.now() >= until) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

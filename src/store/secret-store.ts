/**
 * @module store/secret-store
 * Secrets every process on a backend shares (store.ts): the principal hashing key, the key that
 * signs round-trip approval state. Created on first use, the same value for everybody
 * afterwards, surviving restarts on a durable backend.
 */
export interface SecretStore {
  /** The secret `name`: the one kept, or `create()`'s value when none was (the first writer wins). */
  shared(name: string, create: () => string): Promise<string>;
}

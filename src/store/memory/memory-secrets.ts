/**
 * @module store/memory/memory-secrets
 * Secrets of this process (store/secret-store.ts): gone with it.
 */
import type { SecretStore } from '../secret-store.js';

export class MemorySecrets implements SecretStore {
  readonly #secrets = new Map<string, string>();

  async shared(name: string, create: () => string): Promise<string> {
    let secret = this.#secrets.get(name);
    if (secret === undefined) {
      secret = create();
      this.#secrets.set(name, secret);
    }
    return secret;
  }
}

/**
 * @module gateway/authorization-server/sealed-secret
 * Credentials the gateway must keep at rest (the identity provider's refresh token of each
 * sign-in), sealed with AES-256-GCM under the operator's key (`--secrets-key-file`): a random
 * nonce each time, the key's id written beside the text so a rotated key is recognised, and the
 * record the secret belongs to as additional data, so a sealed value copied into another record
 * does not open. Nothing is kept when no key is configured.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { OptionError } from '../../protocol/options.js';

const VERSION = 'v1';

export class SecretSealer {
  readonly #key: Buffer;
  readonly #id: string;

  /** `key`: 32 bytes. */
  constructor(key: Buffer) {
    if (key.length !== 32) throw new OptionError('secretsKey', 'sessiongate: option "secretsKey" must be 32 bytes');
    this.#key = key;
    this.#id = createHash('sha256').update(key).digest('base64url').slice(0, 8);
  }

  /** A key from its text: 32 bytes as 64 hexadecimal digits or as base64 (a file's contents, trimmed). */
  static fromText(text: string): SecretSealer {
    const trimmed = text.trim();
    const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64');
    if (key.length !== 32)
      throw new OptionError('secretsKey', 'sessiongate: option "secretsKey" must be 32 bytes, as 64 hex digits or base64');
    return new SecretSealer(key);
  }

  seal(secret: string, belongsTo: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, nonce).setAAD(Buffer.from(belongsTo));
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, this.#id, nonce.toString('base64url'), sealed.toString('base64url')].join('.');
  }

  /** The secret, or undefined when it was sealed under another key or for another record, or was altered. */
  open(sealed: string, belongsTo: string): string | undefined {
    const [version, id, nonce, text] = sealed.split('.');
    if (version !== VERSION || id !== this.#id || !nonce || !text) return undefined;
    try {
      const bytes = Buffer.from(text, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(nonce, 'base64url')).setAAD(Buffer.from(belongsTo));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}

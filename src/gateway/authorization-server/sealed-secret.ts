/**
 * @module gateway/authorization-server/sealed-secret
 * Credentials the gateway must keep at rest (the identity provider's refresh token of each
 * sign-in; each person's upstream credentials, docs/CREDENTIALS.md), sealed with AES-256-GCM
 * under the operator's key (`--secrets-key-file`): a random nonce each time, the key's id
 * written beside the text so the key it needs is known, and the record the secret belongs to
 * as additional data, so a sealed value copied into another record does not open.
 *
 * The key file may hold several keys, one a line: the first seals, every one opens. That is how
 * a key is rotated: the new key first, the old one after it until nothing is sealed under it
 * any more (`sealedUnderCurrent` tells a reader to seal again).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { OptionError } from '../../protocol/options.js';

const VERSION = 'v1';

interface Key {
  readonly bytes: Buffer;
  readonly id: string;
}

export class SecretSealer {
  readonly #keys: readonly Key[];

  /** `keys`: 32 bytes each; the first seals. */
  constructor(...keys: Buffer[]) {
    if (keys.length === 0 || keys.some((key) => key.length !== 32))
      throw new OptionError('secretsKey', 'sessiongate: option "secretsKey" must be 32 bytes');
    this.#keys = keys.map((bytes) => ({ bytes, id: createHash('sha256').update(bytes).digest('base64url').slice(0, 8) }));
  }

  /**
   * Keys from their text (a file's contents): one a line, each 32 bytes as 64 hexadecimal digits
   * or as base64; blank lines and lines starting with `#` are skipped.
   */
  static fromText(text: string): SecretSealer {
    const lines = text
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    const keys = lines.map((line) => (/^[0-9a-fA-F]{64}$/.test(line) ? Buffer.from(line, 'hex') : Buffer.from(line, 'base64')));
    if (keys.length === 0 || keys.some((key) => key.length !== 32))
      throw new OptionError('secretsKey', 'sessiongate: option "secretsKey" must be 32 bytes, as 64 hex digits or base64 (one key a line)');
    return new SecretSealer(...keys);
  }

  /** The id of the key that seals (what a sealed value names). */
  get currentKeyId(): string {
    return this.#keys[0]!.id;
  }

  seal(secret: string | Buffer, belongsTo: string): string {
    const { bytes: key, id } = this.#keys[0]!;
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(Buffer.from(belongsTo));
    const sealed = Buffer.concat([cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, id, nonce.toString('base64url'), sealed.toString('base64url')].join('.');
  }

  /** The secret, or undefined when it was sealed under a key not held, for another record, or was altered. */
  open(sealed: string, belongsTo: string): string | undefined {
    return this.openBytes(sealed, belongsTo)?.toString('utf8');
  }

  openBytes(sealed: string, belongsTo: string): Buffer | undefined {
    const [version, id, nonce, text] = sealed.split('.');
    const key = this.#keys.find((held) => held.id === id);
    if (version !== VERSION || !key || !nonce || !text) return undefined;
    try {
      const bytes = Buffer.from(text, 'base64url');
      const decipher = createDecipheriv('aes-256-gcm', key.bytes, Buffer.from(nonce, 'base64url')).setAAD(Buffer.from(belongsTo));
      decipher.setAuthTag(bytes.subarray(bytes.length - 16));
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]);
    } catch {
      return undefined;
    }
  }

  /** Whether `sealed` names the key that seals now (false: seal it again once opened). */
  sealedUnderCurrent(sealed: string): boolean {
    return sealed.split('.')[1] === this.currentKeyId;
  }

  /** The id of the key `sealed` names (for a clear error when none held opens it). */
  static keyIdOf(sealed: string): string | undefined {
    return sealed.split('.')[1];
  }
}

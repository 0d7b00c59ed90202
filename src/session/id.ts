/**
 * @module session/id
 * Session ids (S2): 192 bits from the CSPRNG, base64url, always 32 characters of visible ASCII.
 * The constant shape lets the server refuse a malformed id before any store look-up.
 */

const ID_BYTES = 24;
const ID_SHAPE = /^[A-Za-z0-9_-]{32}$/;

export function mintSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(ID_BYTES));
  return base64url(bytes);
}

/** True for anything `mintSessionId` could have produced. */
export function isWellFormedSessionId(value: string): boolean {
  return ID_SHAPE.test(value);
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * base64url without padding; the input length is a multiple of 3. Built from character codes in
 * one go: a string grown with `+=` is a tree of pieces, and an id lives as long as its session.
 */
function base64url(bytes: Uint8Array): string {
  const codes = new Uint16Array((bytes.length / 3) * 4);
  for (let i = 0, o = 0; i < bytes.length; i += 3, o += 4) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    codes[o] = ALPHABET.charCodeAt((n >> 18) & 63);
    codes[o + 1] = ALPHABET.charCodeAt((n >> 12) & 63);
    codes[o + 2] = ALPHABET.charCodeAt((n >> 6) & 63);
    codes[o + 3] = ALPHABET.charCodeAt(n & 63);
  }
  return String.fromCharCode(...codes);
}

/**
 * A short, non-reversible tag for logs and audit: never the id itself (C7, the id is a secret).
 */
export function sessionTag(id: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

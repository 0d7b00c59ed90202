/**
 * @module session/id
 * Session ids (S2): 192 bits from the CSPRNG, base64url, always 32 characters of visible ASCII.
 * The constant shape lets the server refuse a malformed id before any store look-up.
 */

const ID_BYTES = 24;
const ID_SHAPE = /^[A-Za-z0-9_-]{32}$/;

export function mintSessionId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(ID_BYTES))).toString('base64url');
}

/** True for anything `mintSessionId` could have produced. */
export function isWellFormedSessionId(value: string): boolean {
  return ID_SHAPE.test(value);
}

/**
 * A short, non-reversible tag for logs and audit: never the id itself (C7, the id is a secret).
 */
export function sessionTag(id: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) h = Math.imul(h ^ id.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

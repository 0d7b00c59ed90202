/**
 * @module protocol/json-depth
 * Bounds nesting before a body is parsed, not after (docs/limits.md): `JSON.parse` of 4 MB of
 * `[` works through the whole body before it fails, and a client without a token could keep a
 * core busy that way. One pass over the bytes, outside strings, counting `[` and `{`: a body
 * nested past the limit is refused at the first byte past it. It allocates nothing.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/** Whether the JSON text in `bytes` (UTF-8) opens more than `limit` arrays and objects inside each other. */
export function jsonNestsDeeperThan(bytes: Uint8Array, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_ARRAY || byte === OPEN_OBJECT) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_ARRAY || byte === CLOSE_OBJECT) depth--;
  }
  return false;
}

/**
 * @module gateway/federation/merged-cursor
 * The cursor of a merged list (docs/FEDERATION.md, "Lists"): each server's own cursor, for the
 * servers that have more to give. The first page asks every server; each next page asks only
 * those still in the cursor, each from its own position, so nothing is repeated or skipped
 * however differently the servers paginate. Opaque to the client (base64url JSON); a cursor
 * that does not decode is the client's mistake (-32602), never a server's.
 */
import { SERVER_NAME } from './names.js';

/** Server name -> that server's own cursor. */
export type Positions = ReadonlyMap<string, string>;

const PREFIX = 'sgf1.';

export function encodeCursor(positions: Positions): string | undefined {
  if (positions.size === 0) return undefined;
  return PREFIX + Buffer.from(JSON.stringify(Object.fromEntries(positions))).toString('base64url');
}

/** The positions in a cursor; undefined when it is not one of ours. */
export function decodeCursor(cursor: string, known: ReadonlySet<string>): Positions | undefined {
  if (!cursor.startsWith(PREFIX) || cursor.length > 64 * 1024) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor.slice(PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
  const positions = new Map<string, string>();
  for (const [server, position] of Object.entries(parsed)) {
    if (!SERVER_NAME.test(server) || !known.has(server) || typeof position !== 'string') return undefined;
    positions.set(server, position);
  }
  return positions.size > 0 ? positions : undefined;
}

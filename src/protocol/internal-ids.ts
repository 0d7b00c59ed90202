/**
 * @module protocol/internal-ids
 * Ids for the requests Sessiongate sends on its own behalf (a replayed initialize, a tools/list
 * to learn header annotations, a warm-up ping). They share an id space with the client's
 * requests in the same session, and a fixed id collides with itself when two such requests run
 * at once (parallel first calls of one conversation were refused 409). Every id minted here is
 * unique in the process and carries a random part drawn at start, so a client cannot send one
 * by accident or on purpose.
 */
import { randomBytes } from 'node:crypto';

const NONCE = randomBytes(12).toString('base64url');
let minted = 0;

/** A request id no other request of this process and no client uses: `sessiongate-PURPOSE-NONCE-N`. */
export function internalRequestId(purpose: string): string {
  return `sessiongate-${purpose}-${NONCE}-${++minted}`;
}

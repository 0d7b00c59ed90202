/**
 * @module server/handle-delete
 * DELETE (S5): terminates the session. Success is 204; afterwards the id is unknown, so a
 * second DELETE (or any request) gets 404 (S4).
 */
import { SessiongateError } from '../protocol/failures.js';
import { PROTOCOL_VERSION } from '../protocol/headers.js';
import type { Incoming, Outgoing } from './exchange.js';
import { checkVersionHeader, identityOf, refuseWithoutSession, requireSession } from './session-gate.js';
import type { ServerCore } from './server-core.js';

export const DELETE_METHOD = 'DELETE';

export async function handleDelete(core: ServerCore, incoming: Incoming): Promise<Outgoing> {
  refuseWithoutSession(incoming);
  checkVersionHeader(incoming.header(PROTOCOL_VERSION));
  const record = await requireSession(core, incoming, await identityOf(core, incoming));
  // Another request may have ended it in between: then it is unknown now (404).
  if (!(await core.sessions.end(record.id, 'delete'))) throw new SessiongateError('SG_SESSION_NOT_FOUND');
  return { status: 204, headers: {}, body: null };
}

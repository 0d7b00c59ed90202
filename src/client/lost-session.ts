/**
 * @module client/lost-session
 * Which answers mean "the server does not know this session". The transport rule is 404
 * (the client recovers on it: README, "A client that never gets stranded"), but servers
 * written in the SDK's documented pattern, the reference "everything" server among them, answer
 * 400 "Bad Request: No valid session ID provided" for an
 * id they lost (after a restart). Both start the same recovery. A 400 for anything else (a
 * malformed request) is an ordinary error, so a bad request never loops through re-initialize;
 * and a recovery is tried once per request whatever the answer.
 */
import { JSONRPC } from '../protocol/failures.js';

/** Messages that name the session as the problem; "already initialized" and others do not. */
const LOST =
  /\bsession\b[^.]*\b(no valid|not valid|invalid|not found|unknown|expired|does not exist|terminated)\b|\b(no valid|invalid|unknown|expired)\b[^.]*\bsession\b/i;

/** True when an HTTP answer with this status and body says the session is unknown. */
export function saysSessionLost(status: number, body: string): boolean {
  if (status === 404) return true;
  if (status !== 400) return false;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (error?.code === JSONRPC.SESSION_NOT_FOUND) return true;
  return typeof error?.message === 'string' && LOST.test(error.message) && !/already/i.test(error.message);
}

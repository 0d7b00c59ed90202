/**
 * @module gateway/ops/admin
 * The admin API, mounted only when a token is configured: list live sessions (paged), show one
 * with its recent audit events, terminate one (its child is stopped, its upstream session
 * DELETEd, through the same disposers as any other end). The token is compared in constant time;
 * without it the answer is 401, and without a configured token the routes do not exist (404).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sessionTag } from '../../session/id.js';
import type { SessionManager } from '../../session/session-manager.js';
import { expiresAt, type SessionRecord } from '../../store/record.js';
import type { AuditEvent, EventSink } from './audit.js';
import { SESSION_IDENTITY } from './identity-view.js';

const RECENT_PER_SESSION = 20;

type TimedEvent = AuditEvent & { time: string };
const SESSIONS_REMEMBERED = 10_000;

/** The last events of each session, for `GET /admin/sessions/:id`. Bounded in both directions. */
export class RecentEvents implements EventSink {
  readonly #bySession = new Map<string, TimedEvent[]>();

  write(event: AuditEvent): void {
    if (event.session === null) return;
    let list = this.#bySession.get(event.session);
    if (!list) {
      if (this.#bySession.size >= SESSIONS_REMEMBERED) this.#bySession.delete(this.#bySession.keys().next().value!);
      list = [];
      this.#bySession.set(event.session, list);
    }
    list.push({ time: new Date().toISOString(), ...event });
    if (list.length > RECENT_PER_SESSION) list.shift();
  }

  of(tag: string): TimedEvent[] {
    return this.#bySession.get(tag) ?? [];
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function summary(record: SessionRecord): Record<string, unknown> {
  return {
    id: record.id,
    tag: sessionTag(record.id),
    principal: record.principal,
    // Who created it, when verified (issuer, person, client, scopes; never a token).
    identity: SESSION_IDENTITY.read(record.state) ?? null,
    clientSessionId: record.clientSessionId,
    protocolVersion: record.protocolVersion,
    clientInfo: record.initialize['clientInfo'] ?? null,
    createdAt: new Date(record.createdAt).toISOString(),
    lastSeenAt: new Date(record.lastSeenAt).toISOString(),
    expiresAt: new Date(expiresAt(record)).toISOString(),
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers }).end(JSON.stringify(body));
}

/** The handler for everything under `/admin/`. */
export function adminApi(
  sessions: SessionManager,
  token: string,
  recent: RecentEvents,
): (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void> {
  if (token.length < 16) throw new TypeError('sessiongate: the admin token must have at least 16 characters');
  const expected = digest(`Bearer ${token}`);

  return async function admin(req, res, path) {
    // Constant time: compare fixed-length digests, whatever the header's length.
    if (!timingSafeEqual(digest(req.headers.authorization ?? ''), expected)) {
      return json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
    }
    const url = new URL(path + (req.url?.includes('?') ? req.url.slice(req.url.indexOf('?')) : ''), 'http://admin');
    const match = /^\/admin\/sessions(?:\/([^/]+))?$/.exec(url.pathname);
    if (!match) return json(res, 404, { error: 'not found' });
    const id = match[1] === undefined ? undefined : decodedSegment(match[1]);
    if (id === null) return json(res, 400, { error: 'malformed percent-encoding in the session id' });
    if (id === undefined) {
      if (req.method !== 'GET') return json(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
      const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 50) || 50, 1), 500);
      const page = await sessions.list(url.searchParams.get('cursor') ?? undefined, limit);
      return json(res, 200, { sessions: page.records.map(summary), next: page.next ?? null });
    }
    if (req.method === 'GET') {
      const record = await sessions.peek(id);
      if (!record) return json(res, 404, { error: 'no such session' });
      return json(res, 200, { session: summary(record), recentEvents: recent.of(sessionTag(id)) });
    }
    if (req.method === 'DELETE') {
      return (await sessions.end(id, 'admin')) ? json(res, 200, { ended: true }) : json(res, 404, { error: 'no such session' });
    }
    return json(res, 405, { error: 'method not allowed' }, { allow: 'GET, DELETE' });
  };
}

/** A path segment decoded; null when its percent-encoding is malformed (`%`, `%zz`). */
function decodedSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

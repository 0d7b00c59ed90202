/**
 * @module gateway/ops/admin
 * The admin API, mounted only when a token is configured: list live sessions (paged), show one
 * with its recent audit events, terminate one (its child is stopped, its upstream session
 * DELETEd, through the same disposers as any other end); list the calls waiting for an
 * operator's approval and approve or deny one (docs/POLICY.md, "Operator approval"); with
 * `--auth oauth`, list and withdraw what a person allowed (docs/AUTH.md). The token
 * is compared in constant time; without it the answer is 401, and without a configured token the
 * routes do not exist (404).
 */
import { OptionError } from '../../protocol/options.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sessionTag } from '../../session/id.js';
import type { SessionManager } from '../../session/session-manager.js';
import { MAX_LISTED_APPROVALS } from '../../store/approval-record.js';
import { expiresAt, type SessionRecord } from '../../store/record.js';
import type { ApprovalDesk } from '../../policy/operator-approval.js';
import { json, personQuery, smallJsonBody } from '../http-json.js';
import type { RecentEvents } from './recent-events.js';
import { SESSION_IDENTITY } from '../identity-view.js';
import type { GrantAdministration } from '../gateway-options.js';
import { identityOf } from '../../auth/token-rules.js';
import type { Connections } from '../credentials/connections.js';
import type { PinDesk } from '../curation/pin-desk.js';
import type { Acceptance } from '../curation/tool-pins.js';

/** The shortest admin token accepted. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/** A check of the admin token, in constant time whatever the length of what is given. */
export function adminTokenCheck(token: string): (given: string | undefined) => boolean {
  if (token.length < MIN_ADMIN_TOKEN_LENGTH)
    throw new OptionError('adminToken', `sessiongate: the admin token must have at least ${MIN_ADMIN_TOKEN_LENGTH} characters`);
  const expected = digest(token);
  return (given) => timingSafeEqual(digest(given ?? ''), expected);
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

export function summary(record: SessionRecord): Record<string, unknown> {
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

export interface AdminApiOptions {
  sessions: SessionManager;
  /** The admin token (at least 16 characters). */
  token: string;
  recent: RecentEvents;
  /** When a policy may ask operators. */
  approvals?: ApprovalDesk | undefined;
  /** `--auth oauth`: what people allowed. */
  grants?: GrantAdministration | undefined;
  /** Per-person upstream credentials. */
  connections?: Connections | undefined;
  /** Tool pinning (docs/CURATION.md, "Pinning"). */
  pins?: PinDesk | undefined;
}

/** The handler for everything under `/admin/`. */
export function adminApi({
  sessions,
  token,
  recent,
  approvals,
  grants,
  connections,
  pins,
}: AdminApiOptions): (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void> {
  const tokenMatches = adminTokenCheck(token);

  return async function admin(req, res, path) {
    const authorization = req.headers.authorization;
    if (!tokenMatches(authorization?.startsWith('Bearer ') ? authorization.slice(7) : undefined)) {
      return json(res, 401, { error: 'unauthorized' }, { 'www-authenticate': 'Bearer' });
    }
    const url = new URL(path + (req.url?.includes('?') ? req.url.slice(req.url.indexOf('?')) : ''), 'http://admin');
    if (url.pathname.startsWith('/admin/approvals')) return approvalRoutes(req, res, url, approvals);
    if (url.pathname === '/admin/grants') return grantRoutes(req, res, url, grants);
    if (url.pathname === '/admin/connections') return connectionRoutes(req, res, url, connections);
    if (url.pathname.startsWith('/admin/pins')) return pinRoutes(req, res, url, pins);
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

/**
 * `GET /admin/grants?issuer=&subject=`: the clients a person allowed (`--auth oauth`);
 * `DELETE /admin/grants?issuer=&subject=&client_id=`: withdraws one (its tokens stop at the next
 * request). Without an authorization server there is nothing to list: 404.
 */
async function grantRoutes(req: IncomingMessage, res: ServerResponse, url: URL, grants: GrantAdministration | undefined): Promise<void> {
  if (!grants) return json(res, 404, { error: 'not found (the gateway issues no tokens: --auth oauth)' });
  const person = personQuery(url);
  if (!person) return json(res, 400, { error: 'issuer and subject are required' });
  if (req.method === 'GET') return json(res, 200, { grants: await grants.list(person) });
  if (req.method !== 'DELETE') return json(res, 405, { error: 'method not allowed' }, { allow: 'GET, DELETE' });
  const clientId = url.searchParams.get('client_id');
  if (!clientId) return json(res, 400, { error: 'client_id is required' });
  return (await grants.withdraw(person, clientId)) ? json(res, 200, { withdrawn: true }) : json(res, 404, { error: 'no such grant' });
}

/**
 * `GET /admin/connections?issuer=&subject=`: what a person connected with their own credentials
 * (docs/CREDENTIALS.md; never a token); `DELETE /admin/connections?issuer=&subject=&server=`
 * disconnects it (their next call asks them to connect again). `subject` is the value of the
 * principal claim (`sub` by default).
 */
async function connectionRoutes(req: IncomingMessage, res: ServerResponse, url: URL, connections: Connections | undefined): Promise<void> {
  if (!connections) return json(res, 404, { error: 'not found (no upstream takes per-person credentials)' });
  const person = personQuery(url);
  if (!person) return json(res, 400, { error: 'issuer and subject are required' });
  const principal = identityOf(person.issuer, person.subject, {}).principal;
  if (req.method === 'GET') return json(res, 200, { connections: await connections.list(principal) });
  if (req.method !== 'DELETE') return json(res, 405, { error: 'method not allowed' }, { allow: 'GET, DELETE' });
  const broker = connections.broker(url.searchParams.get('server') ?? undefined);
  if (!broker) return json(res, 404, { error: 'no such server' });
  return (await broker.disconnect(principal, 'operator'))
    ? json(res, 200, { disconnected: true })
    : json(res, 404, { error: 'no such connection' });
}

/**
 * `GET /admin/pins`: every server's pins and the changes waiting for an operator;
 * `POST /admin/pins/{server}/{tool}/accept` with `{ "hash": ... }` (the pending definition's, as
 * listed) accepts one: 409 when the server changed it again since (docs/CURATION.md).
 */
async function pinRoutes(req: IncomingMessage, res: ServerResponse, url: URL, pins: PinDesk | undefined): Promise<void> {
  if (!pins) return json(res, 404, { error: 'not found (no server is pinned: --pin, or pin in the curation file)' });
  if (url.pathname === '/admin/pins') {
    if (req.method !== 'GET') return json(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
    return json(res, 200, await pins.view());
  }
  const match = /^\/admin\/pins\/([^/]+)\/([^/]+)\/accept$/.exec(url.pathname);
  if (!match) return json(res, 404, { error: 'not found' });
  if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' }, { allow: 'POST' });
  const [server, tool] = [decodedSegment(match[1]!), decodedSegment(match[2]!)];
  if (server === null || tool === null) return json(res, 400, { error: 'malformed percent-encoding in the path' });
  const hash = await hashBody(req);
  if (hash === undefined) return json(res, 400, { error: 'the body must be a JSON object with the pending definition\'s "hash"' });
  const result = await pins.accept(server, tool, hash, { via: 'admin' });
  return answerAcceptance(res, result);
}

/** The `hash` of an acceptance's JSON body; undefined when there is none. */
export async function hashBody(req: IncomingMessage): Promise<string | undefined> {
  const body = await smallJsonBody(req).catch(() => undefined);
  const hash = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['hash'] : undefined;
  return typeof hash === 'string' && /^sha256:[0-9a-f]{64}$/.test(hash) ? hash : undefined;
}

/** An acceptance's answer, for the admin API and the console alike. */
export function answerAcceptance(res: ServerResponse, result: Acceptance, headers: Record<string, string> = {}): void {
  if (result === 'accepted') return json(res, 200, { accepted: true }, headers);
  if (result === 'stale') return json(res, 409, { error: 'the server changed this tool again since: look at its new definition' }, headers);
  return json(res, 404, { error: 'no change of that tool is waiting' }, headers);
}

/** `GET /admin/approvals`, `POST /admin/approvals/{id}/approve|deny`. */
async function approvalRoutes(req: IncomingMessage, res: ServerResponse, url: URL, desk: ApprovalDesk | undefined): Promise<void> {
  if (url.pathname === '/admin/approvals') {
    if (req.method !== 'GET') return json(res, 405, { error: 'method not allowed' }, { allow: 'GET' });
    const limit = Math.min(Math.max(Number(url.searchParams.get('limit') ?? 100) || 100, 1), MAX_LISTED_APPROVALS);
    return json(res, 200, { approvals: desk ? await desk.pending(limit) : [] });
  }
  const match = /^\/admin\/approvals\/([^/]+)\/(approve|deny)$/.exec(url.pathname);
  if (!match) return json(res, 404, { error: 'not found' });
  if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' }, { allow: 'POST' });
  const id = decodedSegment(match[1]!);
  if (id === null) return json(res, 400, { error: 'malformed percent-encoding in the approval id' });
  const body = await decisionBody(req);
  if (typeof body === 'string') return json(res, 400, { error: body });
  const result = desk ? await desk.decide(id, { approve: match[2] === 'approve', ...body }) : ({ error: 'unknown' } as const);
  if ('decided' in result) return json(res, 200, { approval: result.decided });
  if (result.error === 'unknown') return json(res, 404, { error: 'no such approval (it was decided and collected, or it timed out)' });
  return json(res, 409, { error: 'already decided', approval: result.approval });
}

const OPERATOR_NAME = /^[\w.@-]{1,64}$/;
const MAX_REASON_CHARS = 200;

/**
 * The optional JSON body of a decision: `operator` (a name the audit line records after
 * `admin:`; declared, not verified: the admin token is the credential) and `reason` (told to the
 * caller of a denied call). A string is what is wrong with it.
 */
async function decisionBody(req: IncomingMessage): Promise<{ operator: string; reason?: string } | string> {
  let body: unknown;
  try {
    body = (await smallJsonBody(req)) ?? {};
  } catch {
    return 'the body must be a JSON object of at most 4 KiB';
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'the body must be a JSON object';
  const { operator, reason } = body as Record<string, unknown>;
  if (operator !== undefined && (typeof operator !== 'string' || !OPERATOR_NAME.test(operator)))
    return 'operator must be 1-64 letters, digits or . _ @ -';
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > MAX_REASON_CHARS))
    return `reason must be a string of at most ${MAX_REASON_CHARS} characters`;
  return { operator: operator === undefined ? 'admin' : `admin:${operator}`, ...(reason === undefined ? {} : { reason }) };
}

/** A path segment decoded; null when its percent-encoding is malformed (`%`, `%zz`). */
function decodedSegment(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

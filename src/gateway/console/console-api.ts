/**
 * @module gateway/console/console-api
 * The console's JSON API under /console/api/ (docs/CONSOLE.md): sign in with the admin token
 * (rate-limited per address, audited), sign out, the live sessions of every replica, one
 * session's calls and pending approvals, every call waiting for an operator, terminating a
 * session, deciding an approval, looking up and withdrawing what a person allowed the gateway's
 * clients (`--auth oauth`), and one SSE stream with the sessions and the waiting calls
 * (every second), each call as it happens, and the charts' points.
 * Everything but signing in needs the console cookie; everything that changes state also needs
 * the CSRF token in `x-csrf-token`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApprovalDesk } from '../../policy/operator-approval.js';
import { RateLimiter } from '../../policy/rate-limiter.js';
import { sessionTag } from '../../session/id.js';
import type { SessionManager } from '../../session/session-manager.js';
import { json as answer, personQuery, smallJsonBody } from '../http-json.js';
import { adminTokenCheck, answerAcceptance, hashBody } from '../ops/admin.js';
import type { PinDesk } from '../curation/pin-desk.js';
import { identityOf } from '../../auth/token-rules.js';
import type { Connections } from '../credentials/connections.js';
import type { RecentEvents } from '../ops/recent-events.js';
import type { EventSink } from '../audit-events.js';
import type { GrantAdministration, PersonName } from '../gateway-options.js';
import type { ConsoleFeed } from './console-feed.js';
import { sessionRow, sessionRows, streamConsole, waitingCalls } from './console-stream.js';
import { type ConsoleSession, ConsoleSessions, CONSOLE_SESSION_MS, csrfMatches, sessionCookie } from './console-sessions.js';
import type { MetricHistory } from './metric-history.js';

export interface ConsoleApiOptions {
  sessions: SessionManager;
  adminToken: string;
  recent: RecentEvents;
  feed: ConsoleFeed;
  history: MetricHistory;
  /** Where console actions are audited. */
  audit: EventSink;
  /** What the gateway fronts, as its rows show it. */
  upstream: string;
  approvals?: ApprovalDesk | undefined;
  /** What people allowed the gateway's clients (`--auth oauth`): looked up and withdrawn per person. */
  grants?: GrantAdministration | undefined;
  /** The servers people connect with their own credentials: what a person connected, looked up and disconnected (never a token). */
  connections?: Connections | undefined;
  /** Cookies get `Secure` (served over TLS, or behind an https public URL). */
  secure: boolean;
  /** A trace viewer's URL with `{traceId}`: a call's trace id links there (docs/OBSERVABILITY.md, "How they join"). */
  traceLink?: string | undefined;
  /** Tool pinning: changes waiting for an operator, accepted here (docs/CURATION.md, "Accepting a change"). */
  pins?: PinDesk | undefined;
}

/** Wrong sign-in attempts per client address and minute before they are answered 429, slowly. */
const SIGN_INS_PER_MINUTE = 10;
/** How long a wrong sign-in past the limit waits for its answer. */
const WRONG_SIGN_IN_DELAY_MS = 1000;
/** Console streams open at once, per replica. */
const MAX_STREAMS = 20;

type Handler = (req: IncomingMessage, res: ServerResponse, session: ConsoleSession, rest: string) => Promise<void>;

export function consoleApi(options: ConsoleApiOptions): (req: IncomingMessage, res: ServerResponse, path: string) => Promise<void> {
  const signedIn = new ConsoleSessions();
  const tokenMatches = adminTokenCheck(options.adminToken);
  const signIns = new RateLimiter();
  let streams = 0;
  const { sessions, recent, audit } = options;
  const row = sessionRow(options);
  const rows = sessionRows(options, row);
  const waiting = waitingCalls(options);

  const signIn = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const address = req.socket.remoteAddress ?? 'unknown';
    const body = await smallJsonBody(req).catch(() => undefined);
    const token = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['token'] : undefined;
    // The right token always signs in: behind a reverse proxy every operator shares one address,
    // and a stranger's wrong guesses must not lock them out (docs/CONSOLE.md). Only wrong ones
    // are counted, and past the limit answered slowly with 429; the token's length (16 or more
    // visible characters) is what makes guessing hopeless.
    if (typeof token !== 'string' || !tokenMatches(token)) {
      audit.write({ event: 'console', action: 'sign-in-refused', console: null, session: null, address });
      const taken = signIns.take(address, { requests: SIGN_INS_PER_MINUTE, perMs: 60_000 });
      if (taken.ok) return json(res, 401, { error: 'wrong admin token' });
      await new Promise((resolve) => setTimeout(resolve, WRONG_SIGN_IN_DELAY_MS).unref());
      return json(
        res,
        429,
        { error: 'too many wrong sign-in attempts; try again later' },
        { 'retry-after': String(taken.retryAfterSeconds) },
      );
    }
    const session = signedIn.open();
    audit.write({ event: 'console', action: 'sign-in', console: session.tag, session: null, address });
    json(res, 200, { csrf: session.csrf }, { 'set-cookie': sessionCookie(session.id, CONSOLE_SESSION_MS / 1000, options.secure) });
  };

  const routes: Record<string, Record<string, Handler>> = {
    me: {
      GET: async (_req, res, session) =>
        json(res, 200, {
          csrf: session.csrf,
          grants: options.grants !== undefined,
          connections: options.connections !== undefined,
          pins: options.pins !== undefined,
        }),
    },
    'sign-out': {
      POST: async (_req, res, session) => {
        signedIn.close(session);
        audit.write({ event: 'console', action: 'sign-out', console: session.tag, session: null });
        json(res, 200, { signedOut: true }, { 'set-cookie': sessionCookie('', 0, options.secure) });
      },
    },
    sessions: {
      GET: async (_req, res) => json(res, 200, { sessions: await rows(await waiting()) }),
      DELETE: async (_req, res, session, id) => {
        const ended = await sessions.end(id, 'admin');
        if (ended) audit.write({ event: 'console', action: 'terminate', console: session.tag, session: sessionTag(id) });
        json(res, ended ? 200 : 404, ended ? { ended: true } : { error: 'no such session' });
      },
    },
    session: {
      GET: async (_req, res, _session, id) => {
        const record = await sessions.peek(id);
        if (!record) return json(res, 404, { error: 'no such session' });
        const tag = sessionTag(id);
        const approvals = (await waiting()).filter((approval) => approval.call['session'] === tag);
        json(res, 200, {
          session: row(record, approvals),
          calls: recent.of(tag).filter((event) => event.event === 'request'),
          approvals,
          ...(options.traceLink !== undefined && { traceLink: options.traceLink }),
        });
      },
    },
    approvals: {
      GET: async (_req, res) => json(res, 200, { approvals: await waiting() }),
      POST: async (_req, res, session, rest) => {
        const [id, verb] = rest.split('/');
        if (!id || (verb !== 'approve' && verb !== 'deny')) return json(res, 404, { error: 'not found' });
        const operator = `console:${session.tag}`;
        const result = options.approvals
          ? await options.approvals.decide(id, { approve: verb === 'approve', operator })
          : ({ error: 'unknown' } as const);
        if (!('decided' in result)) return json(res, result.error === 'unknown' ? 404 : 409, { error: result.error });
        audit.write({ event: 'console', action: verb, console: session.tag, session: null, approval: id });
        json(res, 200, { approval: result.decided });
      },
    },
    grants: {
      GET: async (req, res) => {
        const person = personOf(req);
        if (!options.grants) return json(res, 404, { error: 'the gateway issues no tokens (--auth oauth)' });
        if (!person) return json(res, 400, { error: 'issuer and subject are required' });
        json(res, 200, { grants: await options.grants.list(person) });
      },
      DELETE: async (req, res, session, clientId) => {
        const person = personOf(req);
        if (!options.grants) return json(res, 404, { error: 'the gateway issues no tokens (--auth oauth)' });
        if (!person || clientId === '') return json(res, 400, { error: 'issuer, subject and the client are required' });
        const withdrawn = await options.grants.withdraw(person, clientId);
        if (withdrawn) audit.write({ event: 'console', action: 'withdraw', console: session.tag, session: null, client: clientId });
        json(res, withdrawn ? 200 : 404, withdrawn ? { withdrawn: true } : { error: 'no such grant' });
      },
    },
    connections: {
      GET: async (req, res) => {
        const principal = principalOf(req);
        if (!options.connections) return json(res, 404, { error: 'no upstream takes per-person credentials' });
        if (principal === undefined) return json(res, 400, { error: 'issuer and subject are required' });
        json(res, 200, { connections: await options.connections.list(principal) });
      },
      DELETE: async (req, res, session, server) => {
        const principal = principalOf(req);
        const broker = options.connections?.broker(server);
        if (principal === undefined) return json(res, 400, { error: 'issuer, subject and the server are required' });
        if (!broker) return json(res, 404, { error: 'no such server' });
        const gone = await broker.disconnect(principal, 'operator');
        if (gone) audit.write({ event: 'console', action: 'disconnect', console: session.tag, session: null, server });
        json(res, gone ? 200 : 404, gone ? { disconnected: true } : { error: 'no such connection' });
      },
    },
    pins: {
      GET: async (_req, res) =>
        options.pins ? json(res, 200, await options.pins.view()) : json(res, 404, { error: 'no server is pinned' }),
      POST: async (req, res, session, rest) => {
        const [server, tool, verb, extra] = rest.split('/');
        if (!options.pins || !server || !tool || verb !== 'accept' || extra !== undefined) return json(res, 404, { error: 'not found' });
        const hash = await hashBody(req);
        if (hash === undefined) return json(res, 400, { error: 'the hash of the definition shown is required' });
        answerAcceptance(res, await options.pins.accept(server, tool, hash, { via: 'console', console: session.tag }), SECURITY_HEADERS);
      },
    },
    metrics: { GET: async (_req, res) => json(res, 200, { points: options.history.points }) },
    stream: {
      GET: async (req, res) => {
        if (streams >= MAX_STREAMS) return json(res, 503, { error: 'too many console streams open' });
        streams++;
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', ...SECURITY_HEADERS });
        const stop = streamConsole(res, options, rows, waiting);
        req.once('close', () => {
          streams--;
          stop();
        });
      },
    },
  };

  return async function consoleRoute(req, res, path) {
    const rest = path.slice('/console/api/'.length);
    if (rest === 'sign-in') {
      if (req.method !== 'POST') return json(res, 405, { error: 'method not allowed' }, { allow: 'POST' });
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return json(res, 415, { error: 'JSON only' });
      return signIn(req, res);
    }
    const session = signedIn.of(req.headers.cookie);
    if (!session) return json(res, 401, { error: 'sign in first' });
    const [name = '', ...tail] = rest.split('/');
    const key = name === 'sessions' && tail.length > 0 && req.method === 'GET' ? 'session' : name;
    const handler = routes[key]?.[req.method ?? 'GET'];
    if (!handler) return json(res, 404, { error: 'not found' });
    if (req.method !== 'GET' && !csrfMatches(session, header(req, 'x-csrf-token')))
      return json(res, 403, { error: 'missing or wrong CSRF token' });
    let target: string;
    try {
      target = decodeURIComponent(tail.join('/'));
    } catch {
      return json(res, 400, { error: 'malformed percent-encoding' });
    }
    await handler(req, res, session, target);
  };
}

/** Every console response's protection: no framing, no sniffing, no referrer. */
export const SECURITY_HEADERS = {
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
} as const;

/** The admin API's JSON answer, with every console response's protection. */
function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  answer(res, status, body, { ...SECURITY_HEADERS, ...headers });
}

/** The person a grants request names: `?issuer=&subject=`. */
function personOf(req: IncomingMessage): PersonName | undefined {
  return personQuery(new URL(req.url ?? '/', 'http://console'));
}

/** The principal of the person a connections request names (their requests' own, docs/AUTH.md). */
function principalOf(req: IncomingMessage): string | undefined {
  const person = personOf(req);
  return person && identityOf(person.issuer, person.subject, {}).principal;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * @module gateway/console/console-sessions
 * Who is signed in to the operator console (docs/CONSOLE.md, "Signing in"): a session of its
 * own, kept here (server side), named by a random id in an HttpOnly, SameSite=Strict cookie;
 * never the admin token. Each has a CSRF token every state-changing request must carry, and
 * ends at sign-out or after CONSOLE_SESSION_MS. Per replica: a console is signed in to the
 * replica that served its sign-in.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a console session lasts from sign-in. */
export const CONSOLE_SESSION_MS = 8 * 60 * 60 * 1000;
/** Console sessions kept at most: the oldest is signed out first. */
const MAX_CONSOLE_SESSIONS = 1000;
export const CONSOLE_COOKIE = 'sg_console';

export interface ConsoleSession {
  readonly id: string;
  readonly csrf: string;
  readonly expiresAt: number;
  /** A short name for the audit line (never the id, which is the credential). */
  readonly tag: string;
}

export class ConsoleSessions {
  readonly #sessions = new Map<string, ConsoleSession>();

  open(now = Date.now()): ConsoleSession {
    const session: ConsoleSession = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      expiresAt: now + CONSOLE_SESSION_MS,
      tag: randomBytes(4).toString('hex'),
    };
    this.#sessions.set(session.id, session);
    if (this.#sessions.size > MAX_CONSOLE_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value!);
    return session;
  }

  /** The session a request's cookie names, while it lasts. */
  of(cookieHeader: string | undefined, now = Date.now()): ConsoleSession | undefined {
    const id = cookieValue(cookieHeader, CONSOLE_COOKIE);
    const session = id === undefined ? undefined : this.#sessions.get(id);
    if (session && session.expiresAt <= now) this.#sessions.delete(session.id);
    return session && session.expiresAt > now ? session : undefined;
  }

  close(session: ConsoleSession): void {
    this.#sessions.delete(session.id);
  }
}

/** Whether `given` (the request's CSRF header) is the session's token; constant time. */
export function csrfMatches(session: ConsoleSession, given: string | undefined): boolean {
  if (given === undefined) return false;
  const expected = Buffer.from(session.csrf);
  const actual = Buffer.from(given);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** The Set-Cookie header for a session (`maxAgeSeconds` 0 clears it). */
export function sessionCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  return `${CONSOLE_COOKIE}=${value}; Path=/console; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure ? '; Secure' : ''}`;
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

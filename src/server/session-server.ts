/**
 * @module server/session-server
 * The Streamable HTTP session server (rules S1-S12 of docs/PROTOCOL.md): transport checks, the
 * session gate, then the application. `handle(Incoming)` is the core; `fetch` (web-standard)
 * and `node` (node:http, Express, Fastify) are thin adapters over it.
 */
import { failureAnswer, SessiongateError } from '../protocol/failures.js';
import { SessionManager } from '../session/session-manager.js';
import { portOf } from './session-port.js';
import type { Incoming, Outgoing } from './exchange.js';
import { DELETE_METHOD, handleDelete } from './handle-delete.js';
import { handleGet } from './handle-get.js';
import { handlePost } from './handle-post.js';
import { corsHeaders, hostAllowed, originAllowed, preflightHeaders } from './origin.js';
import { checkServerOptions, DEFAULT_MAX_BODY_BYTES, inFlightLimits, type SessionServerOptions } from './options.js';
import { InFlight } from './in-flight.js';
import { DEFAULT_RESUME } from './resume/resume-options.js';
import { StreamRecorder } from './resume/stream-recorder.js';
import type { ServerCore } from './server-core.js';
import { toNodeHandler, type NodeHandler } from './node-adapter.js';
import { toFetchHandler } from './web-adapter.js';

export interface SessionServer {
  /** The core: one exchange in, one answer out. Never throws. */
  handle(incoming: Incoming): Promise<Outgoing>;
  /** Web-standard handler (Hono, Deno, Bun, workers): `(Request) => Promise<Response>`. */
  fetch(request: Request): Promise<Response>;
  /** node:http handler; Express and Fastify pass their req/res (and a parsed body, if any). */
  node: NodeHandler;
  readonly sessions: SessionManager;
  /** Stops sweeping and frees process-local resources. Does not close a shared store. */
  close(): Promise<void>;
}

const ALLOW = 'GET, POST, DELETE, OPTIONS';

/**
 * Creates a session server.
 * @example
 * const server = createSessionServer({ application, store: new SqliteStore('sessions.db') });
 * http.createServer(server.node).listen(3000);
 */
export function createSessionServer(options: SessionServerOptions): SessionServer {
  checkServerOptions(options);
  const sessions = options.sessions ?? new SessionManager(options);
  const core: ServerCore = {
    sessions,
    application: options.application,
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    authenticate: options.authenticate,
    openStreams: new Set(),
    inFlight: new InFlight(inFlightLimits(options), () => sessions.now()),
    recorder: recorderOf(options, sessions),
    recordTimings: options.recordTimings === true,
  };
  // A session that ends (here or on another replica) answers its requests in flight at once.
  const stopListening = sessions.onRelease((id, reason) => {
    core.inFlight.endSession(id, reason === 'shutdown');
    // docs/RESUMPTION.md, "Retention": a session's end deletes its streams (a shutdown does not end it).
    if (reason !== 'shutdown') core.recorder?.dropSession(id);
  });
  options.application.bind?.(portOf(sessions));
  const allowedOrigins = options.allowedOrigins;
  const allowedHosts = options.allowedHosts?.map((host) => host.toLowerCase());

  async function handle(incoming: Incoming): Promise<Outgoing> {
    const origin = incoming.header('origin');
    const host = incoming.header('host');
    if (!hostAllowed(host, allowedHosts)) return fail(new SessiongateError('SG_HOST_FORBIDDEN'), undefined);
    // S10: validate Origin on every request before anything else.
    if (!originAllowed(origin, host, allowedOrigins)) {
      return fail(new SessiongateError('SG_ORIGIN_FORBIDDEN'), undefined);
    }
    try {
      const answer = await route(incoming);
      if (origin !== undefined) Object.assign(answer.headers, corsHeaders(origin));
      return answer;
    } catch (error) {
      return fail(error, origin);
    }
  }

  function route(incoming: Incoming): Promise<Outgoing> | Outgoing {
    switch (incoming.method) {
      case 'POST':
        return handlePost(core, incoming);
      case 'GET':
        return handleGet(core, incoming);
      case DELETE_METHOD:
        return handleDelete(core, incoming);
      case 'OPTIONS': {
        const origin = incoming.header('origin');
        const headers =
          origin === undefined ? { allow: ALLOW } : preflightHeaders(origin, incoming.header('access-control-request-headers'));
        return { status: 204, headers, body: null };
      }
      default:
        throw new SessiongateError('SG_METHOD_NOT_ALLOWED', undefined, { headers: { allow: ALLOW } });
    }
  }

  return {
    handle,
    fetch: toFetchHandler(handle),
    node: toNodeHandler(handle),
    sessions,
    async close() {
      stopListening();
      core.inFlight.endAll();
      await core.recorder?.close();
      await sessions.close();
      await options.application.close?.();
    },
  };
}

function recorderOf(options: SessionServerOptions, sessions: SessionManager): StreamRecorder | undefined {
  const log = sessions.streamLog;
  if (options.resume === false || !log) return undefined;
  return new StreamRecorder(log, { ...DEFAULT_RESUME, ...options.resume }, () => sessions.now(), sessions.report);
}

function fail(error: unknown, origin: string | undefined): Outgoing {
  const answer = failureAnswer(error);
  const headers: Record<string, string> = { 'content-type': 'application/json', ...answer.headers };
  if (origin !== undefined) Object.assign(headers, corsHeaders(origin));
  return { status: answer.status, headers, body: answer.body };
}

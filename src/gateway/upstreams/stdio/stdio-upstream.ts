/**
 * @module gateway/upstreams/stdio/stdio-upstream
 * Puts an MCP server that speaks stdio behind sessiongate's sessions: one child process per
 * session, taken from a small pool of pre-spawned spares at initialize, stopped (SIGTERM, then
 * SIGKILL) when the session ends for any reason and at shutdown. A child that dies between
 * requests is replaced and the stored handshake and session-scoped calls are replayed into the
 * new one (self-healing, also after a gateway restart); a request in flight when its child dies
 * gets a JSON-RPC error, never a hang, and is not retried (it may have run).
 *
 * On a shared store a session's child lives on one replica at a time: the replica serving a
 * request for it claims it, and the previous holder lets its child go once the calls in flight
 * there have been answered (a move never cuts a call; docs/ARCHITECTURE.md, "Replicas").
 */
import { IDENTITY_META_KEY, withoutForgedIdentity } from '../../../protocol/request-hygiene.js';
import { isObject, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../../../protocol/jsonrpc.js';
import { checkOptions, option, type OptionsSchema, required } from '../../../protocol/options.js';
import { isSessionScoped } from '../../../protocol/session-scoped.js';
import {
  type McpApplication,
  type Reply,
  type RequestContext,
  type SessionHandle,
  plainApplication,
  type Identity,
} from '../../../server/application.js';
import { subjectView } from '../../ops/identity-view.js';
import { requireSession } from '../require-session.js';
import { upstreamFailure } from '../upstream-failure.js';
import type { ChildLedger } from './child-ledger.js';
import { SparePool } from './spare-pool.js';
import type { StdioCommand } from './stdio-child.js';
import { type LinkSetting, StdioLink } from './stdio-link.js';

export interface StdioUpstreamOptions extends StdioCommand {
  /** Pre-spawned children kept ready, so initialize does not wait for a process start. Default 2. */
  spares?: number;
  /** Time between SIGTERM and SIGKILL when a child is stopped, in ms. Default 2000. */
  killGraceMs?: number;
  /**
   * A session's child with no traffic either way for this long (ms) is stopped; the session
   * lives on, and its next message starts a fresh child with the stored handshake and
   * session-scoped calls replayed (as after a restart). Not while a request is in flight, nor
   * for a session with resource subscriptions (updates would be lost). Default 5 minutes;
   * 0 keeps children as long as their sessions.
   */
  childIdleTimeoutMs?: number;
  /**
   * Where each child is written down while it runs, so the next start can stop those a killed
   * gateway left behind (`ChildLedger.reapOrphans`). Default: none.
   */
  ledger?: ChildLedger;
  /** A child's stderr line, with the session's short tag (never the id). Default: to stderr. */
  onStderr?: (sessionTag: string | undefined, line: string) => void;
  onError?: (error: unknown) => void;
}

/** What each stdio upstream option must be (docs/errors.md, "Configuration errors"); the CLI's flags check by it too. */
export const stdioUpstreamSchema = {
  command: required(option.string),
  args: required(option.strings('arguments')),
  spares: option.integerIn(0, 64),
  killGraceMs: option.nonNegativeInteger,
  childIdleTimeoutMs: option.nonNegativeNumber,
  maxMessageLength: option.positiveInteger,
  onStderr: option.func,
  onError: option.func,
} satisfies OptionsSchema;

export function stdioUpstream(options: StdioUpstreamOptions): McpApplication {
  checkOptions(stdioUpstreamSchema, options);
  return plainApplication(new StdioUpstream(options));
}

class StdioUpstream implements McpApplication {
  readonly #spares: SparePool;
  readonly #setting: LinkSetting;
  readonly #links = new Map<string, StdioLink>();
  /** Links of sessions moved to another replica, finishing their calls in flight; stopped at close. */
  readonly #draining = new Map<StdioLink, () => Promise<void>>();
  readonly #idleSweep: ReturnType<typeof setInterval> | undefined;

  constructor(options: StdioUpstreamOptions) {
    const grace = options.killGraceMs ?? 2000;
    const onStderr = options.onStderr ?? ((tag, line) => process.stderr.write(`[${tag ?? 'spare'}] ${line}\n`));
    this.#spares = new SparePool({
      command: options,
      target: options.spares ?? 2,
      grace,
      ledger: options.ledger,
      onStderr: (line) => onStderr(undefined, line),
    });
    this.#setting = { takeChild: () => this.#spares.take(), grace, onStderr, onError: options.onError ?? (() => {}) };
    const childIdleMs = options.childIdleTimeoutMs ?? 5 * 60_000;
    if (childIdleMs > 0) {
      this.#idleSweep = setInterval(() => this.#stopIdleChildren(childIdleMs), Math.max(childIdleMs / 2, 50));
      this.#idleSweep.unref();
    }
  }

  async handle(request: JsonRpcRequest, context: RequestContext): Promise<Reply> {
    const session = requireSession(context);
    const link = this.#linkFor(session);
    link.touch();
    const child = await link.child(session, request.method === 'initialize').catch(() => undefined);
    if (!child) return upstreamFailure(request.id, 'the upstream process could not be started');
    // A session-scoped call that succeeded is kept for replays; whatever the child sends
    // while it runs (log messages, resource updates) reaches the client as for any call.
    const keep = isSessionScoped(request.method)
      ? async (response: JsonRpcResponse): Promise<void> => {
          if ('result' in response) await link.remember(session, request).catch(this.#setting.onError);
        }
      : undefined;
    const reply = link.call(child, withIdentity(request, context.identity), keep);
    link.cancelOnAbort(child, request.id, context.signal);
    // The spare taken is replaced once this initialize is answered, not while it runs: a
    // loading child would take CPU from the one answering.
    if (request.method === 'initialize')
      void reply.then(
        () => this.#spares.refill(),
        () => {},
      );
    return reply;
  }

  async receive(message: JsonRpcMessage, context: RequestContext): Promise<void> {
    const session = requireSession(context);
    const here = this.#links.get(session.id);
    // The child that asked (or that the notification is about) may live on another replica:
    // relayed there rather than moving the session here.
    if (!here && (await session.port.toHolders(session.id, message))) return;
    const link = here ?? this.#linkFor(session);
    link.touch();
    (await link.child(session, false)).send(message);
  }

  async close(): Promise<void> {
    clearInterval(this.#idleSweep);
    await Promise.all([...this.#draining.values()].map((letGo) => letGo()));
    await this.#spares.close();
  }

  #linkFor(session: SessionHandle): StdioLink {
    const existing = this.#links.get(session.id);
    if (existing) return existing;
    const link = new StdioLink(session, this.#setting);
    this.#links.set(session.id, link);
    // On a shared store the session's child now lives here: a replica holding an older one
    // (the session was served there before) stops it (docs/ARCHITECTURE.md, "Replicas").
    session.port.claim(session.id).catch(this.#setting.onError);
    // A client's answer to this child's request may land on another replica: it is relayed here.
    const release = session.port.hold(session.id, (message) => link.send(message));
    const letGo = async (): Promise<void> => {
      this.#draining.delete(link);
      release();
      await link.stop();
    };
    session.port.attach(session.id, async (reason) => {
      link.end();
      this.#links.delete(session.id);
      if (reason !== 'moved' || link.inFlight === 0) return letGo();
      // Served elsewhere now: what is in flight here is answered first (and still hears the
      // client's answers, relayed by `hold`). Not awaited, so shutdown is not held up by it.
      this.#draining.set(link, letGo);
      link.whenSettled(() => void letGo().catch(this.#setting.onError));
    });
    return link;
  }

  /** Stops the children of sessions idle past the timeout (their sessions live on). */
  #stopIdleChildren(childIdleMs: number): void {
    const before = Date.now() - childIdleMs;
    for (const link of this.#links.values()) link.stopIfIdleSince(before);
  }
}

/** Where a stdio server finds the verified caller on every request (docs/AUTH.md): stdio has no headers. */
export { IDENTITY_META_KEY };

/**
 * The request with the caller's identity in `_meta` (issuer, subject, client, scopes; never a
 * token) when verified, and without whatever a client put under that key in any case: only the
 * gateway speaks there (docs/SECURITY.md).
 */
function withIdentity(request: JsonRpcRequest, identity: Identity | undefined): JsonRpcRequest {
  const cleaned = withoutForgedIdentity(request);
  if (!identity) return cleaned;
  const params = cleaned.params ?? {};
  const meta = isObject(params['_meta']) ? params['_meta'] : {};
  return { ...cleaned, params: { ...params, _meta: { ...meta, [IDENTITY_META_KEY]: { ...subjectView(identity) } } } };
}

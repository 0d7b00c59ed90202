/**
 * @module gateway/upstreams/channel-upstream
 * An upstream reached through one message channel per session (message-channel.ts): a stdio
 * child process (stdio/stdio-upstream.ts), or an HTTP+SSE connection (sse/sse-upstream.ts).
 * The channel is opened at initialize (a stdio child taken from the spares), ended when the
 * session ends for any reason and at shutdown. A channel that ends between requests is
 * replaced and the stored handshake and session-scoped calls are replayed into the new one
 * (self-healing, also after a gateway restart); a request in flight when its channel ends gets
 * a JSON-RPC error, never a hang, and is not retried (it may have run).
 *
 * On a shared store a session's channel lives on one replica at a time: the replica serving a
 * request for it claims it, and the previous holder lets its channel go once the calls in
 * flight there have been answered (a move never cuts a call; docs/ARCHITECTURE.md, "Replicas").
 */
import { IDENTITY_META_KEY, withoutForgedIdentity } from '../../protocol/request-hygiene.js';
import { isObject, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../../protocol/jsonrpc.js';
import { isSessionScoped } from '../../protocol/session-scoped.js';
import { type Identity, type McpApplication, type Reply, type RequestContext, type SessionHandle } from '../../server/application.js';
import { subjectView } from '../identity-view.js';
import { ChannelLink, type LinkSetting } from './channel-link.js';
import type { ChannelSource, MessageChannel } from './message-channel.js';
import { requireSession } from './require-session.js';
import { upstreamFailure } from './upstream-failure.js';

export interface ChannelUpstreamSetting {
  source: ChannelSource;
  /** Time between SIGTERM and SIGKILL when a child is stopped, ms. */
  grace: number;
  /** A session's channel with no traffic for this long is ended (the session lives on); 0 never. */
  idleMs: number;
  /** What the channel says for the operator's log, with the session's short tag (never the id); undefined before a session has it. */
  onStderr: (tag: string | undefined, line: string) => void;
  onError: (error: unknown) => void;
  /** What a channel that could not be opened answers. */
  cannotOpen: string;
  /**
   * `_meta` entries each request carries for the person it is made for (their own key:
   * stdio-upstream.ts, `personalMeta`); throwing sends nothing. Session-scoped calls carry none.
   */
  personalMeta?: ((context: RequestContext) => Readonly<Record<string, string>>) | undefined;
}

export class ChannelUpstream implements McpApplication {
  readonly #source: ChannelSource;
  readonly #setting: LinkSetting;
  readonly #cannotOpen: string;
  readonly #personalMeta: ChannelUpstreamSetting['personalMeta'];
  readonly #links = new Map<string, ChannelLink>();
  /** Links of sessions moved to another replica, finishing their calls in flight; stopped at close. */
  readonly #draining = new Map<ChannelLink, () => Promise<void>>();
  readonly #idleSweep: ReturnType<typeof setInterval> | undefined;

  constructor({ source, grace, idleMs, onStderr, onError, cannotOpen, personalMeta }: ChannelUpstreamSetting) {
    this.#source = source;
    this.#cannotOpen = cannotOpen;
    this.#personalMeta = personalMeta;
    this.#setting = { takeChannel: (context) => source.take(context), grace, onStderr, onError };
    if (idleMs > 0) {
      this.#idleSweep = setInterval(() => this.#endIdleChannels(idleMs), Math.max(idleMs / 2, 50));
      this.#idleSweep.unref();
    }
  }

  async handle(request: JsonRpcRequest, context: RequestContext): Promise<Reply> {
    const session = requireSession(context);
    const link = this.#linkFor(session);
    link.touch();
    let channel: MessageChannel;
    try {
      channel = await link.channel(session, request.method === 'initialize', context);
    } catch (error) {
      return upstreamFailure(request.id, `${this.#cannotOpen}: ${(error as Error).message}`);
    }
    // A session-scoped call that succeeded is kept for replays; whatever the channel carries
    // while it runs (log messages, resource updates) reaches the client as for any call.
    const keep = isSessionScoped(request.method)
      ? async (response: JsonRpcResponse): Promise<void> => {
          if ('result' in response) await link.remember(session, request).catch(this.#setting.onError);
        }
      : undefined;
    let sent = withIdentity(request, context.identity);
    // A session-scoped call is kept in the session's record to be replayed: it carries no key, which would be kept there in clear.
    if (this.#personalMeta && !keep) {
      try {
        sent = withMeta(sent, this.#personalMeta(context));
      } catch (error) {
        return upstreamFailure(request.id, (error as Error).message);
      }
    }
    const reply = link.call(channel, sent, keep);
    link.cancelOnAbort(channel, request.id, context.cancellation ?? context.signal);
    // A stdio spare taken is replaced once this initialize is answered, not while it runs: a
    // loading child would take CPU from the one answering.
    if (request.method === 'initialize')
      void reply.then(
        () => this.#source.refill(),
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
    (await link.channel(session, false, context)).send(message);
  }

  /** Ends every channel: those of sessions still here too (a federation's reload removing this server; at shutdown, sessions end first). */
  async close(): Promise<void> {
    clearInterval(this.#idleSweep);
    await Promise.all([...this.#draining.values()].map((letGo) => letGo()));
    const links = [...this.#links.values()];
    this.#links.clear();
    for (const link of links) link.end();
    await Promise.all(links.map((link) => link.stop()));
    await this.#source.close();
  }

  #linkFor(session: SessionHandle): ChannelLink {
    const existing = this.#links.get(session.id);
    if (existing) return existing;
    const link = new ChannelLink(session, this.#setting);
    this.#links.set(session.id, link);
    // On a shared store the session's channel now lives here: a replica holding an older one
    // (the session was served there before) stops it (docs/ARCHITECTURE.md, "Replicas").
    session.port.claim(session.id).catch(this.#setting.onError);
    // A client's answer to this channel's request may land on another replica: it is relayed here.
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

  /** Ends the channels of sessions idle past the timeout (their sessions live on). */
  #endIdleChannels(idleMs: number): void {
    const before = Date.now() - idleMs;
    for (const link of this.#links.values()) link.stopIfIdleSince(before);
  }
}

/**
 * The request with the caller's identity in `_meta` (issuer, subject, client, scopes; never a
 * token) when verified, and without whatever a client put under that key in any case: only the
 * gateway speaks there (docs/SECURITY.md).
 */
/** `request` with `entries` added to its params' `_meta` (in place of any of the same name). */
function withMeta(request: JsonRpcRequest, entries: Readonly<Record<string, string>>): JsonRpcRequest {
  const params = request.params ?? {};
  const meta = isObject(params['_meta']) ? params['_meta'] : {};
  return { ...request, params: { ...params, _meta: { ...meta, ...entries } } };
}

function withIdentity(request: JsonRpcRequest, identity: Identity | undefined): JsonRpcRequest {
  const cleaned = withoutForgedIdentity(request);
  if (!identity) return cleaned;
  const params = cleaned.params ?? {};
  const meta = isObject(params['_meta']) ? params['_meta'] : {};
  return { ...cleaned, params: { ...params, _meta: { ...meta, [IDENTITY_META_KEY]: { ...subjectView(identity) } } } };
}

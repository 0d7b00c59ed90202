/**
 * @module gateway/upstreams/channel-link
 * One session's channel to the upstream (message-channel.ts: a stdio channel, an HTTP+SSE
 * connection) and the calls in flight on it: the channel is opened (a channel taken from the
 * spares) on first use and again after it ended or was stopped, with the stored handshake and
 * session-scoped calls replayed; its messages go to the call they belong to or to the
 * session's GET stream.
 */
import type { Abortable } from '../../protocol/cancellation.js';
import { SessiongateError } from '../../protocol/failures.js';
import { internalRequestId } from '../../protocol/internal-ids.js';
import {
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type RequestId,
  isObject,
  isRequestList,
  isResponse,
  requestKey,
} from '../../protocol/jsonrpc.js';
import { ScopedCalls } from '../../protocol/session-scoped.js';
import { type Reply, type RequestContext, responseOf, type SessionHandle, type SessionPort } from '../../server/application.js';
import { PendingReply, slowCallReader } from '../../server/pending-reply.js';
import { sessionTag } from '../../session/id.js';
import { guarded, stateSlot } from '../../session/state-slot.js';
import { upstreamCancel } from './upstream-cancel.js';
import { upstreamFailure } from './upstream-failure.js';
import type { MessageChannel } from './message-channel.js';

/** The session-scoped calls a new channel of the session replays (after a restart, an idle stop, a move). */
const SCOPED = stateSlot('sessiongate.stdio', guarded(isRequestList));

/** What every link of one upstream shares. */
export interface LinkSetting {
  /** A channel for a session (a spare, or a start of its own), for the request `context` is of. */
  takeChannel: (context: RequestContext) => Promise<MessageChannel>;
  /** Time between SIGTERM and SIGKILL, ms. */
  grace: number;
  onStderr: (tag: string, line: string) => void;
  onError: (error: unknown) => void;
}

interface Pending {
  reply: PendingReply;
  progressToken: unknown;
  /** Runs before the response is handed on (a session-scoped call is kept for replays). */
  beforeResponse: ((response: JsonRpcResponse) => Promise<void>) | undefined;
}

export class ChannelLink {
  readonly sessionId: string;
  /** For messages to the session's GET stream, wherever it is open. */
  readonly #port: SessionPort;
  /** The session's short tag in log lines (never the id). */
  readonly tag: string;
  /** When the last message went to or came from the channel (for the channel idle timeout). */
  lastActivity = Date.now();
  readonly #setting: LinkSetting;
  #channel: MessageChannel | undefined;
  #starting: Promise<MessageChannel> | undefined;
  readonly #pending = new Map<string | number, Pending>();
  /** Ids whose request was cancelled upstream, until the server has taken the cancellation in. */
  readonly #cancelling = new Map<string | number, Promise<void>>();
  #ended = false;
  /** The session holds resource subscriptions: its channel is kept, or updates would be lost. */
  #subscribed = false;
  /** Runs when the last call in flight is answered (a moved link waits for it to stop its channel). */
  #onSettled: (() => void) | undefined;
  /** Call streams whose clients have fallen behind: the channel's output is paused while any has. */
  readonly #behind = new Set<Promise<void>>();

  constructor(session: SessionHandle, setting: LinkSetting) {
    this.sessionId = session.id;
    this.#port = session.port;
    this.tag = logTag(session.id, session.record.clientSessionId);
    this.#setting = setting;
  }

  get inFlight(): number {
    return this.#pending.size;
  }

  touch(): void {
    this.lastActivity = Date.now();
  }

  /**
   * The session's channel: a spare for a new session; after a death or restart, a new one with the
   * handshake replayed from `session` (the current request's view of the record: what was
   * remembered since the link was made is in it).
   */
  channel(session: SessionHandle, fresh: boolean, context: RequestContext): Promise<MessageChannel> {
    if (this.#channel?.alive) return Promise.resolve(this.#channel);
    this.#starting ??= this.#start(session, fresh, context).finally(() => (this.#starting = undefined));
    return this.#starting;
  }

  /** Sends a request to the channel; its answer (or an error when the channel dies first) is the reply. */
  call(channel: MessageChannel, request: JsonRpcRequest, beforeResponse?: (response: JsonRpcResponse) => Promise<void>): Promise<Reply> {
    const key = requestKey(request.id);
    // The channel answers by id: a second request under an id still in flight would take the
    // first one's answer and leave the first caller waiting forever.
    if (this.#pending.has(key)) return Promise.reject(new SessiongateError('SG_REQUEST_ID_IN_USE'));
    const meta = request.params?.['_meta'];
    const reply = new PendingReply(() => this.#setting.onError(slowCallReader(this.tag)));
    this.#pending.set(key, { reply, progressToken: isObject(meta) ? meta['progressToken'] : undefined, beforeResponse });
    const write = (): void => {
      if (channel.send(request)) return;
      this.#settle(key);
      reply.respond(upstreamFailure(request.id, channel.endedWhy));
    };
    // An id whose earlier request was just cancelled upstream waits until the server has taken
    // the cancellation in: the SDK applies `notifications/cancelled` a turn later, to whatever
    // request holds that id then, and so cancelled the new request that reused it.
    const cancelling = this.#cancelling.get(key);
    if (cancelling) void cancelling.then(write);
    else write();
    return reply.reply;
  }

  /**
   * The request ended before the channel answered (its deadline, its session's end, its client
   * gone: without resumable streams nobody can receive the answer any more): its id is freed
   * and the channel is told to stop (notifications/cancelled), so abandoned calls cannot pile up.
   */
  cancelOnAbort(channel: MessageChannel, id: RequestId, signal: Abortable): void {
    const key = requestKey(id);
    const entry = this.#pending.get(key);
    if (!entry) return;
    const onAbort = (): void => {
      if (this.#pending.get(key) !== entry) return;
      this.#settle(key);
      entry.reply.respond(upstreamFailure(id, 'the request was cancelled'));
      channel.send(upstreamCancel(id));
      this.#barrierAfterCancel(channel, key);
    };
    if (signal.aborted) return onAbort();
    // Per request, so it goes with the request; once answered, onAbort does nothing.
    signal.addEventListener('abort', onAbort, { once: true });
  }

  /**
   * A ping after a cancellation: the server answers it only after it has handled the
   * cancellation sent before it (messages are read in order), so a request reusing the id is
   * written after that answer (or the channel's end). Kept per id only while it lasts.
   */
  #barrierAfterCancel(channel: MessageChannel, key: string | number): void {
    const ping: JsonRpcRequest = { jsonrpc: '2.0', id: internalRequestId('after-cancel'), method: 'ping' };
    const barrier = this.call(channel, ping)
      .then(responseOf)
      .then(
        () => {},
        () => {},
      )
      .finally(() => {
        if (this.#cancelling.get(key) === barrier) this.#cancelling.delete(key);
      });
    this.#cancelling.set(key, barrier);
  }

  /** Keeps a session-scoped call that succeeded in the record, for replays after a restart. */
  async remember(session: SessionHandle, request: JsonRpcRequest): Promise<void> {
    const scoped = scopedOf(session);
    scoped.remember(request);
    this.#subscribed = hasSubscriptions(scoped.list());
    await session.port.writeState(session.id, SCOPED, scoped.list());
  }

  /** Sends a message that expects no answer (a notification, a client's answer to the channel). */
  send(message: JsonRpcMessage): void {
    this.#channel?.send(message);
  }

  /**
   * Stops the channel when nothing went either way since `before` (the session lives on; its next
   * message starts a fresh channel). Not while a call is in flight, nor with resource subscriptions.
   */
  stopIfIdleSince(before: number): void {
    const channel = this.#channel;
    if (!channel || this.#pending.size > 0 || this.lastActivity > before || this.#subscribed) return;
    this.#channel = undefined;
    void channel.stop(this.#setting.grace);
  }

  /** The session ended here: no channel is started any more. */
  end(): void {
    this.#ended = true;
  }

  /** Runs `then` once the calls in flight are answered (at once when there are none). */
  whenSettled(then: () => void): void {
    if (this.#pending.size === 0) return then();
    this.#onSettled = then;
  }

  /** Stops the channel (one still starting, once started). */
  async stop(): Promise<void> {
    this.#onSettled = undefined;
    const channel = this.#channel ?? (await this.#starting?.catch(() => undefined));
    await channel?.stop(this.#setting.grace);
  }

  async #start(session: SessionHandle, fresh: boolean, context: RequestContext): Promise<MessageChannel> {
    const channel = await this.#setting.takeChannel(context);
    this.#bind(channel);
    if (!fresh) await this.#replay(session, channel);
    if (this.#ended) {
      await channel.stop(this.#setting.grace);
      throw new Error('session ended');
    }
    this.#channel = channel;
    return channel;
  }

  #bind(channel: MessageChannel): void {
    channel.bind({
      onStderr: (line) => this.#setting.onStderr(this.tag, line),
      onMessage: (message) => this.#route(message),
      onExit: () => {
        if (this.#channel === channel) this.#channel = undefined;
        // In-flight requests get an error, never a hang, and are not retried.
        const why = channel.endedWhy;
        for (const [key, entry] of this.#pending) {
          this.#settle(key);
          entry.reply.respond(upstreamFailure(typeof key === 'number' ? key : key.slice(2), why));
        }
      },
    });
  }

  /** A message from the channel: the answer to its request, or something for the client. */
  #route(message: JsonRpcMessage): void {
    this.touch();
    if (isResponse(message)) {
      const key = message.id === null ? undefined : requestKey(message.id);
      const entry = key === undefined ? undefined : this.#pending.get(key);
      if (!entry) return;
      this.#settle(key!);
      if (entry.beforeResponse) void entry.beforeResponse(message).finally(() => entry.reply.respond(message));
      else entry.reply.respond(message);
      return;
    }
    // a channel carries no "related request": progress follows its token; anything else sent while a
    // call is in flight rides on the latest call's stream; otherwise it goes to the GET stream.
    const token = message.method === 'notifications/progress' ? message.params?.['progressToken'] : undefined;
    let target: Pending | undefined;
    for (const entry of this.#pending.values()) if (token === undefined || entry.progressToken === token) target = entry;
    if (!target) return void this.#port.toStream(this.sessionId, message);
    const behind = target.reply.push(message);
    if (behind) this.#holdOutput(behind);
  }

  /**
   * A call's client reads its stream more slowly than the channel writes: the channel's stdout is
   * paused until every such stream has caught up (docs/limits.md, "Streams"), so what waits is
   * in the pipe (or the socket), not in the gateway's memory.
   */
  #holdOutput(behind: Promise<void>): void {
    if (this.#behind.has(behind)) return;
    this.#behind.add(behind);
    this.#channel?.pauseOutput();
    void behind.then(() => {
      this.#behind.delete(behind);
      if (this.#behind.size === 0) this.#channel?.resumeOutput();
    });
  }

  #settle(key: string | number): void {
    this.#pending.delete(key);
    if (this.#pending.size === 0) this.#onSettled?.();
  }

  async #replay(session: SessionHandle, channel: MessageChannel): Promise<void> {
    const scoped = scopedOf(session).list();
    this.#subscribed = hasSubscriptions(scoped);
    const initialize: JsonRpcRequest = {
      jsonrpc: '2.0',
      id: internalRequestId('replay'),
      method: 'initialize',
      params: session.record.initialize,
    };
    const answer = await responseOf(await this.call(channel, initialize));
    if ('error' in answer) throw new Error(`the upstream refused the replayed initialize: ${answer.error.message}`);
    channel.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    for (const request of scoped) await responseOf(await this.call(channel, { ...request, id: internalRequestId('replay') }));
  }
}

function hasSubscriptions(calls: readonly JsonRpcRequest[]): boolean {
  return calls.some((call) => call.method === 'resources/subscribe');
}

function scopedOf(session: SessionHandle): ScopedCalls {
  return ScopedCalls.from(SCOPED.read(session.record.state) ?? []);
}

/**
 * A log line's tag: the session's short tag, and the client correlation id when it has one, so
 * every line of one conversation can be found (SEP-2822). Client text, so only visible ASCII.
 */
function logTag(id: string, clientSessionId: string | null): string {
  const tag = sessionTag(id);
  return clientSessionId === null ? tag : `${tag} ${clientSessionId.replace(/[^\x21-\x7e]/g, '?').slice(0, 64)}`;
}

/**
 * @module server/sdk/sdk-binding
 * Serves the official SDK's `McpServer` (or low-level `Server`) through the session server:
 * one instance per session, created at initialize, connected through an in-process transport,
 * and closed (always) when the session ends for any reason.
 *
 * Resurrection: a request for a live session that this process holds no instance for (the
 * process restarted on a durable store, another replica created the session, or the instance
 * was disposed for being idle) builds a fresh instance and replays into it, answers discarded:
 * the stored initialize request, the initialized notification, and the session-scoped calls
 * that succeeded (logging/setLevel, resources/subscribe minus unsubscribed), which the binding
 * keeps in the record. Then it serves the request. What survives: the record, `session.state`,
 * the log level and subscriptions. What does not: in-memory fields of your own objects, and
 * messages the old instance had not delivered yet.
 */
import type { MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { SessiongateError } from '../../protocol/failures.js';
import { isRequestList, type JsonObject, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../../protocol/jsonrpc.js';
import { HANDSHAKE_REVISIONS } from '../../protocol/revisions.js';
import { isSessionScoped, ScopedCalls } from '../../protocol/session-scoped.js';
import {
  isStreamReply,
  type McpApplication,
  type Reply,
  type RequestContext,
  type SessionHandle,
  plainApplication,
} from '../application.js';
import { MessageQueue } from '../message-queue.js';
import { BoundInstance, type ConnectableServer, type InstanceOwner } from './bound-instance.js';
import { reservedSlot, type SessionState } from './session-state.js';
import { guarded } from '../../session/state-slot.js';
import { checkOptions, option, type OptionsSchema, required } from '../../protocol/options.js';
import { internalRequestId } from '../../protocol/internal-ids.js';

export type { ConnectableServer } from './bound-instance.js';

/** The session as your factory sees it. */
export interface BoundSession {
  readonly id: string;
  /** Keyed hash of the caller's identity, or null. */
  readonly principal: string | null;
  /** `Mcp-Client-Session-Id` sent with initialize, if any. */
  readonly clientSessionId: string | null;
  /** Persisted per-session JSON; survives restarts and replica moves. */
  readonly state: SessionState;
  /** True when this instance was rebuilt for an existing session (restart, other replica, idle disposal). */
  readonly resurrected: boolean;
}

export type McpServerFactory = (session: BoundSession) => ConnectableServer | Promise<ConnectableServer>;

export interface McpBindingOptions {
  /** Errors from closing instances and background work. Default: ignore. */
  onError?: (error: unknown) => void;
  /**
   * Milliseconds after which the instance of an idle session is closed to free its memory:
   * no request or notification for that long (disposed between 1x and 1.5x of it), no GET
   * stream open on this replica, no request of the instance's own waiting for the client. The
   * session lives on; its next request rebuilds the instance as after a restart (see the module
   * comment for what survives). Default: undefined, an instance lives as long as its session.
   */
  instanceIdleTimeoutMs?: number;
  /** @deprecated The old name of `instanceIdleTimeoutMs` (every other duration ends in `Ms`); still read when that is unset. */
  instanceIdleTimeout?: number;
}

/** What `bindMcpServer` takes (docs/errors.md, "Configuration errors"). */
const bindingArgumentsSchema: OptionsSchema = {
  factory: required(option.func),
  instanceIdleTimeoutMs: option.finitePositive,
  instanceIdleTimeout: option.finitePositive,
  onError: option.func,
};

/** Where the binding keeps the session-scoped calls to replay (a reserved `session.state` key). */
const SCOPED = reservedSlot('scoped', guarded(isRequestList));

/**
 * Binds an SDK server factory to the session server.
 * @example
 * createSessionServer({ application: bindMcpServer(() => buildMyMcpServer()), store });
 */
export function bindMcpServer(factory: McpServerFactory, options: McpBindingOptions = {}): McpApplication {
  checkOptions(bindingArgumentsSchema, { factory, ...options });
  return plainApplication(new McpBinding(factory, options));
}

class McpBinding implements McpApplication, InstanceOwner {
  readonly #factory: McpServerFactory;
  readonly #idleTimeout: number | undefined;
  readonly onError: (error: unknown) => void;
  /** Instances being built (their first request waits on them). */
  readonly #building = new Map<string, Promise<BoundInstance>>();
  /** Instances that may be closed as idle (only with instanceIdleTimeoutMs). */
  readonly #sweepable: Set<BoundInstance> | undefined;
  /** GET streams open here, by session: their instances are not idle. */
  readonly #streams = new Map<string, number>();
  #sweeper: ReturnType<typeof setInterval> | undefined;
  /** Instances are found among the session's resources (no table of our own per session). */
  readonly #isOurs = (resource: unknown): boolean => resource instanceof BoundInstance && resource.owner === this;

  constructor(factory: McpServerFactory, options: McpBindingOptions) {
    this.#factory = factory;
    this.#idleTimeout = options.instanceIdleTimeoutMs ?? options.instanceIdleTimeout;
    this.onError = options.onError ?? (() => {});
    this.#sweepable = this.#idleTimeout === undefined ? undefined : new Set();
  }

  async handle(request: JsonRpcRequest, context: RequestContext): Promise<Reply> {
    const instance = this.#readyFor(context) ?? (await this.#instanceFor(context, request.method === 'initialize'));
    const reply = instance.transport.request(request, extraOf(context));
    if (!isSessionScoped(request.method)) return reply;
    return afterResponse(await reply, (response) => void this.#remember(instance, request, response).catch(this.onError));
  }

  // Ended before its answer (docs/limits.md, "Requests"): the SDK handler is cancelled too.
  // A hook, not context.signal: an AbortSignal per request cost this path ~15% of its CPU.
  cancel(request: JsonRpcRequest, context: RequestContext, reason: string): void {
    const instance = context.session?.port.resource(context.session.id, this.#isOurs) as BoundInstance | undefined;
    instance?.transport.cancel(request.id, `the request ended early: ${reason}`);
  }

  async receive(message: JsonRpcMessage, context: RequestContext): Promise<void> {
    const here = this.#readyFor(context);
    const session = context.session;
    // An instance of this session on another replica may be the one that asked (or that a
    // cancellation is for): every holder hears it. `initialized` with an instance here is
    // this instance's own.
    if (here) {
      if (session && !('method' in message && message.method === 'notifications/initialized'))
        session.port.toHolders(session.id, message).catch(this.onError);
      return here.transport.deliver(message, extraOf(context));
    }
    if (session && (await session.port.toHolders(session.id, message))) return;
    const instance = await this.#instanceFor(context, false);
    instance.transport.deliver(message, extraOf(context));
  }

  openStream(context: RequestContext): MessageQueue<JsonRpcMessage> | undefined {
    // Nothing of the instance's own to add (it sends through the port's toStream); the stream
    // only keeps the session's instance from being closed as idle while it is open.
    const id = context.session?.id;
    if (id === undefined || this.#idleTimeout === undefined) return undefined;
    const streams = this.#streams;
    streams.set(id, (streams.get(id) ?? 0) + 1);
    return new MessageQueue<JsonRpcMessage>(() => {
      const open = streams.get(id)! - 1;
      if (open === 0) streams.delete(id);
      else streams.set(id, open);
    });
  }

  async close(): Promise<void> {
    this.#stopSweeping();
  }

  /** The instance ended (any reason): it is no longer swept. */
  forget(instance: BoundInstance): void {
    this.#sweepable?.delete(instance);
  }

  /** The built instance of the request's session, if there is one (marked used). */
  #readyFor(context: RequestContext): BoundInstance | undefined {
    const session = context.session;
    const instance = session?.port.resource(session.id, this.#isOurs) as BoundInstance | undefined;
    if (!instance?.ready) return undefined;
    instance.use(session!);
    return instance;
  }

  /** The session's instance once built: being built (waited for), or built now. */
  #instanceFor(context: RequestContext, fresh: boolean): Promise<BoundInstance> {
    const session = context.session;
    // SDK 1.x speaks the handshake era only: 2026-07-28 traffic gets the spec's -32022.
    if (!session) {
      // 2026-07-28 UnsupportedProtocolVersionError: data carries `requested` and `supported`.
      const data = { requested: context.protocolVersion, supported: [...HANDSHAKE_REVISIONS] };
      return Promise.reject(
        new SessiongateError('SG_SESSIONLESS_UNSUPPORTED_VERSION', 'This server speaks MCP 2025-03-26 to 2025-11-25 only', { data }),
      );
    }
    const building = this.#building;
    const existing = building.get(session.id);
    if (existing) {
      return existing.then((instance) => {
        instance.use(session);
        return instance;
      });
    }
    const created = this.#create(session, context, fresh);
    building.set(session.id, created);
    const settle = (): void => void (building.get(session.id) === created && building.delete(session.id));
    created.then(settle, settle);
    return created;
  }

  async #create(session: SessionHandle, context: RequestContext, fresh: boolean): Promise<BoundInstance> {
    const instance = new BoundInstance(session, this);
    const { record } = session;
    try {
      const server = await this.#factory({
        id: session.id,
        principal: record.principal,
        clientSessionId: record.clientSessionId,
        // A getter: a server that never reads its state gets no state view kept for it.
        get state() {
          return instance.state;
        },
        resurrected: !fresh,
      });
      await instance.connect(server);
      if (!fresh) await replay(instance, record.initialize, extraOf(context));
      if (instance.ended) throw new SessiongateError('SG_SESSION_NOT_FOUND');
      instance.markReady();
      this.#startSweeping(instance);
      return instance;
    } catch (error) {
      await instance.end();
      throw error;
    }
  }

  /** Keeps a session-scoped call that succeeded, for the replays of a rebuilt instance. */
  async #remember(instance: BoundInstance, request: JsonRpcRequest, response: JsonRpcResponse): Promise<void> {
    if (!('result' in response)) return;
    const scoped = scopedCalls(instance);
    scoped.remember(request);
    await instance.state.setReserved(SCOPED, scoped.list());
  }

  /** With instanceIdleTimeoutMs: the instance is swept, every half timeout (BoundInstance.sweep). */
  #startSweeping(instance: BoundInstance): void {
    const idleTimeout = this.#idleTimeout;
    if (idleTimeout === undefined) return;
    this.#sweepable!.add(instance);
    if (this.#sweeper !== undefined) return;
    this.#sweeper = setInterval(() => this.#sweepIdle(), idleTimeout / 2);
    this.#sweeper.unref?.();
  }

  #sweepIdle(): void {
    const sweepable = this.#sweepable!;
    for (const instance of sweepable) instance.sweep(instance.transport.busy || this.#streams.has(instance.id));
    if (sweepable.size === 0) this.#stopSweeping();
  }

  #stopSweeping(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}

/** Brings a new instance of an existing session to where the session is (answers discarded). */
async function replay(instance: BoundInstance, initialize: JsonObject, extra: MessageExtraInfo): Promise<void> {
  const { transport } = instance;
  await transport.request({ jsonrpc: '2.0', id: internalRequestId('replay'), method: 'initialize', params: initialize }, extra);
  transport.deliver({ jsonrpc: '2.0', method: 'notifications/initialized' }, extra);
  for (const call of scopedCalls(instance).list()) {
    await drain(await transport.request({ ...call, id: internalRequestId('replay') }, extra));
  }
}

function scopedCalls(instance: BoundInstance): ScopedCalls {
  return ScopedCalls.from(instance.reserved(SCOPED) ?? []);
}

/** Runs `then` on the response of a reply, whether it is the reply or the end of its stream. */
function afterResponse(reply: Reply, then: (response: JsonRpcResponse) => void): Reply {
  if (!isStreamReply(reply)) {
    then(reply);
    return reply;
  }
  return (async function* () {
    for await (const message of reply) {
      if (!('method' in message)) then(message);
      yield message;
    }
  })();
}

/** Reads a reply to its end (a replayed call's answer is not wanted, but its stream must finish). */
async function drain(reply: Reply): Promise<void> {
  if (isStreamReply(reply)) for await (const _message of reply);
}

function extraOf(context: RequestContext): MessageExtraInfo {
  return { requestInfo: { headers: context.headers() } };
}

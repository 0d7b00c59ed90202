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
import { isStreamReply, type McpApplication, type Reply, type RequestContext, type SessionHandle } from '../application.js';
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
  const idleTimeout = options.instanceIdleTimeoutMs ?? options.instanceIdleTimeout;
  const onError = options.onError ?? (() => {});
  /** Instances being built (their first request waits on them). */
  const building = new Map<string, Promise<BoundInstance>>();
  /** Instances that may be closed as idle (only with instanceIdleTimeoutMs). */
  const sweepable = idleTimeout === undefined ? undefined : new Set<BoundInstance>();
  /** GET streams open here, by session: their instances are not idle. */
  const streams = new Map<string, number>();
  let sweeper: ReturnType<typeof setInterval> | undefined;

  const owner: InstanceOwner = {
    forget(instance) {
      sweepable?.delete(instance);
    },
    onError,
  };
  /** This binding's instances: the class carries the binding, so an instance needs no field for it. */
  class Instance extends BoundInstance {
    get owner(): InstanceOwner {
      return owner;
    }
  }
  // Instances are found among the session's resources (no table of our own per session).
  const isOurs = (resource: unknown): boolean => resource instanceof Instance;

  /** Runs every half timeout: closes the instances unused that long (BoundInstance.sweep). */
  function sweepIdle(): void {
    for (const instance of sweepable!) instance.sweep(instance.transport.busy || streams.has(instance.id));
    if (sweepable!.size === 0) stopSweeping();
  }

  function stopSweeping(): void {
    clearInterval(sweeper);
    sweeper = undefined;
  }

  function instanceFor(context: RequestContext, fresh: boolean): Promise<BoundInstance> {
    const session = context.session;
    // SDK 1.x speaks the handshake era only: 2026-07-28 traffic gets the spec's -32022.
    if (!session) {
      // 2026-07-28 UnsupportedProtocolVersionError: data carries `requested` and `supported`.
      const data = { requested: context.protocolVersion, supported: [...HANDSHAKE_REVISIONS] };
      return Promise.reject(
        new SessiongateError('SG_SESSIONLESS_UNSUPPORTED_VERSION', 'This server speaks MCP 2025-03-26 to 2025-11-25 only', { data }),
      );
    }
    const existing = building.get(session.id);
    if (existing) {
      return existing.then((instance) => {
        instance.use(session);
        return instance;
      });
    }
    const created = create(session, context, fresh);
    building.set(session.id, created);
    const settle = (): void => void (building.get(session.id) === created && building.delete(session.id));
    created.then(settle, settle);
    return created;
  }

  /** The built instance of the request's session, if there is one (marked used). */
  function readyFor(context: RequestContext): BoundInstance | undefined {
    const session = context.session;
    const instance = session?.port.resource(session.id, isOurs) as BoundInstance | undefined;
    if (!instance?.ready) return undefined;
    instance.use(session!);
    return instance;
  }

  async function create(session: SessionHandle, context: RequestContext, fresh: boolean): Promise<BoundInstance> {
    const instance = new Instance(session);
    const { record } = session;
    try {
      const server = await factory({
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
      sweepable?.add(instance);
      if (idleTimeout !== undefined && sweeper === undefined) {
        sweeper = setInterval(sweepIdle, idleTimeout / 2);
        sweeper.unref?.();
      }
      return instance;
    } catch (error) {
      await instance.end();
      throw error;
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

  /** Keeps a session-scoped call that succeeded, for the replays of a rebuilt instance. */
  async function remember(instance: BoundInstance, request: JsonRpcRequest, response: JsonRpcResponse): Promise<void> {
    if (!('result' in response)) return;
    const scoped = scopedCalls(instance);
    scoped.remember(request);
    await instance.state.setReserved(SCOPED, scoped.list());
  }

  return {
    async handle(request, context) {
      const instance = readyFor(context) ?? (await instanceFor(context, request.method === 'initialize'));
      const reply = instance.transport.request(request, extraOf(context));
      if (!isSessionScoped(request.method)) return reply;
      return afterResponse(await reply, (response) => void remember(instance, request, response).catch(onError));
    },
    // Ended before its answer (docs/limits.md, "Requests"): the SDK handler is cancelled too.
    // A hook, not context.signal: an AbortSignal per request cost this path ~15% of its CPU.
    cancel(request, context, reason) {
      const instance = context.session?.port.resource(context.session.id, isOurs) as BoundInstance | undefined;
      instance?.transport.cancel(request.id, `the request ended early: ${reason}`);
    },
    async receive(message, context) {
      const here = readyFor(context);
      const session = context.session;
      // An instance of this session on another replica may be the one that asked (or that a
      // cancellation is for): every holder hears it. `initialized` with an instance here is
      // this instance's own.
      if (here) {
        if (session && !('method' in message && message.method === 'notifications/initialized'))
          session.port.toHolders(session.id, message).catch(onError);
        return here.transport.deliver(message, extraOf(context));
      }
      if (session && (await session.port.toHolders(session.id, message))) return;
      const instance = await instanceFor(context, false);
      instance.transport.deliver(message, extraOf(context));
    },
    openStream(context) {
      // Nothing of the instance's own to add (it sends through session.toStream); the stream
      // only keeps the session's instance from being closed as idle while it is open.
      const id = context.session?.id;
      if (id === undefined || idleTimeout === undefined) return undefined;
      streams.set(id, (streams.get(id) ?? 0) + 1);
      return new MessageQueue<JsonRpcMessage>(() => {
        const open = streams.get(id)! - 1;
        if (open === 0) streams.delete(id);
        else streams.set(id, open);
      });
    },
    async close() {
      stopSweeping();
    },
  };
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

/**
 * @module server/sdk/sdk-binding
 * Serves the official SDK's `McpServer` (or low-level `Server`) through the session server:
 * one instance per session, created at initialize, connected through an in-process transport,
 * and closed (always) when the session ends for any reason.
 *
 * Resurrection: a request for a live session that this process holds no instance for (the
 * process restarted on a durable store, or another replica created the session) builds a fresh
 * instance and replays the stored initialize request and initialized notification into it
 * before serving the request. What survives: the record, `session.state`. What does not:
 * in-memory fields of your own objects, subscriptions the SDK kept in memory, and messages the
 * old instance had not delivered yet.
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { MessageExtraInfo } from '@modelcontextprotocol/sdk/types.js';
import { SessiongateError } from '../../protocol/failures.js';
import { HANDSHAKE_REVISIONS } from '../../protocol/revisions.js';
import type { McpApplication, RequestContext, SessionHandle } from '../application.js';
import { SessionState } from './session-state.js';
import { SessionTransport } from './session-transport.js';

/** What the binding needs of an SDK server: `McpServer` and `Server` both fit. */
export interface ConnectableServer {
  connect(transport: Transport): Promise<void>;
  close(): Promise<void>;
}

/** The session as your factory sees it. */
export interface BoundSession {
  readonly id: string;
  /** Keyed hash of the caller's identity, or null. */
  readonly principal: string | null;
  /** `Mcp-Client-Session-Id` sent with initialize, if any. */
  readonly clientSessionId: string | null;
  /** Persisted per-session JSON; survives restarts and replica moves. */
  readonly state: SessionState;
  /** True when this instance was rebuilt for an existing session (restart, other replica). */
  readonly resurrected: boolean;
}

export type McpServerFactory = (session: BoundSession) => ConnectableServer | Promise<ConnectableServer>;

export interface McpBindingOptions {
  /** Errors from closing instances and background work. Default: ignore. */
  onError?: (error: unknown) => void;
}

interface Instance {
  readonly transport: SessionTransport;
  readonly state: SessionState;
}

const REPLAY_ID = 'sessiongate-replay-initialize';

/**
 * Binds an SDK server factory to the session server.
 * @example
 * createSessionServer({ application: bindMcpServer(() => buildMyMcpServer()), store });
 */
export function bindMcpServer(factory: McpServerFactory, options: McpBindingOptions = {}): McpApplication {
  if (typeof factory !== 'function') throw new TypeError('sessiongate: bindMcpServer needs a factory function (session) => McpServer');
  const onError = options.onError ?? (() => {});
  const instances = new Map<string, Promise<Instance>>();
  /** Instances already built, for the hot path: no promise hop per request. */
  const ready = new Map<string, Instance>();

  function instanceFor(context: RequestContext, fresh: boolean): Promise<Instance> {
    const session = context.session;
    // SDK 1.x speaks the handshake era only: 2026-07-28 traffic gets the spec's -32022.
    if (!session) {
      // 2026-07-28 UnsupportedProtocolVersionError: data carries `requested` and `supported`.
      const data = { requested: context.protocolVersion, supported: [...HANDSHAKE_REVISIONS] };
      return Promise.reject(
        new SessiongateError('SG_SESSIONLESS_UNSUPPORTED_VERSION', 'This server speaks MCP 2025-03-26 to 2025-11-25 only', { data }),
      );
    }
    const existing = instances.get(session.id);
    if (existing) {
      return existing.then((instance) => {
        instance.state.refresh(session.record.state);
        return instance;
      });
    }
    const created = create(session, context, fresh);
    instances.set(session.id, created);
    created.catch(() => instances.get(session.id) === created && instances.delete(session.id));
    return created;
  }

  /** The built instance of the request's session, if there is one (refreshed state). */
  function readyFor(context: RequestContext): Instance | undefined {
    const session = context.session;
    const instance = session && ready.get(session.id);
    instance?.state.refresh(session!.record.state);
    return instance;
  }

  async function create(session: SessionHandle, context: RequestContext, fresh: boolean): Promise<Instance> {
    const { record } = session;
    const state = new SessionState(record.state, (values) => session.setState(values));
    const transport = new SessionTransport(session.id, (message) => void session.toStream(message));
    // A client's answer to this instance's request may land on another replica: relayed here.
    const release = session.hold((message) => transport.deliver(message, {}));
    let server: ConnectableServer | undefined;
    let ended = false;
    const close = async (): Promise<void> => {
      try {
        await server?.close();
      } catch (error) {
        onError(error);
      } finally {
        // Even when the user's close callbacks throw, the transport is released.
        release();
        await transport.close();
      }
    };
    const detach = session.attach(async () => {
      ended = true;
      instances.delete(session.id);
      ready.delete(session.id);
      await close();
    });
    try {
      server = await factory({
        id: session.id,
        principal: record.principal,
        clientSessionId: record.clientSessionId,
        state,
        resurrected: !fresh,
      });
      await server.connect(transport);
      if (ended) throw new SessiongateError('SG_SESSION_NOT_FOUND');
      const onclose = transport.onclose;
      // The instance closed itself: forget it, the next request resurrects the session.
      transport.onclose = () => {
        onclose?.();
        if (ended) return;
        instances.delete(session.id);
        ready.delete(session.id);
      };
      if (!fresh) {
        const extra = extraOf(context);
        await transport.request({ jsonrpc: '2.0', id: REPLAY_ID, method: 'initialize', params: record.initialize }, extra);
        transport.deliver({ jsonrpc: '2.0', method: 'notifications/initialized' }, extra);
      }
      const instance = { transport, state };
      ready.set(session.id, instance);
      return instance;
    } catch (error) {
      detach();
      await close();
      throw error;
    }
  }

  return {
    async handle(request, context) {
      const instance = readyFor(context) ?? (await instanceFor(context, request.method === 'initialize'));
      return instance.transport.request(request, extraOf(context));
    },
    async receive(message, context) {
      const here = readyFor(context);
      const session = context.session;
      // An instance of this session on another replica may be the one that asked (or that a
      // cancellation is for): every holder hears it. `initialized` with an instance here is
      // this instance's own.
      if (here) {
        if (session && !('method' in message && message.method === 'notifications/initialized')) session.toHolders(message).catch(onError);
        return here.transport.deliver(message, extraOf(context));
      }
      if (session && (await session.toHolders(message))) return;
      const instance = await instanceFor(context, false);
      instance.transport.deliver(message, extraOf(context));
    },
  };
}

function extraOf(context: RequestContext): MessageExtraInfo {
  return { requestInfo: { headers: context.headers() } };
}

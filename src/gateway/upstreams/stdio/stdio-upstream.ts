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
import { SessiongateError } from '../../../protocol/failures.js';
import {
  type JsonRpcMessage,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type RequestId,
  isObject,
  isRequestList,
  requestKey,
  isResponse,
} from '../../../protocol/jsonrpc.js';
import { isSessionScoped, ScopedCalls } from '../../../protocol/session-scoped.js';
import { type McpApplication, type Reply, responseOf, type SessionHandle } from '../../../server/application.js';
import { PendingReply, slowCallReader } from '../../../server/pending-reply.js';
import { sessionTag } from '../../../session/id.js';
import { guarded, stateSlot } from '../../../session/state-slot.js';
import { requireSession } from '../require-session.js';
import { upstreamFailure } from '../upstream-failure.js';
import { upstreamCancel } from '../upstream-cancel.js';
import type { ChildLedger } from './child-ledger.js';
import { SpawnQueue } from './spawn-queue.js';
import { type StdioCommand, StdioChild } from './stdio-child.js';
import { internalRequestId } from '../../../protocol/internal-ids.js';

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

/** The session-scoped calls a new child of the session replays (after a restart, an idle stop, a move). */
const SCOPED = stateSlot('sessiongate.stdio', guarded(isRequestList));

interface Pending {
  reply: PendingReply;
  progressToken: unknown;
  /** Runs before the response is handed on (a session-scoped call is kept for replays). */
  beforeResponse: ((response: JsonRpcResponse) => Promise<void>) | undefined;
}

interface Link {
  child: StdioChild | undefined;
  starting: Promise<StdioChild> | undefined;
  readonly pending: Map<string | number, Pending>;
  /** For messages to the session's GET stream, wherever it is open. */
  readonly session: SessionHandle;
  readonly tag: string;
  ended: boolean;
  /** When the last message went to or came from the child (for the child idle timeout). */
  lastActivity: number;
  /** The session holds resource subscriptions: its child is kept, or updates would be lost. */
  subscribed: boolean;
  /** Runs when the last call in flight is answered (a moved link waits for it to stop its child). */
  onSettled: (() => void) | undefined;
  /** Call streams whose clients have fallen behind: the child's stdout is paused while any has. */
  behind?: Set<Promise<void>>;
}

export function stdioUpstream(options: StdioUpstreamOptions): McpApplication {
  const spareTarget = options.spares ?? 2;
  const grace = options.killGraceMs ?? 2000;
  const onError = options.onError ?? (() => {});
  const onStderr = options.onStderr ?? ((tag, line) => process.stderr.write(`[${tag ?? 'spare'}] ${line}\n`));
  const links = new Map<string, Link>();
  const spares: StdioChild[] = [];
  const queue = new SpawnQueue();
  /** Spares waiting for a start slot. */
  const sparesComing = new Set<Promise<unknown>>();
  /** Links of sessions moved to another replica, finishing their calls in flight; stopped at close. */
  const draining = new Map<Link, () => Promise<void>>();
  let closed = false;

  function spawnChild(): StdioChild {
    const child = new StdioChild(options);
    const { ledger } = options;
    if (ledger) {
      ledger.record(child.pid);
      void child.stopped.then(() => ledger.forget(child.pid));
    }
    return child;
  }

  /** Tops the spare pool up; called at start and after each initialize is answered. */
  function refill(): void {
    while (!closed && spares.length + sparesComing.size < spareTarget) {
      const coming = queue
        .start('spare', () => (closed ? undefined : spawnChild()))
        .then((spare) => {
          sparesComing.delete(coming);
          if (!spare) return;
          spare.bind({
            onMessage: () => {},
            onStderr: (line) => onStderr(undefined, line),
            onExit: () => {
              const at = spares.indexOf(spare);
              if (at >= 0) spares.splice(at, 1);
            },
          });
          spares.push(spare);
        });
      sparesComing.add(coming);
    }
  }

  function linkFor(session: SessionHandle): Link {
    let link = links.get(session.id);
    if (link) return link;
    const created: Link = {
      child: undefined,
      starting: undefined,
      pending: new Map(),
      session,
      tag: logTag(session.id, session.record.clientSessionId),
      ended: false,
      lastActivity: Date.now(),
      subscribed: false,
      onSettled: undefined,
    };
    links.set(session.id, created);
    // On a shared store the session's child now lives here: a replica holding an older one
    // (the session was served there before) stops it (issue "replicas": ownership epochs).
    session.port.claim(session.id).catch(onError);
    // A client's answer to this child's request may land on another replica: it is relayed here.
    const release = session.port.hold(session.id, (message) => void created.child?.send(message));
    const letGo = async (): Promise<void> => {
      created.onSettled = undefined;
      draining.delete(created);
      release();
      const child = created.child ?? (await created.starting?.catch(() => undefined));
      await child?.stop(grace);
    };
    session.port.attach(session.id, async (reason) => {
      created.ended = true;
      links.delete(session.id);
      if (reason !== 'moved' || created.pending.size === 0) return letGo();
      // Served elsewhere now: what is in flight here is answered first (and still hears the
      // client's answers, relayed by `hold`). Not awaited, so shutdown is not held up by it.
      draining.set(created, letGo);
      created.onSettled = () => void letGo().catch(onError);
    });
    link = created;
    return link;
  }

  /** The session's child: a spare for a new session; after a death or restart, a new one with the handshake replayed. */
  function childFor(link: Link, session: SessionHandle, fresh: boolean): Promise<StdioChild> {
    if (link.child?.alive) return Promise.resolve(link.child);
    link.starting ??= (async () => {
      // A spare (ready, or at least started); else a start of our own, ahead of spare refills.
      const child = spares.shift() ?? (await queue.start('session', spawnChild))!;
      attach(link, child);
      if (!fresh) await replay(link, child, session);
      if (link.ended) {
        await child.stop(grace);
        throw new Error('session ended');
      }
      link.child = child;
      return child;
    })().finally(() => (link.starting = undefined));
    return link.starting;
  }

  function attach(link: Link, child: StdioChild): void {
    child.bind({
      onStderr: (line) => onStderr(link.tag, line),
      onMessage: (message) => route(link, message),
      onExit: () => {
        if (link.child === child) link.child = undefined;
        // In-flight requests get an error, never a hang, and are not retried.
        for (const [key, entry] of link.pending) {
          settle(link, key);
          const why =
            child.stoppedFor === undefined ? 'the upstream process exited' : `the upstream process was stopped: ${child.stoppedFor}`;
          entry.reply.respond(upstreamFailure(typeof key === 'number' ? key : key.slice(2), why));
        }
      },
    });
  }

  /** A message from the child: the answer to its request, or something for the client. */
  function route(link: Link, message: JsonRpcMessage): void {
    link.lastActivity = Date.now();
    if (isResponse(message)) {
      const entry = message.id === null ? undefined : link.pending.get(requestKey(message.id));
      if (entry) {
        settle(link, requestKey(message.id!));
        if (entry.beforeResponse) void entry.beforeResponse(message).finally(() => entry.reply.respond(message));
        else entry.reply.respond(message);
      }
      return;
    }
    // stdio carries no "related request": progress follows its token; anything else sent while a
    // call is in flight rides on the latest call's stream; otherwise it goes to the GET stream.
    const token = message.method === 'notifications/progress' ? message.params?.['progressToken'] : undefined;
    let target: Pending | undefined;
    for (const entry of link.pending.values()) if (token === undefined || entry.progressToken === token) target = entry;
    if (target) {
      const behind = target.reply.push(message);
      if (behind) holdOutput(link, behind);
    } else void link.session.port.toStream(link.session.id, message);
  }

  /**
   * A call's client reads its stream more slowly than the child writes: the child's stdout is
   * paused until every such stream has caught up (docs/limits.md, "Streams"), so what waits is
   * in the pipe, not in the gateway's memory.
   */
  function holdOutput(link: Link, behind: Promise<void>): void {
    link.behind ??= new Set();
    if (link.behind.has(behind)) return;
    link.behind.add(behind);
    link.child?.pauseOutput();
    void behind.then(() => {
      link.behind!.delete(behind);
      if (link.behind!.size === 0) link.child?.resumeOutput();
    });
  }

  function settle(link: Link, key: string | number): void {
    link.pending.delete(key);
    if (link.pending.size === 0) link.onSettled?.();
  }

  function call(
    link: Link,
    child: StdioChild,
    request: JsonRpcRequest,
    beforeResponse?: (response: JsonRpcResponse) => Promise<void>,
  ): Promise<Reply> {
    // The child answers by id: a second request under an id still in flight would take the
    // first one's answer and leave the first caller waiting forever.
    if (link.pending.has(requestKey(request.id))) return Promise.reject(new SessiongateError('SG_REQUEST_ID_IN_USE'));
    const meta = request.params?.['_meta'];
    const reply = new PendingReply(() => onError(slowCallReader(link.tag)));
    link.pending.set(requestKey(request.id), { reply, progressToken: isObject(meta) ? meta['progressToken'] : undefined, beforeResponse });
    if (!child.send(request)) {
      settle(link, requestKey(request.id));
      reply.respond(upstreamFailure(request.id, 'the upstream process is not running'));
    }
    return reply.reply;
  }

  /**
   * The request ended before the child answered (its deadline, its session's end, its client
   * gone: without resumable streams nobody can receive the answer any more): its id is freed
   * and the child is told to stop (notifications/cancelled), so abandoned calls cannot pile up.
   */
  function cancelOnAbort(link: Link, child: StdioChild, id: RequestId, signal: AbortSignal): void {
    const key = requestKey(id);
    const entry = link.pending.get(key);
    if (!entry) return;
    const onAbort = (): void => {
      if (link.pending.get(key) !== entry) return;
      settle(link, key);
      entry.reply.respond(upstreamFailure(id, 'the request was cancelled'));
      child.send(upstreamCancel(id));
    };
    if (signal.aborted) return onAbort();
    // Per request, so it goes with the request; once answered, onAbort does nothing.
    signal.addEventListener('abort', onAbort, { once: true });
  }

  async function replay(link: Link, child: StdioChild, session: SessionHandle): Promise<void> {
    const scoped = scopedOf(session).list();
    link.subscribed = hasSubscriptions(scoped);
    const initialize: JsonRpcRequest = {
      jsonrpc: '2.0',
      id: internalRequestId('replay'),
      method: 'initialize',
      params: session.record.initialize,
    };
    const answer = await responseOf(await call(link, child, initialize));
    if ('error' in answer) throw new Error(`the upstream refused the replayed initialize: ${answer.error.message}`);
    child.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    for (const request of scoped) await responseOf(await call(link, child, { ...request, id: internalRequestId('replay') }));
  }

  /** Keeps a session-scoped call that succeeded in the record, for replays after a restart. */
  async function remember(link: Link, session: SessionHandle, request: JsonRpcRequest): Promise<void> {
    const scoped = scopedOf(session);
    scoped.remember(request);
    link.subscribed = hasSubscriptions(scoped.list());
    await session.port.writeState(session.id, SCOPED, scoped.list());
  }

  /** Stops the children of sessions idle past the timeout (their sessions live on). */
  function stopIdleChildren(): void {
    const before = Date.now() - childIdleMs;
    for (const link of links.values()) {
      const child = link.child;
      if (!child || link.pending.size > 0 || link.lastActivity > before) continue;
      if (link.subscribed) continue;
      link.child = undefined;
      void child.stop(grace);
    }
  }

  const childIdleMs = options.childIdleTimeoutMs ?? 5 * 60_000;
  const idleSweep = childIdleMs > 0 ? setInterval(stopIdleChildren, Math.max(childIdleMs / 2, 50)) : undefined;
  idleSweep?.unref();
  refill();

  return {
    async handle(request, context) {
      const session = requireSession(context);
      const link = linkFor(session);
      link.lastActivity = Date.now();
      const child = await childFor(link, session, request.method === 'initialize').catch(() => undefined);
      if (!child) return upstreamFailure(request.id, 'the upstream process could not be started');
      // A session-scoped call that succeeded is kept for replays; whatever the child sends
      // while it runs (log messages, resource updates) reaches the client as for any call.
      const keep = isSessionScoped(request.method)
        ? async (response: JsonRpcResponse): Promise<void> => {
            if ('result' in response) await remember(link, session, request).catch(onError);
          }
        : undefined;
      const reply = call(link, child, request, keep);
      cancelOnAbort(link, child, request.id, context.signal);
      // The spare taken is replaced once this initialize is answered, not while it runs: a
      // loading child would take CPU from the one answering.
      if (request.method === 'initialize') void reply.then(refill);
      return reply;
    },
    async receive(message, context) {
      const session = requireSession(context);
      const here = links.get(session.id);
      // The child that asked (or that the notification is about) may live on another replica:
      // relayed there rather than moving the session here.
      if (!here && (await session.port.toHolders(session.id, message))) return;
      const link = here ?? linkFor(session);
      link.lastActivity = Date.now();
      const child = await childFor(link, session, false);
      child.send(message);
    },
    async close() {
      closed = true;
      clearInterval(idleSweep);
      await Promise.all([...draining.values()].map((letGo) => letGo()));
      await Promise.all(sparesComing);
      await Promise.all(spares.splice(0).map((spare) => spare.stop(grace)));
    },
  };
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

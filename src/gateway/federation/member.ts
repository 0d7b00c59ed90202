/**
 * @module gateway/federation/member
 * One server of a federation: its application (an `httpUpstream` or `stdioUpstream`, unchanged),
 * its health, what it said of itself, and the per-session bookkeeping of its upstream sessions:
 * opened on first use by replaying the downstream initialize (docs/FEDERATION.md, "Sessions"),
 * remembered in the record so a restarted gateway continues them, closed when idle.
 */
import { internalRequestId } from '../../protocol/internal-ids.js';
import { isObject, type JsonObject, type JsonRpcMessage, type JsonRpcRequest } from '../../protocol/jsonrpc.js';
import { type McpApplication, type RequestContext, responseOf, type SessionPort } from '../../server/application.js';
import type { Disposer } from '../../session/live-registry.js';
import { guarded, stateSlot } from '../../session/state-slot.js';
import { MemberContext, MemberPort } from './member-view.js';
import { ProbeTimeout, type ServerProbe } from './server-probe.js';

/** One server behind a federation. */
export interface FederatedServer {
  /** `[a-z0-9-]+`: the prefix of its tools and prompts, and its name in errors, audit and metrics. */
  name: string;
  /** What talks to it (`httpUpstream`, `stdioUpstream`). */
  app: McpApplication;
  /** Asks it for its InitializeResult on its own (server-probe.ts): capabilities, health. */
  probe: ServerProbe;
  /** Where it is, as /healthz?servers=1 shows it (a URL, `stdio: COMMAND`). */
  target: string;
  /**
   * Whether the server can be reached for this caller now: false when it acts with each
   * person's own credentials and the caller has none loaded; lists leave it out for them
   * (docs/CREDENTIALS.md, "Several servers"). Default: always.
   */
  admits?: (context: RequestContext) => boolean;
}

export type ServerState = 'starting' | 'up' | 'down';

/** Whether this server's upstream session of the downstream session was opened (kept as `...@NAME`). */
const OPENED = stateSlot(
  'sessiongate.federation.open',
  guarded((value): value is true => value === true),
);

/** How often a server that went down is asked again. */
const HEAL_INTERVAL_MS = 2000;

export class Member {
  readonly name: string;
  readonly app: McpApplication;
  readonly target: string;
  /** Whether this caller can reach it now (FederatedServer.admits). */
  readonly admits: (context: RequestContext) => boolean;
  /** Its place in the configuration order (a reload may move it). */
  index: number;
  state: ServerState = 'starting';
  /** Why it is down (or could not be probed). */
  problem: string | undefined;
  /** Down only as far as anyone knows: its last probe got no answer in time (it may be starting). */
  slow = false;
  /** What it answered the probe with; undefined until it did. */
  described: JsonObject | undefined;
  readonly #probe: ServerProbe;
  readonly #outbound: (message: JsonRpcMessage) => JsonRpcMessage;
  readonly #onRecovered: (member: Member) => void;
  #port: MemberPort | undefined;
  #heal: ReturnType<typeof setTimeout> | undefined;
  #checking: Promise<boolean> | undefined;
  #closed = false;
  /** Sessions whose upstream session with this server is open in this process. */
  readonly #open = new Set<string>();
  readonly #opening = new Map<string, Promise<void>>();
  /** What the server's application attached per session (closed when idle), and when it was last used. */
  readonly #resources = new Map<string, Disposer[]>();
  readonly #lastUsed = new Map<string, number>();
  readonly #busy = new Map<string, number>();

  constructor(
    server: FederatedServer,
    index: number,
    outbound: (member: Member, message: JsonRpcMessage) => JsonRpcMessage,
    onRecovered: (member: Member) => void,
  ) {
    this.name = server.name;
    this.app = server.app;
    this.target = server.target;
    this.admits = server.admits ?? (() => true);
    this.index = index;
    this.#probe = server.probe;
    this.#onRecovered = onRecovered;
    this.#outbound = (message) => outbound(this, message);
  }

  /** The server's view of the session port (a federation serves one session server: the first port it sees is its port). */
  port(port: SessionPort): MemberPort {
    if (!this.#port)
      this.#port = new MemberPort(this.name, port, {
        outbound: this.#outbound,
        attached: (sessionId, disposer) => {
          const list = this.#resources.get(sessionId);
          if (list) list.push(disposer);
          else this.#resources.set(sessionId, [disposer]);
        },
      });
    return this.#port;
  }

  /** The downstream request as the server's application sees it. */
  context(request: RequestContext): MemberContext {
    return new MemberContext(request, this.name, this.port(request.session!.port));
  }

  /** What the server can do, once known (undefined: not yet probed; assume it may). */
  get capabilities(): JsonObject | undefined {
    const capabilities = this.described?.['capabilities'];
    return isObject(capabilities) ? capabilities : undefined;
  }

  /** Whether the server offers `capability` (true while unknown). */
  offers(capability: string): boolean {
    const capabilities = this.capabilities;
    return capabilities === undefined || capabilities[capability] !== undefined;
  }

  isOpen(context: MemberContext): boolean {
    return this.#open.has(context.session.id) || OPENED.read(context.session.record.state) === true;
  }

  /**
   * The server's upstream session of this downstream session, opened if it is not: the
   * downstream initialize (as the record keeps it) replayed, then `initialized`, then what
   * `after` adds (the session's log level). Rejects with the reason it could not be opened.
   */
  open(context: MemberContext, after: (context: MemberContext) => Promise<void>): Promise<void> {
    const sessionId = context.session.id;
    if (this.isOpen(context)) return Promise.resolve();
    let opening = this.#opening.get(sessionId);
    if (!opening) {
      opening = this.#handshake(context, after).finally(() => this.#opening.delete(sessionId));
      this.#opening.set(sessionId, opening);
    }
    return opening;
  }

  async #handshake(context: MemberContext, after: (context: MemberContext) => Promise<void>): Promise<void> {
    const session = context.session;
    const initialize: JsonRpcRequest = {
      jsonrpc: '2.0',
      id: internalRequestId('federation-open'),
      method: 'initialize',
      params: session.record.initialize,
    };
    const response = await responseOf(await this.app.handle(initialize, context));
    if ('error' in response) throw new Error(response.error.message);
    await this.app.receive({ jsonrpc: '2.0', method: 'notifications/initialized' }, context);
    await after(context);
    const port = this.port(session.port);
    await port.writeState(session.id, OPENED, true);
    if (!this.#open.has(session.id))
      session.port.attach(session.id, () => {
        this.#open.delete(session.id);
        this.#resources.delete(session.id);
        this.#lastUsed.delete(session.id);
      });
    this.#open.add(session.id);
  }

  /** A request to the server starts (for the idle timeout: never closed while one runs). */
  callStarted(sessionId: string): void {
    this.#busy.set(sessionId, (this.#busy.get(sessionId) ?? 0) + 1);
  }

  /** A request to the server answered (the idle timeout counts from `now`). */
  callEnded(sessionId: string, now: number): void {
    const left = (this.#busy.get(sessionId) ?? 1) - 1;
    if (left <= 0) this.#busy.delete(sessionId);
    else this.#busy.set(sessionId, left);
    this.#lastUsed.set(sessionId, now);
  }

  /**
   * Closes this server's upstream sessions unused since `before` (the downstream sessions live
   * on; the next use opens a fresh one): DELETEd upstream, a child stopped, the state forgotten.
   */
  async closeIdle(before: number): Promise<void> {
    const port = this.#port;
    if (!port) return;
    for (const [sessionId, last] of [...this.#lastUsed]) {
      if (last > before || this.#busy.has(sessionId)) continue;
      this.#lastUsed.delete(sessionId);
      this.#open.delete(sessionId);
      const disposers = this.#resources.get(sessionId) ?? [];
      this.#resources.delete(sessionId);
      for (const disposer of disposers) {
        port.detach(sessionId, disposer);
        await (typeof disposer === 'function' ? disposer('idle') : disposer.dispose('idle'));
      }
      for (const slot of [OPENED, ...port.written()]) await port.writeState(sessionId, slot, undefined);
    }
  }

  /**
   * A call or list got no answer from the server: it is asked at once (one probe at a time),
   * and taken for down only if that fails too; a failure of one call (an answer too large, a
   * child that died) does not hide a server that answers.
   */
  failed(): void {
    if (this.state === 'down' || this.#closed || this.#checking) return;
    void this.check();
  }

  /** Asks the server what it is (at start-up; at once when a call failed; every 2 s while it is down). */
  check(): Promise<boolean> {
    this.#checking ??= this.#check().finally(() => (this.#checking = undefined));
    return this.#checking;
  }

  async #check(): Promise<boolean> {
    try {
      this.described = await this.#probe();
      const recovered = this.state === 'down';
      this.state = 'up';
      this.problem = undefined;
      this.slow = false;
      if (recovered) this.#onRecovered(this);
      return true;
    } catch (error) {
      this.state = 'down';
      this.problem = (error as Error).message;
      this.slow = error instanceof ProbeTimeout;
      this.#scheduleHeal();
      return false;
    }
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#heal);
  }

  #scheduleHeal(): void {
    if (this.#heal !== undefined || this.#closed) return;
    this.#heal = setTimeout(() => {
      this.#heal = undefined;
      if (!this.#closed) void this.check();
    }, HEAL_INTERVAL_MS);
    this.#heal.unref();
  }
}

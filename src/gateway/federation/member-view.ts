/**
 * @module gateway/federation/member-view
 * What one federated server's application sees of a downstream session (docs/FEDERATION.md,
 * "Sessions"): the same session id and port, but its own part of the state (every slot it
 * writes is kept as `key@server`, and its view of the record shows those under their plain
 * keys), its messages to the client rewritten on the way out (federated-ids.ts), and client
 * messages relayed between replicas addressed to it. The http and stdio upstreams run
 * unchanged behind it: N of them side by side in one record.
 */
import type { JsonObject, JsonRpcMessage } from '../../protocol/jsonrpc.js';
import { isObject } from '../../protocol/jsonrpc.js';
import type { RequestContext, SessionHandle, SessionPort } from '../../server/application.js';
import type { Disposer } from '../../session/live-registry.js';
import type { NewSession } from '../../session/session-manager.js';
import type { StateSlot } from '../../session/state-slot.js';
import type { SessionRecord } from '../../store/record.js';
import { SessionContext } from '../session-context.js';

/** The method of a client message relayed to the replica holding one server's resources. */
const RELAYED = 'sessiongate/federated';

/** What the federation hears from a member's port. */
export interface MemberHooks {
  /** A message of the server's for the client, rewritten (ids, tokens). */
  outbound(message: JsonRpcMessage): JsonRpcMessage;
  /** The server's application registered a resource of the session (its upstream session, its child). */
  attached(sessionId: string, disposer: Disposer): void;
}

export class MemberPort implements SessionPort {
  readonly #server: string;
  readonly #port: SessionPort;
  readonly #hooks: MemberHooks;
  readonly #slots = new Map<StateSlot<unknown>, StateSlot<unknown>>();
  readonly #written = new Set<StateSlot<unknown>>();

  constructor(server: string, port: SessionPort, hooks: MemberHooks) {
    this.#server = server;
    this.#port = port;
    this.#hooks = hooks;
  }

  now(): number {
    return this.#port.now();
  }
  attach(sessionId: string, disposer: Disposer): () => void {
    this.#hooks.attached(sessionId, disposer);
    return this.#port.attach(sessionId, disposer);
  }
  detach(sessionId: string, disposer: Disposer): void {
    this.#port.detach(sessionId, disposer);
  }
  resource(sessionId: string, match: (resource: Disposer) => boolean): Disposer | undefined {
    return this.#port.resource(sessionId, match);
  }
  writeState<T>(sessionId: string, slot: StateSlot<T>, value: T | undefined): Promise<void> {
    return this.#port.writeState(sessionId, this.slot(slot), value);
  }
  /** `slot` as this server keeps it. */
  slot<T>(slot: StateSlot<T>): StateSlot<T> {
    let own = this.#slots.get(slot) as StateSlot<T> | undefined;
    if (!own) {
      own = slot.within(this.#server);
      this.#slots.set(slot, own);
      this.#written.add(slot);
    }
    return own;
  }

  /** The slots the server's application has written (cleared when its upstream session is closed for idleness). */
  written(): StateSlot<unknown>[] {
    return [...this.#written];
  }
  claim(sessionId: string): Promise<void> {
    return this.#port.claim(sessionId);
  }
  toStream(sessionId: string, message: JsonRpcMessage): Promise<boolean> {
    return this.#port.toStream(sessionId, this.#hooks.outbound(message));
  }
  stream(sessionId: string): AsyncIterable<JsonRpcMessage> {
    return this.#port.stream(sessionId);
  }
  hold(sessionId: string, deliver: (message: JsonRpcMessage) => void): () => void {
    return this.#port.hold(sessionId, (relayed) => {
      const params = 'method' in relayed && relayed.method === RELAYED ? relayed.params : undefined;
      if (params?.['server'] === this.#server && isObject(params['message'])) deliver(params['message'] as unknown as JsonRpcMessage);
    });
  }
  toHolders(sessionId: string, message: JsonRpcMessage): Promise<boolean> {
    const params = { server: this.#server, message: message as unknown as JsonObject };
    return this.#port.toHolders(sessionId, { jsonrpc: '2.0', method: RELAYED, params });
  }
  createOnce(sessionId: string, principal: string | null, init: Omit<NewSession, 'identity'>): Promise<SessionRecord | undefined> {
    return this.#port.createOnce(sessionId, principal, init);
  }
  find(sessionId: string, principal: string | null): Promise<SessionRecord | undefined> {
    return this.#port.find(sessionId, principal);
  }
  conversationId(principal: string | null, key: string): Promise<string> {
    return this.#port.conversationId(principal, key);
  }
  end(sessionId: string): Promise<boolean> {
    return this.#port.end(sessionId);
  }
  sharedSecret(name: string, create: () => string): Promise<string> {
    return this.#port.sharedSecret(`${name}@${this.#server}`, create);
  }
}

/** The record as one server sees it: its own `key@server` slots under their plain keys, no other server's. */
export function memberRecord(record: SessionRecord, server: string): SessionRecord {
  const suffix = `@${server}`;
  const state: JsonObject = {};
  for (const [key, value] of Object.entries(record.state)) {
    const at = key.lastIndexOf('@');
    if (at < 0) state[key] = value;
    else if (key.endsWith(suffix) && at === key.length - suffix.length) state[key.slice(0, at)] = value;
  }
  return { ...record, state };
}

class MemberHandle implements SessionHandle {
  readonly id: string;
  readonly record: SessionRecord;
  readonly port: SessionPort;
  constructor(record: SessionRecord, server: string, port: MemberPort) {
    this.id = record.id;
    this.record = memberRecord(record, server);
    this.port = port;
  }
}

/** The downstream request's context, with the server's view of its session. */
export class MemberContext extends SessionContext {
  declare readonly session: MemberHandle;

  constructor(request: RequestContext, server: string, port: MemberPort) {
    super(request, new MemberHandle(request.session!.record, server, port));
  }
}

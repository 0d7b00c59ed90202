/**
 * @module gateway/eras/bridge/bridge-link
 * What the handshake bridge keeps for one session: the part of the session's state the
 * sessionless upstream cannot (its capabilities, the chosen log level, the resource
 * subscriptions; in the record, so it survives restarts), the calls under way, the input
 * requests waiting for the client's answer, and the upstream listen stream that feeds the
 * session's GET stream while the client holds it open.
 */
import type { SessionlessClient } from '../../../client/sessionless-client.js';
import {
  isObject,
  isString,
  isResponse,
  type JsonObject,
  type JsonRpcMessage,
  type JsonRpcResponse,
  type RequestId,
} from '../../../protocol/jsonrpc.js';
import { internalRequestId } from '../../../protocol/internal-ids.js';
import { pause, reconnectDelay } from '../../../protocol/reconnect.js';
import { META, type SessionlessMeta, withSessionlessMeta } from '../../../protocol/sessionless-meta.js';
import { SESSIONLESS_REVISION } from '../../../protocol/revisions.js';
import type { RequestContext, SessionHandle, SessionPort } from '../../../server/application.js';
import { guarded, stateSlot } from '../../../session/state-slot.js';
import type { FairSlots } from '../../upstreams/fair-slots.js';
import type { ToolHeaders } from '../tool-headers.js';

/** The sessionless upstream and what every session's link of one bridge shares. */
export interface BridgeUpstream {
  client: SessionlessClient;
  tools: ToolHeaders;
  headersFor: (context: RequestContext) => Record<string, string>;
  /** The upstream's exchanges at once, shared fairly among sessions. */
  slots: FairSlots;
  onError: (error: unknown) => void;
}

interface BridgeState {
  /** The upstream's capabilities from `server/discover`: what a listen stream may ask for. */
  capabilities: JsonObject;
  level?: string | undefined;
  subscriptions: string[];
}
function isBridgeState(value: unknown): value is BridgeState {
  return (
    isObject(value) &&
    isObject(value['capabilities']) &&
    (value['level'] === undefined || isString(value['level'])) &&
    Array.isArray(value['subscriptions']) &&
    value['subscriptions'].every(isString)
  );
}
/** Where the bridge keeps its part of a session, in the record's state (survives restarts). */
const BRIDGE = stateSlot('sessiongate.bridge', guarded(isBridgeState));
/** The first wait before a failed listen stream is reopened, ms (then doubled per failure). */
const RECONNECT_BASE_MS = 500;

export class BridgeLink {
  readonly sessionId: string;
  readonly #port: SessionPort;
  readonly #upstream: BridgeUpstream;
  #state: BridgeState;
  /** Whether the client's GET stream is open on this replica (the upstream listen stream follows it). */
  #streaming = false;
  #listening: AbortController | undefined;
  /** Calls under way, by id: `notifications/cancelled` aborts one (closing its upstream stream). */
  readonly #calls = new Map<RequestId, AbortController>();
  /** Server-to-client requests we sent for an InputRequiredResult, awaiting the client's answer. */
  readonly #awaiting = new Map<RequestId, (response: JsonRpcResponse) => void>();

  constructor(session: SessionHandle, upstream: BridgeUpstream) {
    this.sessionId = session.id;
    this.#port = session.port;
    this.#upstream = upstream;
    this.#state = BRIDGE.read(session.record.state) ?? { capabilities: {}, subscriptions: [] };
  }

  /** The `_meta` every request upstream carries for this session (its client, its log level). */
  meta(session: SessionHandle): SessionlessMeta {
    const init = session.record.initialize;
    return {
      protocolVersion: SESSIONLESS_REVISION,
      clientCapabilities: isObject(init['capabilities']) ? init['capabilities'] : {},
      clientInfo: isObject(init['clientInfo']) ? init['clientInfo'] : undefined,
      logLevel: this.#state.level,
    };
  }

  /** A new session: the upstream's capabilities, nothing chosen yet. */
  async begin(capabilities: JsonObject): Promise<void> {
    this.#state = { capabilities, subscriptions: [] };
    await this.#persist();
  }

  /** `logging/setLevel`, which the sessionless revision removed: kept here, sent in every `_meta`. */
  async setLevel(level: string | undefined): Promise<void> {
    this.#state.level = level;
    await this.#persist();
  }

  /** `resources/(un)subscribe`, which the revision removed: kept here, asked for on the listen stream. */
  async subscribe(session: SessionHandle, context: RequestContext, uri: string, wanted: boolean): Promise<void> {
    const others = this.#state.subscriptions.filter((known) => known !== uri);
    this.#state.subscriptions = wanted ? [...others, uri] : others;
    await this.#persist();
    this.#listen(session, context);
  }

  /** A call under way (until `settled`): `notifications/cancelled` for its id aborts it. */
  track(id: RequestId): AbortController {
    const abort = new AbortController();
    this.#calls.set(id, abort);
    return abort;
  }

  settled(id: RequestId): void {
    this.#calls.delete(id);
  }

  /** Registers a server-to-client request sent for an input request; resolves with the client's answer. */
  answerTo(id: RequestId): Promise<JsonRpcResponse> {
    return new Promise((resolve) => this.#awaiting.set(id, resolve));
  }

  /**
   * A client's answer to an input request, or its cancellation of a call, handed to what waits
   * here for it; false when nothing here does. Other notifications have no counterpart upstream.
   */
  take(message: JsonRpcMessage): boolean {
    if (!('method' in message)) {
      const id = message.id ?? '';
      const waiting = this.#awaiting.get(id);
      if (!waiting) return false;
      this.#awaiting.delete(id);
      waiting(message);
      return true;
    }
    if (message.method !== 'notifications/cancelled') return true;
    const id = message.params?.['requestId'];
    const call = typeof id === 'string' || typeof id === 'number' ? this.#calls.get(id) : undefined;
    call?.abort();
    return call !== undefined;
  }

  /** The client opened its GET stream here: the upstream listen stream follows it. */
  startStreaming(session: SessionHandle, context: RequestContext): void {
    this.#streaming = true;
    this.#listen(session, context);
  }

  stopStreaming(): void {
    this.#streaming = false;
    this.#listening?.abort();
  }

  /** The session ended: its listen stream and calls under way are aborted. */
  end(): void {
    this.#listening?.abort();
    for (const call of this.#calls.values()) call.abort();
  }

  async #persist(): Promise<void> {
    await this.#port.writeState(this.sessionId, BRIDGE, this.#state);
  }

  /** (Re)opens the upstream listen stream feeding the session's GET stream, with the current filter. */
  #listen(session: SessionHandle, context: RequestContext): void {
    this.#listening?.abort();
    this.#listening = undefined;
    const filter = filterFor(this.#state);
    if (!this.#streaming || !filter) return;
    const abort = (this.#listening = new AbortController());
    const request = {
      jsonrpc: '2.0' as const,
      id: internalRequestId('listen'),
      method: 'subscriptions/listen',
      params: withSessionlessMeta({ notifications: filter }, this.meta(session)),
    };
    const deliver = (message: JsonRpcMessage): void => {
      if (isResponse(message) || message.method === 'notifications/subscriptions/acknowledged') return;
      void this.#port.toStream(this.sessionId, withoutSubscriptionId(message));
    };
    const { client, headersFor, onError } = this.#upstream;
    void (async () => {
      for (let failures = 0; !abort.signal.aborted;) {
        try {
          await client.listen(request, deliver, headersFor(context), abort.signal);
          failures = 0;
        } catch (error) {
          if (abort.signal.aborted) return;
          failures++;
          onError(error);
        }
        await pause(reconnectDelay(RECONNECT_BASE_MS, failures), abort.signal);
      }
    })();
  }
}

/** What a listen stream asks for: the change notifications the upstream can send, if any. */
function filterFor(state: BridgeState): JsonObject | undefined {
  const caps = state.capabilities;
  const flag = (name: string): boolean => isObject(caps[name]) && caps[name]['listChanged'] === true;
  const filter: JsonObject = {};
  if (flag('tools')) filter['toolsListChanged'] = true;
  if (flag('prompts')) filter['promptsListChanged'] = true;
  if (flag('resources')) filter['resourcesListChanged'] = true;
  if (state.subscriptions.length > 0) filter['resourceSubscriptions'] = [...state.subscriptions];
  return Object.keys(filter).length > 0 ? filter : undefined;
}

function withoutSubscriptionId(message: JsonRpcMessage): JsonRpcMessage {
  if (!('method' in message) || !isObject(message.params?.['_meta'])) return message;
  const { [META.subscriptionId]: _id, ...meta } = message.params['_meta'];
  const { _meta: _dropped, ...params } = message.params;
  return { ...message, params: Object.keys(meta).length > 0 ? { ...params, _meta: meta } : params };
}

/**
 * @module gateway/eras/conversations/conversation-sessions
 * The sessions behind conversations. A conversation is an ordinary session of the gateway whose
 * id is a keyed hash of the conversation key (principal, correlation id): it expires on idle,
 * counts toward the caps, lives in the store (surviving restarts) and ends its upstream session
 * like any other. Its creation is a single flight: in this process one promise per key; across
 * replicas the store's atomic insert under the derived id lets exactly one win while the others
 * wait for it to be ready (its upstream handshake done).
 */
import { SessiongateError } from '../../../protocol/failures.js';
import { internalRequestId } from '../../../protocol/internal-ids.js';
import { isObject, type JsonObject, type JsonRpcRequest, type JsonRpcResponse } from '../../../protocol/jsonrpc.js';
import { LATEST_HANDSHAKE_REVISION } from '../../../protocol/revisions.js';
import type { SessionlessMeta } from '../../../protocol/sessionless-meta.js';
import { type McpApplication, type RequestContext, responseOf, type SessionPort } from '../../../server/application.js';
import { mintSessionId } from '../../../session/id.js';
import { guarded, stateSlot } from '../../../session/state-slot.js';
import type { SessionRecord } from '../../../store/record.js';
import { ConversationContext } from './conversation-context.js';
import type { InitializeResult } from './sessionless-answers.js';

/** Where a conversation keeps the upstream's initialize result, in its record's state. */
const CONVERSATION = stateSlot(
  'sessiongate.conversation',
  guarded((value): value is { initializeResult: JsonObject } => isObject(value) && isObject(value['initializeResult'])),
);
/** Client capabilities a 2026-07-28 client cannot use through this bridge (no MRTR toward it). */
const UNBRIDGED_CAPABILITIES = ['sampling', 'elicitation', 'roots'];
/** How often a replica waiting for another one's conversation looks whether it is ready, ms. */
const READY_POLL_MS = 25;

export interface ConversationSessionsOptions {
  /** The handshake-era upstream the conversations' sessions are opened on. */
  upstream: McpApplication;
  /** How long a replica waits for another one creating the same conversation, ms. */
  readyTimeoutMs: number;
  /** A conversation's session was created (for the audit trail). */
  onCreated: ((record: SessionRecord, context: RequestContext) => void | Promise<void>) | undefined;
}

/** The upstream's initialize result of a ready conversation (undefined while its handshake runs). */
export function initializeResultOf(record: SessionRecord): InitializeResult | undefined {
  return CONVERSATION.read(record.state)?.initializeResult;
}

export class ConversationSessions {
  readonly #options: ConversationSessionsOptions;
  /** Creations under way in this process, by session id. */
  readonly #flights = new Map<string, Promise<SessionRecord>>();
  #port: SessionPort | undefined;

  constructor(options: ConversationSessionsOptions) {
    this.#options = options;
  }

  bind(port: SessionPort): void {
    this.#port = port;
  }

  get port(): SessionPort {
    if (!this.#port) throw new Error('sessiongate: conversations used before bind()');
    return this.#port;
  }

  /** The request's conversation (its principal and correlation id), ready: found, or created with its upstream handshake. */
  async of(context: RequestContext, meta: SessionlessMeta): Promise<SessionRecord> {
    const key = context.clientSessionId ?? '';
    const id = await this.port.conversationId(context.principal, key);
    const live = await this.port.find(id, context.principal);
    if (live && initializeResultOf(live)) return live;
    let flight = this.#flights.get(id);
    if (!flight) {
      flight = this.#establish(id, context, meta, key).finally(() => this.#flights.delete(id));
      this.#flights.set(id, flight);
    }
    return flight;
  }

  /** A session for one request alone (no correlation id, and the gateway told not to share). */
  async single(context: RequestContext, meta: SessionlessMeta): Promise<SessionRecord> {
    const created = await this.port.createOnce(mintSessionId(), context.principal, {
      protocolVersion: LATEST_HANDSHAKE_REVISION,
      initialize: initializeParams(meta),
      clientSessionId: null,
    });
    if (!created) throw new Error('sessiongate: minted a duplicate session id');
    return this.#handshake(created, context);
  }

  /** Creates the conversation's session and upstream handshake, or waits for whoever does. */
  async #establish(id: string, context: RequestContext, meta: SessionlessMeta, key: string): Promise<SessionRecord> {
    const port = this.port;
    const deadline = port.now() + this.#options.readyTimeoutMs;
    for (;;) {
      const created = await port.createOnce(id, context.principal, {
        protocolVersion: LATEST_HANDSHAKE_REVISION,
        initialize: initializeParams(meta),
        clientSessionId: key === '' ? null : key,
      });
      if (created) return this.#handshake(created, context);
      // Another request (here or on another replica) holds the claim: wait until it is ready.
      for (;;) {
        const record = await port.find(id, context.principal);
        if (!record) break; // its handshake failed and it gave up: claim it again
        if (initializeResultOf(record)) return record;
        if (port.now() > deadline) throw new SessiongateError('SG_INTERNAL', 'the conversation did not become ready in time');
        await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
      }
    }
  }

  /** The upstream handshake the new session stands for; a refused one ends the session. */
  async #handshake(record: SessionRecord, context: RequestContext): Promise<SessionRecord> {
    const port = this.port;
    const { upstream } = this.#options;
    const upstreamContext = new ConversationContext(context, { id: record.id, record, port });
    const request: JsonRpcRequest = {
      jsonrpc: '2.0',
      id: internalRequestId('initialize'),
      method: 'initialize',
      params: record.initialize,
    };
    let response: JsonRpcResponse;
    try {
      response = await responseOf(await upstream.handle(request, upstreamContext));
      if ('error' in response) throw new Error(`the upstream refused initialize: ${response.error.message}`);
      await upstream.receive({ jsonrpc: '2.0', method: 'notifications/initialized' }, upstreamContext);
      await this.#options.onCreated?.(record, context);
    } catch (error) {
      await port.end(record.id);
      throw error;
    }
    // Through the session layer, so replicas waiting for this conversation (their record caches)
    // hear that it is ready. The upstream may have stored its own part of the state meanwhile:
    // the latest record is returned, with the ready mark whatever a cache says.
    const ready = { initializeResult: response.result };
    await port.writeState(record.id, CONVERSATION, ready);
    const latest = (await port.find(record.id, record.principal)) ?? record;
    return { ...latest, state: { ...latest.state, [CONVERSATION.key]: ready } };
  }
}

/** The upstream handshake the conversation's first request stands for. */
function initializeParams(meta: SessionlessMeta): JsonObject {
  const capabilities: JsonObject = { ...meta.clientCapabilities };
  for (const name of UNBRIDGED_CAPABILITIES) delete capabilities[name];
  return {
    protocolVersion: LATEST_HANDSHAKE_REVISION,
    capabilities,
    clientInfo: meta.clientInfo ?? { name: 'sessionless-client', version: '0' },
  };
}

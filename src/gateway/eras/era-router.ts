/**
 * @module gateway/eras/era-router
 * Both protocol eras through one gateway (docs/PROTOCOL.md, sections 4 and 5). The client's era is known
 * per request (the session server decided: a session means handshake era, sessionless `_meta` means
 * sessionless); the upstream's era is detected once and cached, or configured. Four pairings:
 *
 * | client \ upstream | handshake-era             | sessionless            |
 * | ----------------- | ------------------------- | ---------------------- |
 * | handshake-era     | `httpUpstream` / `stdio`  | `handshakeBridge`         |
 * | sessionless       | `conversations`           | `sessionlessForward`        |
 */
import { SessionlessClient, probeEra } from '../../client/sessionless-client.js';
import type { Dispatcher } from 'undici';
import type { JsonRpcMessage } from '../../protocol/jsonrpc.js';
import { SESSIONLESS_REVISION } from '../../protocol/revisions.js';
import type { McpApplication, OrphanedCall, RequestContext, SessionPort } from '../../server/application.js';
import type { SessionRecord } from '../../store/record.js';
import { conversations } from './conversations/conversations.js';
import { type HeaderPolicyOptions, headerPolicy } from '../upstreams/http/header-policy.js';
import { handshakeBridge } from './bridge/handshake-bridge.js';
import { DEFAULT_UPSTREAM_CONCURRENCY, FairSlots } from '../upstreams/fair-slots.js';
import { sessionlessForward } from './sessionless-forward.js';
import { ToolHeaders } from './tool-headers.js';

export type UpstreamEra = 'handshake' | 'sessionless';

export interface EraRouterOptions extends HeaderPolicyOptions {
  /** The handshake-era application (`httpUpstream`, `stdioUpstream`). */
  handshake: McpApplication;
  /** The upstream's URL, for a sessionless (or not yet known) HTTP upstream; none for stdio. */
  url?: string | URL;
  /** 'auto' (default for HTTP) probes once with `server/discover`; stdio is always 'handshake'. */
  era?: UpstreamEra | 'auto';
  /** Sessionless clients without a correlation id. Default 'principal' (see conversations). */
  withoutCorrelationId?: 'principal' | 'request';
  dispatcher?: Dispatcher;
  /** The upstream's exchanges at once, shared fairly among sessions; share the handshake application's. Default: 128. */
  slots?: FairSlots;
  onError?: (error: unknown) => void;
  /** A conversation session was created, by the caller of `context` (the audit trail; its identity kept). Awaited before it is used. */
  onConversation?: (record: SessionRecord, context: RequestContext) => void | Promise<void>;
}

export function eraRouter(options: EraRouterOptions): McpApplication & { era(): Promise<UpstreamEra> } {
  const headersFor = headerPolicy(options);
  const tools = new ToolHeaders();
  const client =
    options.url === undefined
      ? undefined
      : new SessionlessClient(options.url, { ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) });
  const handshake = options.handshake;
  const slots = options.slots ?? new FairSlots(DEFAULT_UPSTREAM_CONCURRENCY);
  const sessionless = client
    ? {
        forward: sessionlessForward(client, tools, headersFor, slots),
        bridge: handshakeBridge({ client, tools, headersFor, slots, ...(options.onError ? { onError: options.onError } : {}) }),
      }
    : undefined;
  const conversing = conversations({
    upstream: handshake,
    tools,
    ...(options.withoutCorrelationId ? { withoutCorrelationId: options.withoutCorrelationId } : {}),
    ...(options.onConversation ? { onCreated: options.onConversation } : {}),
  });

  let known: UpstreamEra | undefined =
    options.era === 'auto' || options.era === undefined ? (client ? undefined : 'handshake') : options.era;
  let probing: Promise<UpstreamEra> | undefined;
  /** Versioning, Backward Compatibility: the era is a property of the server; cache it. */
  function era(): Promise<UpstreamEra> {
    if (known) return Promise.resolve(known);
    probing ??= probeEra(client!, {
      protocolVersion: SESSIONLESS_REVISION,
      clientCapabilities: {},
      clientInfo: undefined,
      logLevel: undefined,
    })
      .then((found) => (known = found))
      .finally(() => (probing = undefined)); // a failed probe (upstream down) is tried again next time
    return probing;
  }

  function forSession(found: UpstreamEra): McpApplication {
    return found === 'sessionless' && sessionless ? sessionless.bridge : handshake;
  }

  return {
    era,
    bind(sessions: SessionPort) {
      handshake.bind?.(sessions);
      conversing.bind(sessions);
    },
    async handle(request, context) {
      const found = await era();
      if (context.session) return forSession(found).handle(request, context);
      if (found === 'sessionless' && sessionless) return sessionless.forward.handle(request, context);
      return conversing.handle(request, context);
    },
    async receive(message, context) {
      // A sessionless client's notifications have no counterpart upstream in either pairing.
      if (!context.session) return;
      await forSession(await era()).receive(message, context);
    },
    openStream(context: RequestContext): AsyncIterable<JsonRpcMessage> | undefined {
      // A GET comes after initialize, which settled the era.
      return forSession(known ?? 'handshake').openStream?.(context);
    },
    adopt(call: OrphanedCall, context: RequestContext): AsyncIterable<JsonRpcMessage> | undefined {
      // Only a session's call is adopted: its era was settled at initialize.
      return forSession(known ?? 'handshake').adopt?.(call, context);
    },
    async close() {
      await handshake.close?.();
    },
  };
}

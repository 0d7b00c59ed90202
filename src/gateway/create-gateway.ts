/**
 * @module gateway/create-gateway
 * The whole gateway `sessiongate` runs, from options (gateway-options.ts): the upstream behind
 * both eras, then the stages composed once around it (server/stage.ts): request hygiene
 * outermost, the audit, and only when asked for the policy with its approvals and token
 * exchange; the session server around that; and beside /mcp
 * the routes an operator uses (/readyz, /metrics, /admin/, /console/, the auth metadata).
 * The CLI is flag parsing plus this call (docs/ARCHITECTURE.md, "One gateway").
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type PolicyControls, policyStage } from '../policy/policy-gate.js';
import type { RequestContext } from '../server/application.js';
import type { JsonRpcRequest } from '../protocol/jsonrpc.js';
import { compose, type Stage } from '../server/stage.js';
import { listen, type Listening, type Routes, shutDown } from '../server/listen.js';
import { createSessionServer, type SessionServer } from '../server/session-server.js';
import { sessionTag } from '../session/id.js';
import type { SessionManager } from '../session/session-manager.js';
import { type EventSink, fanout, sessionCreated, sessionEnded } from './audit-events.js';
import { ConsoleFeed } from './console/console-feed.js';
import type { ConsoleApiOptions } from './console/console-api.js';
import { consoleRoutes } from './console/console-routes.js';
import { connectionRoutes } from './credentials/connection-pages.js';
import { credentialStage } from './credentials/credential-stage.js';
import { Connections } from './credentials/connections.js';
import { MetricHistory } from './console/metric-history.js';
import { eraRouter } from './eras/era-router.js';
import type { FederationApplication } from './federation/federation.js';
import { checkGatewayOptions, type GatewayOptions, type PolicySource, unverifiedAuthorization } from './gateway-options.js';
import { identityView, type IdentityView, SESSION_IDENTITY } from './identity-view.js';
import { adminApi } from './ops/admin.js';
import { auditStage } from './ops/audit.js';
import { GatewayMetrics } from './ops/metrics.js';
import { listenMetrics, type MetricsListener } from './ops/metrics-listener.js';
import { connectionSaturation, readinessRoute } from './ops/readiness.js';
import { RecentEvents } from './ops/recent-events.js';
import { hygieneStage } from './stages/hygiene.js';
import type { CurationDocument } from './curation/curation-document.js';
import { compileCuration, type Curation } from './curation/curation.js';
import { curationStage } from './curation/curation-stage.js';
import { CurationError, parseCuration } from './curation/read-curation.js';
import { OptionError } from '../protocol/options.js';
import type { PinMode } from './curation/curation-document.js';
import { pinDesk, type PinDesk } from './curation/pin-desk.js';
import { type PinControls, pinningStage } from './curation/pinning-stage.js';
import { ToolPins } from './curation/tool-pins.js';
import { upstreamTokenStage } from './upstreams/http/upstream-tokens.js';
import { StdioChild } from './upstreams/stdio/stdio-child.js';
import type { ServerOf } from '../policy/call.js';

/** Where the gateway listens. */
export interface GatewayAddress {
  port: number;
  host: string;
  /** Connections open at once on the MCP port (docs/limits.md, "Connections"). Default: no cap. */
  maxConnections?: number;
  /** Serve /metrics on a listener of its own on this port (same host), not on the MCP port. */
  metricsPort?: number;
}

export interface GatewayListening {
  /** The MCP endpoint, http://HOST:PORT/mcp. */
  readonly url: string;
  readonly listening: Listening;
  /** Lines for a start-up summary: auth, metrics, console. */
  readonly summary: string[];
}

export interface Gateway {
  readonly server: SessionServer;
  readonly sessions: SessionManager;
  readonly metrics: GatewayMetrics;
  /** The policy's controls, when a policy was given (its approvals, `policyChanged`). */
  readonly policy: PolicyControls | undefined;
  /** Every route beside /mcp and /healthz (for a listener of the caller's own). */
  readonly routes: Routes;
  /** Listens (once): /mcp, /healthz and `routes` under one Host check. */
  listen(address: GatewayAddress): Promise<GatewayListening>;
  /**
   * Stops accepting, lets calls under way finish (at most `graceMs`), ends sessions when asked
   * (a memory store's die with the process), then closes the server, the listeners, the
   * policy's and the auth's watchers and the audit. The store stays open (its opener closes it).
   */
  close(options?: { graceMs?: number; endSessions?: boolean }): Promise<void>;
}

export function createGateway(options: GatewayOptions): Gateway {
  checkGatewayOptions(options);
  return new AssembledGateway(options);
}

class AssembledGateway implements Gateway {
  readonly server: SessionServer;
  readonly metrics: GatewayMetrics;
  readonly policy: PolicyControls | undefined;
  readonly routes: Routes;
  readonly #options: GatewayOptions;
  /** The servers people connect with their own credentials, when any. */
  readonly #connections: Connections | undefined;
  readonly #operator: ReturnType<typeof operatorParts> | undefined;
  #listening: Listening | undefined;
  #metricsListener: MetricsListener | undefined;

  constructor(options: GatewayOptions) {
    this.#options = options;
    const { http, federation } = options;
    const onError = options.onError ?? (() => {});
    this.metrics = new GatewayMetrics({
      // Read when scraped, once the server below exists.
      liveSessions: () => this.server.sessions.count(),
      undeliveredMessages: () => this.server.sessions.undelivered,
      upstreamWaiting: () => http?.slots.waiting ?? 0,
      stdioChildren: () => StdioChild.running,
      ...(federation && { servers: () => federation.servers() }),
    });
    const operator = options.adminToken === undefined ? undefined : operatorParts(this.metrics, options.adminToken);
    this.#operator = operator;
    const events = fanout(options.audit, this.metrics, operator?.recent, operator?.feed);
    const view = identityView(options.identityClaim);
    options.auth?.attach?.(options.store, events);
    const connections = options.credentials && new Connections(options.credentials);
    this.#connections = connections;
    connections?.attach(options.store, events);
    // A person who connected a server of a federation sees its tools: their sessions here list again.
    if (connections && federation)
      connections.onConnected((principal) => federation.listsChanged((context) => context.identity?.principal === principal));
    // One span per exchange with the single upstream; a federation's servers trace their own (tracedUpstream).
    const traced = federation ? undefined : options.tracing;
    const routed = eraRouter({
      handshake: traced ? traced.upstream(options.upstream) : options.upstream,
      ...http,
      era: http ? (http.era ?? 'auto') : 'handshake',
      ...(options.withoutCorrelationId && { withoutCorrelationId: options.withoutCorrelationId }),
      onError,
      onConversation: async (record, context) => {
        const identity = view(context.identity);
        if (identity) await this.server.sessions.writeState(record.id, SESSION_IDENTITY.key, SESSION_IDENTITY.encode(identity));
        events.write(sessionCreated(record, identity));
      },
    });
    const { stages, gate, pinning } = stagesFor(options, connections, events, view);
    // Who may connect what, and use it, is the policy's (docs/POLICY.md, "Connections").
    if (connections && gate)
      connections.governedBy((claims, principal, server) => {
        const decision = gate.connectionDecision(claims, principal, server);
        if (decision?.effect !== 'deny') return undefined;
        return decision.rule?.reason ?? `the policy does not let you connect ${server}`;
      });
    this.policy = gate;
    this.server = createSessionServer({
      ...options.sessions,
      // Spans for the server's work before a request reaches the stages (docs/OBSERVABILITY.md).
      ...(options.tracing && { recordTimings: true }),
      application: compose(routed, stages),
      store: options.store,
      authenticate: options.auth?.authenticate ?? unverifiedAuthorization,
      onError,
    });
    this.server.sessions.onEnd((record, reason) => events.write(sessionEnded(record, reason)));
    this.routes = this.#routesFor(events, gate, pinning && pinDesk(pinning, events));
  }

  get sessions(): SessionManager {
    return this.server.sessions;
  }

  async listen(address: GatewayAddress): Promise<GatewayListening> {
    if (this.#listening) throw new Error('sessiongate: the gateway listens already');
    const { sessions, federation, auth } = this.#options;
    const allowedHosts = sessions?.allowedHosts;
    const listening = await listen(this.server, address.port, address.host, this.routes, {
      allowedHosts,
      ...(address.maxConnections !== undefined && { maxConnections: address.maxConnections }),
      ...(federation && { healthDetail: () => ({ servers: federation.servers() }) }),
    });
    this.#listening = listening;
    if (address.metricsPort !== undefined)
      this.#metricsListener = await listenMetrics(address.metricsPort, address.host, allowedHosts, this.#serveMetrics);
    this.#operator?.history.start();
    const base = listening.url.replace(/\/mcp$/, '');
    const summary = [
      ...(auth?.listening?.(listening.url) ?? []),
      ...(this.#connections?.listening(new URL(this.#options.publicUrl ?? listening.url).origin) ?? []),
      `  metrics: ${this.#metricsListener?.url ?? `${base}/metrics`}`,
      this.#operator
        ? `  console: ${base}/console/ (sign in with the admin token)`
        : '  console: off (set SESSIONGATE_ADMIN_TOKEN to turn it on)',
    ];
    return { url: listening.url, listening, summary };
  }

  async close({ graceMs = 10_000, endSessions = false }: { graceMs?: number; endSessions?: boolean } = {}): Promise<void> {
    await shutDown(this.server, this.#listening, { graceMs, endSessions });
    this.#options.auth?.close?.();
    this.#options.policy?.close?.();
    this.#operator?.history.stop();
    await this.#metricsListener?.close();
    await this.#options.audit?.close?.();
    await this.#options.tracing?.close?.();
  }

  /** /metrics, on the MCP port unless a metrics port gives it a listener of its own. */
  readonly #serveMetrics = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET') return void res.writeHead(405, { allow: 'GET' }).end();
    const text = await this.metrics.text();
    res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(text);
  };

  /** Every route beside /mcp: the auth metadata, /readyz, /metrics, and with the admin token /admin/ and /console/. */
  #routesFor(events: EventSink, gate: PolicyControls | undefined, pins: PinDesk | undefined): Routes {
    const { http, auth, label, publicUrl } = this.#options;
    const operator = this.#operator;
    const sessions = this.server.sessions;
    const credentials = this.#connections;
    const admin =
      operator &&
      adminApi({
        sessions,
        token: operator.token,
        recent: operator.recent,
        approvals: gate?.approvals,
        grants: auth?.grants,
        connections: credentials,
        pins,
      });
    const operatorConsole = operator?.console({
      sessions,
      audit: events,
      upstream: label ?? http?.url ?? '',
      approvals: gate?.approvals,
      grants: auth?.grants,
      connections: this.#connections,
      secure: publicUrl?.startsWith('https:') ?? false,
      traceLink: this.#options.tracing?.traceLink,
      pins,
    });
    return {
      ...auth?.routes,
      ...(credentials && auth?.browser && connectionRoutes(credentials, auth.browser)),
      '/readyz': readinessRoute({
        store: () => sessions,
        upstreams: http ? (http.replicas ?? [http.url]) : [],
        upstreamHeaders: http?.upstreamHeaders,
        saturation: connectionSaturation(() => this.#listening?.http),
      }),
      '/metrics': (req, res) => (this.#metricsListener ? void metricsElsewhere(res) : this.#serveMetrics(req, res)),
      // Not mounted without a token: /admin/ is then an ordinary 404.
      ...(admin && { '/admin/': admin }),
      ...(operatorConsole ?? { '/console': consoleOff, '/console/': consoleOff }),
    };
  }
}

/**
 * /metrics asked on the MCP port of a gateway that serves it on a port of its own: a 404 that
 * says so, without naming the port (docs/SECURITY.md, "A caller learns no internal address").
 */
function metricsElsewhere(res: ServerResponse): void {
  res
    .writeHead(404, { 'content-type': 'application/json' })
    .end(JSON.stringify({ error: 'Not Found: this gateway serves /metrics on a port of its own (metricsPort)' }));
}

/**
 * The stages, composed once, outermost first; what was not asked for is not there
 * (docs/ARCHITECTURE.md, "One gateway"). Hygiene outermost: the audit, the policy and routing
 * all see the form the upstream acts on. Policy before token exchange and per-person
 * credentials: a denied call costs no exchange and no vault read.
 */
function stagesFor(
  options: GatewayOptions,
  connections: Connections | undefined,
  events: EventSink,
  view: IdentityView,
): { stages: Stage[]; gate: (Stage & PolicyControls) | undefined; pinning: (Stage & PinControls) | undefined } {
  const { federation } = options;
  const gate = options.policy && gated(options.policy, options, connections, view, events.write.bind(events));
  const serverOf = federation && ((request: JsonRpcRequest) => federation.serverOf(request));
  const stages: Stage[] = [hygieneStage, auditStage(events, view, serverOf)];
  // Inside the audit (which names what the client called and what it became), outside the policy (decided on the upstream's names).
  const curation = options.curation && curationFor(options.curation, federation);
  if (curation?.curates) stages.push(curationStage(curation));
  // Outermost: the request's span holds everything the gateway does for it, a refusal included.
  if (options.tracing) stages.unshift(options.tracing.stage);
  if (gate) stages.push(gate);
  // Inside the policy: it sees every tool the server lists, under the server's own names.
  const pinning = curation && pinningFor(curation, options, events);
  if (pinning) stages.push(pinning);
  if (options.upstreamTokens) stages.push(upstreamTokenStage(options.upstreamTokens));
  if (connections) stages.push(credentialStage(connections, serverOf));
  return { stages, gate, pinning };
}

/** The server name a single upstream's pins are kept under (docs/CURATION.md, "Pinning"). */
export const SINGLE_UPSTREAM = 'upstream';

/** Tool pinning, when any server's mode is not `off`; its pins in the store's compare-and-set records. */
function pinningFor(curation: Curation, options: GatewayOptions, events: EventSink): (Stage & PinControls) | undefined {
  const { federation, store } = options;
  const servers = federation ? federation.servers().map((server) => server.name) : [SINGLE_UPSTREAM];
  const mode = (server: string): PinMode => curation.pinMode(federation ? server : undefined);
  if (servers.every((server) => mode(server) === 'off')) return undefined;
  if (!store.grants)
    throw new OptionError(
      'curation',
      "sessiongate: pinning keeps tool definitions in the store's records (`grants`), which this store does not have",
    );
  return pinningStage({
    pins: new ToolPins(store.grants),
    mode,
    locate: federation
      ? (name) => {
          const parts = federation.names.split(name);
          return parts && { server: parts.server, tool: parts.name };
        }
      : (name) => ({ server: SINGLE_UPSTREAM, tool: name }),
    events,
    ...(options.onError && { onError: options.onError }),
  });
}

/** The curation document checked and compiled for this gateway's servers; an OptionError naming every problem. */
function curationFor(document: CurationDocument, federation: FederationApplication | undefined): Curation {
  try {
    const layout = federation && {
      servers: federation.servers().map((server) => server.name),
      join: (server: string, name: string) => federation.names.join(server, name),
    };
    return compileCuration(parseCuration(document), layout);
  } catch (error) {
    if (error instanceof CurationError) throw new OptionError('curation', `sessiongate: option "curation": ${error.problems.join('; ')}`);
    throw error;
  }
}

/** The admin API's and the console's parts: recent events, the console's feed and charts. */
function operatorParts(metrics: GatewayMetrics, token: string) {
  const recent = new RecentEvents();
  // The console: audit events reach it only while one watches.
  const feed = new ConsoleFeed();
  const history = new MetricHistory(metrics.registry);
  return {
    token,
    recent,
    feed,
    history,
    console: (parts: Omit<ConsoleApiOptions, 'adminToken' | 'recent' | 'feed' | 'history'>): Routes =>
      consoleRoutes({ ...parts, adminToken: token, recent, feed, history }),
  };
}

/** The policy gate, told of reloads; a federation asks it again for the server a resource request reaches. */
function gated(
  policy: PolicySource,
  options: GatewayOptions,
  connections: Connections | undefined,
  view: IdentityView,
  write: EventSink['write'],
): Stage & PolicyControls {
  const { federation } = options;
  const gate = policyStage({
    policy: () => policy.current(),
    // Buckets and approvals in the gateway's backend: replicas on it share them.
    store: options.store,
    ...(options.principalClaim !== undefined && { subjectClaim: options.principalClaim }),
    ...(options.defaultIssuer !== undefined && { defaultIssuer: options.defaultIssuer }),
    ...(options.approvalTimeoutMs !== undefined && { approvalTimeoutMs: options.approvalTimeoutMs }),
    // Rules that `requires` a connection ask the broker (docs/CREDENTIALS.md).
    ...(connections && {
      missingConnections: (context: RequestContext, servers: readonly string[]) =>
        connections.missing(context.identity?.principal, servers),
    }),
    // An operator sees who asked by the name the sessions and the audit give them.
    describeCaller: (context) => view(context.identity),
    onStrayAnswer: ({ context }) =>
      write({
        event: 'approval.stray-answer',
        session: context.session ? sessionTag(context.session.id) : null,
        principal: context.principal,
      }),
    ...(federation && { serverOf: serverOfCall(federation), servers: () => federation.servers().map((server) => server.name) }),
  });
  // A reload tells the sessions whose lists it changed (list_changed on their GET stream).
  policy.onReload?.((previous) => void gate.policyChanged(previous).catch(options.onError ?? (() => {})));
  federation?.guard((request, context, server) => gate.serverCheck(request, context, server));
  return gate;
}

/** The server of a tool, prompt or resource, as the federation routes it (for rules naming `servers`). */
function serverOfCall(federated: FederationApplication): ServerOf {
  return (call) => {
    if (call.kind === 'resource') return federated.serverOf({ method: 'resources/read', params: { uri: call.name ?? '' } });
    return federated.serverOf({ method: call.kind === 'prompt' ? 'prompts/get' : 'tools/call', params: { name: call.name ?? '' } });
  };
}

/**
 * `/console/` without an admin token: not a bare 404 but how to turn it on. Says nothing a
 * stranger could use: only that the console is off on this gateway.
 */
function consoleOff(_req: IncomingMessage, res: ServerResponse): void {
  res
    .writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' })
    .end(
      'The operator console is off: start the gateway with an admin token (SESSIONGATE_ADMIN_TOKEN=..., or --admin-token) to turn it on (docs/CONSOLE.md).\n',
    );
}

/**
 * @module cli/gateway/serve-gateway
 * What the gateway serves around its upstream application: both eras (era-router.ts), the
 * audit trail (when asked), metrics, the admin API (with a token) and readiness, then the
 * serving steps every command shares (run-server.ts).
 */
import type { ServerSpec } from './server-specs.js';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { eraRouter } from '../../gateway/eras/era-router.js';
import { adminApi } from '../../gateway/ops/admin.js';
import { RecentEvents } from '../../gateway/ops/recent-events.js';
import { audited } from '../../gateway/ops/audit.js';
import { fanout, sessionCreated, sessionEnded } from '../../gateway/audit-events.js';
import { gatewayAudit } from './gateway-audit.js';
import { hygienic } from '../../gateway/stages/hygiene.js';
import { StdioChild } from '../../gateway/upstreams/stdio/stdio-child.js';
import { sessionTag } from '../../session/id.js';
import { ConsoleFeed } from '../../gateway/console/console-feed.js';
import { consoleRoutes, type RouteHandler } from '../../gateway/console/console-routes.js';
import { MetricHistory } from '../../gateway/console/metric-history.js';
import { identityView, SESSION_IDENTITY } from '../../gateway/identity-view.js';
import { GatewayMetrics } from '../../gateway/ops/metrics.js';
import type { FairSlots } from '../../gateway/upstreams/fair-slots.js';
import { withUpstreamTokens } from '../../gateway/upstreams/http/upstream-tokens.js';
import { policyGate } from '../../policy/policy-gate.js';
import type { FederationApplication } from '../../gateway/federation/federation.js';
import type { ServerOf } from '../../policy/call.js';
import type { GatewayPolicy } from './gateway-policy.js';
import type { TokenExchange } from '../../auth/token-exchange.js';
import type { HeaderPolicyOptions } from '../../gateway/upstreams/http/header-policy.js';
import type { McpApplication } from '../../server/application.js';
import type { SessionManager } from '../../session/session-manager.js';
import { report, runSessionServer } from '../run-server.js';
import type { SessionFlags } from '../session-flags.js';
import type { GatewayAuth } from './gateway-auth.js';
import type { GatewayFlags } from './gateway-flags.js';
import { listenMetrics, type MetricsListener } from './metrics-listener.js';
import { connectionSaturation, readinessRoute } from './readiness.js';

/** An HTTP upstream: where it is, and the connections and turns every path to it shares (fair-slots.ts). */
export type HttpUpstreamLink = { url: string; slots: FairSlots; dispatcher?: Dispatcher } & HeaderPolicyOptions;

export interface GatewayPlan {
  /** The handshake-era application in front of the upstream (`httpUpstream` or `stdioUpstream`). */
  handshake: McpApplication;
  /** Set for an HTTP upstream (the other era can then be bridged); undefined for stdio. */
  http: HttpUpstreamLink | undefined;
  /** The HTTP upstream's replicas, which /readyz probes (none for stdio). */
  replicas: string[];
  /** Lines for the start-up summary. */
  summary: string[];
  /** Who may call (--auth). */
  auth: GatewayAuth;
  /** Who may call what (--policy). */
  policy?: GatewayPolicy;
  /** Each caller's own token for the HTTP upstream (--upstream-token-exchange). */
  upstreamTokens?: TokenExchange;
  /** Set when many servers are federated (--server): their health, and the server of each call for policy and audit. */
  federation?: FederationApplication;
  /** Runs at shutdown, after the server closed (the bundled demo upstream stops). */
  stop?: () => Promise<void>;
  /** A federation's servers changed in the config file (SIGHUP): applied live; what changed, in words. */
  reloadServers?: (specs: readonly ServerSpec[]) => Promise<string>;
}

export async function serveGateway(plan: GatewayPlan, session: SessionFlags, flags: GatewayFlags): Promise<void> {
  const { http } = plan;
  let sessions: SessionManager | undefined = undefined;
  let listener: Server | undefined = undefined;
  const audit = gatewayAudit(flags);
  const metrics = new GatewayMetrics({
    liveSessions: async () => (await sessions?.count()) ?? 0,
    undeliveredMessages: () => sessions?.undelivered ?? 0,
    upstreamWaiting: () => http?.slots.waiting ?? 0,
    stdioChildren: () => StdioChild.running,
    ...(plan.federation && { servers: () => plan.federation!.servers() }),
  });
  const token = flags.adminToken;
  const recent = token === undefined ? undefined : new RecentEvents();
  // The console (with the admin token): audit events reach it only while one watches.
  const feed = token === undefined ? undefined : new ConsoleFeed();
  const history = token === undefined ? undefined : new MetricHistory(metrics.registry);
  const events = fanout(audit, metrics, recent, feed);
  const view = identityView(flags.auditIdentityClaim);
  const routed = eraRouter({
    handshake: plan.handshake,
    ...http,
    era: http ? flags.upstreamEra : 'handshake',
    withoutCorrelationId: flags.withoutCorrelationId,
    onError: report,
    async onConversation(record, context) {
      const identity = view(context.identity);
      if (identity) await sessions!.writeState(record.id, SESSION_IDENTITY.key, SESSION_IDENTITY.encode(identity));
      events.write(sessionCreated(record, identity));
    },
  });
  const serveMetrics = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'GET') return void res.writeHead(405, { allow: 'GET' }).end();
    const text = await metrics.text();
    res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
  };
  let metricsListener: MetricsListener | undefined;
  const tokened = plan.upstreamTokens ? withUpstreamTokens(routed, plan.upstreamTokens) : routed;
  // Policy before token exchange: a denied call costs no exchange.
  const policy = plan.policy;
  const gate = policy
    ? policyGate(tokened, {
        policy: () => policy.current(),
        subjectClaim: flags.principalClaim,
        ...(flags.issuers?.[0] !== undefined && { defaultIssuer: flags.issuers[0] }),
        approvalTimeoutMs: flags.approvalTimeoutMs,
        // An operator sees who asked by the name the sessions and the audit give them.
        describeCaller: (context) => view(context.identity),
        onStrayAnswer: ({ context }) =>
          events.write({
            event: 'approval.stray-answer',
            session: context.session ? sessionTag(context.session.id) : null,
            principal: context.principal,
          }),
        ...(plan.federation && {
          serverOf: serverOfCall(plan.federation),
          servers: () => plan.federation!.servers().map((server) => server.name),
        }),
      })
    : undefined;
  // A reload tells the sessions whose lists it changed (list_changed on their GET stream).
  if (policy && gate) policy.onReload = (previous) => void gate.policyChanged(previous).catch(report);
  // A federation asks the policy again for the server a resource request reaches.
  if (gate && plan.federation) plan.federation.guard((request, context, server) => gate.serverCheck(request, context, server));
  const app = gate ?? tokened;
  let admin: ReturnType<typeof adminApi> | undefined;
  let operatorConsole: RouteHandler | undefined;
  const consoleRoute = (req: IncomingMessage, res: ServerResponse, path: string): Promise<void> => operatorConsole!(req, res, path);
  const auth = plan.auth;
  const serverOf = plan.federation && ((request: Parameters<FederationApplication['serverOf']>[0]) => plan.federation!.serverOf(request));
  const { server, listening } = await runSessionServer(
    'sessiongate gateway',
    // Hygiene outermost: the audit, the policy and routing all see the form the upstream acts on.
    hygienic(audited(app, events, view, serverOf)),
    session,
    {
      authenticate: auth.authenticate,
      summary: [...plan.summary, ...(flags.audit ? [`  audit: ${flags.audit}`] : [])],
      ...(plan.federation && { healthDetail: () => ({ servers: plan.federation!.servers() }) }),
      routes: {
        ...auth.routes,
        '/readyz': readinessRoute({
          store: () => sessions,
          upstreams: plan.replicas,
          upstreamHeaders: http?.upstreamHeaders,
          saturation: connectionSaturation(() => listener, session.maxConnections),
        }),
        // On the MCP port unless --metrics-port gives it a listener of its own.
        ...(flags.metricsPort === undefined ? { '/metrics': serveMetrics } : {}),
        // Not mounted without a token: /admin/ is then an ordinary 404.
        ...(token ? { '/admin/': (req: IncomingMessage, res: ServerResponse, path: string) => admin!(req, res, path) } : {}),
        ...(token ? { '/console': consoleRoute, '/console/': consoleRoute } : { '/console': consoleOff, '/console/': consoleOff }),
      },
      async onShutdown() {
        auth.close?.();
        plan.policy?.close();
        history?.stop();
        await metricsListener?.close();
        await plan.stop?.();
        await audit?.close();
      },
    },
  );
  sessions = server.sessions;
  listener = listening.http;
  if (token && recent) admin = adminApi(server.sessions, token, recent, gate?.approvals);
  if (token && recent && feed && history) {
    operatorConsole = consoleRoutes({
      sessions: server.sessions,
      adminToken: token,
      recent,
      feed,
      history,
      audit: events,
      upstream: upstreamLabel(flags),
      approvals: gate?.approvals,
      secure: flags.publicUrl?.startsWith('https:') ?? false,
    })['/console/'];
    history.start();
  }
  server.sessions.onEnd((record, reason) => events.write(sessionEnded(record, reason)));
  if (flags.metricsPort !== undefined)
    metricsListener = await listenMetrics(flags.metricsPort, session.host, session.allowedHosts, serveMetrics);
  const base = listening.url.replace(/\/mcp$/, '');
  const lines = [
    ...auth.listening(listening.url),
    `  metrics: ${metricsListener?.url ?? `${base}/metrics`}`,
    token ? `  console: ${base}/console/ (sign in with the admin token)` : '  console: off (set SESSIONGATE_ADMIN_TOKEN to turn it on)',
  ];
  process.stdout.write(lines.map((line) => `${line}\n`).join(''));
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

/** The server of a tool, prompt or resource, as the federation routes it (for rules naming `servers`). */
function serverOfCall(federated: FederationApplication): ServerOf {
  return (call) => {
    if (call.kind === 'resource') return federated.serverOf({ method: 'resources/read', params: { uri: call.name ?? '' } });
    return federated.serverOf({ method: call.kind === 'prompt' ? 'prompts/get' : 'tools/call', params: { name: call.name ?? '' } });
  };
}

/** What the gateway fronts, as the console's rows name it. */
function upstreamLabel(flags: GatewayFlags): string {
  if (flags.servers) return flags.servers.map((server) => server.name).join(', ');
  if (flags.upstream) return flags.upstream.join(', ');
  if (flags.stdio) return `stdio: ${flags.stdio[0]}`;
  return flags.demoUpstream ? 'the demo server' : '';
}

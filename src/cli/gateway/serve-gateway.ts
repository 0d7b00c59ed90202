/**
 * @module cli/gateway/serve-gateway
 * The gateway the flags describe: the plan (gateway-command.ts, federation-plan.ts) handed to
 * `createGateway` (gateway/create-gateway.ts), listening, its start-up summary and its clean stop.
 * Everything it serves is built by that one call of the public API. What the process does with
 * them (print, stop on SIGTERM/SIGINT) is the command's: a test runs the same gateway in process.
 */
import type { ServerSpec } from './server-specs.js';
import { createGateway, type Gateway } from '../../gateway/create-gateway.js';
import type { FederationApplication } from '../../gateway/federation/federation.js';
import type { GatewayAuth, GatewayOptions, HttpUpstreamLink, PolicySource } from '../../gateway/gateway-options.js';
import type { GatewayTracing } from '../../gateway/ops/tracing.js';
import type { TokenExchange } from '../../auth/token-exchange.js';
import type { CredentialBroker } from '../../gateway/credentials/credential-broker.js';
import type { McpApplication } from '../../server/application.js';
import { sessionServerOptions, startupSummary } from '../run-server.js';
import { openStore } from '../store-spec.js';
import type { SessionFlags } from '../session-flags.js';
import { gatewayAudit } from './gateway-audit.js';
import { gatewayOtelMetrics, gatewayTracing } from './gateway-telemetry.js';
import type { GatewayFlags } from './gateway-flags.js';
import type { CurationDocument } from '../../gateway/curation/curation-document.js';
import { readCurationFile } from '../../gateway/curation/read-curation.js';

export type { HttpUpstreamLink };

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
  policy?: PolicySource;
  /** Each caller's own token for the HTTP upstream (--upstream-token-exchange). */
  upstreamTokens?: TokenExchange;
  /** Each person's own credentials: the upstream's (--upstream-credentials), or federated servers' (their `credentials` entry). */
  credentials?: readonly CredentialBroker[];
  /** Set when many servers are federated (--server): their health, and the server of each call for policy and audit. */
  federation?: FederationApplication;
  /** Runs at shutdown, after the server closed (the bundled demo upstream stops). */
  stop?: () => Promise<void>;
  /** A federation's servers changed in the config file (SIGHUP): applied live; what changed, in words. */
  reloadServers?: (specs: readonly ServerSpec[]) => Promise<string>;
}

/** A gateway listening as the flags describe. */
export interface ServedGateway {
  gateway: Gateway;
  url: string;
  /** The start-up summary, a line each. */
  summary: string[];
  /**
   * What SIGTERM does: stop accepting, let calls under way finish (bounded by the grace), answer
   * what is left, end streams and sessions' process-local resources (children stopped, upstreams
   * released), flush the audit, close the store.
   */
  stop(): Promise<void>;
}

/** `report` gets what goes wrong while it serves (the command prints it on stderr). */
export async function serveGateway(
  plan: GatewayPlan,
  session: SessionFlags,
  flags: GatewayFlags,
  report: (error: unknown) => void,
): Promise<ServedGateway> {
  let audit: ReturnType<typeof gatewayAudit>;
  let store: Awaited<ReturnType<typeof openStore>>;
  let traces: Awaited<ReturnType<typeof gatewayTracing>>;
  let curation: CurationDocument | undefined;
  try {
    curation = curationOf(flags);
    traces = await gatewayTracing(flags);
    audit = gatewayAudit(flags);
    store = await openStore(session.store);
  } catch (error) {
    await release();
    throw error;
  }
  // Nothing left running when the gateway cannot be made: the plan's spare children and demo upstream stop, the audit file closes.
  async function release(): Promise<void> {
    await traces?.tracing.close?.();
    await audit?.close();
    await plan.handshake.close?.();
    await plan.stop?.();
    await store?.close();
  }
  let gateway: Gateway;
  try {
    gateway = createGateway(gatewayOptions(plan, session, flags, { store, audit, traces, curation, report }));
  } catch (error) {
    await release(); // a curation naming a server the gateway does not have
    throw error;
  }
  const stop = async (): Promise<void> => {
    // A memory store's sessions end with the process: say so (audit "shutdown"). Durable
    // stores keep them for the next start.
    await gateway.close({ graceMs: session.shutdownGraceMs, endSessions: session.store.kind === 'memory' });
    await metricsOut?.close(); // after the gateway: the last export holds the sessions it ended
    await plan.stop?.();
    await store.close();
  };
  // The metrics /metrics serves, sent by OTLP as well (docs/OBSERVABILITY.md, "Metrics").
  let metricsOut: Awaited<ReturnType<typeof gatewayOtelMetrics>>;
  try {
    metricsOut = await gatewayOtelMetrics(flags, gateway.metrics.registry);
  } catch (error) {
    await stop();
    throw error;
  }
  // A wrong --secrets-key-file is one line now, not a failure at the first person's call.
  // One vault, one key check, whichever broker reads it.
  await plan.credentials?.[0]?.checkKey().catch(async (error: unknown) => {
    await stop();
    throw error;
  });
  const { url, summary } = await gateway
    .listen({
      port: session.port,
      host: session.host,
      maxConnections: session.maxConnections,
      ...(flags.metricsPort !== undefined && { metricsPort: flags.metricsPort }),
    })
    .catch(async (error: unknown) => {
      await stop(); // a port in use leaves nothing running: no demo upstream, no open store
      throw error;
    });
  const audited = flags.audit ? [`  audit: ${flags.audit}`] : [];
  if (traces) audited.push(traces.line);
  if (metricsOut) audited.push(metricsOut.line);
  return {
    gateway,
    url,
    summary: [...startupSummary('sessiongate gateway', url, session, [...plan.summary, ...audited], true), ...summary],
    stop,
  };
}

/** What the gateway fronts, as the console's rows name it. */
function upstreamLabel(flags: GatewayFlags): string {
  if (flags.servers) return flags.servers.map((server) => server.name).join(', ');
  if (flags.upstream) return flags.upstream.join(', ');
  if (flags.stdio) return `stdio: ${flags.stdio[0]}`;
  return flags.demoUpstream ? 'the demo server' : 'an MCP server';
}

/** Whose callers the policy's rules without `issuers` describe: the first --issuer, or the provider people sign in at. */
function defaultIssuer(flags: GatewayFlags): string | undefined {
  return flags.issuers?.[0] ?? (flags.auth === 'oauth' ? flags.loginIssuer : undefined);
}

/** The curation file, with `--pin` as every server's default; undefined when neither is given. */
function curationOf(flags: GatewayFlags): CurationDocument | undefined {
  const document = flags.curation === undefined ? undefined : readCurationFile(flags.curation);
  if (flags.pin === undefined) return document;
  return { ...document, pin: flags.pin };
}

/** What the command hands `createGateway`: the plan, the flags and what was opened for it. */
function gatewayOptions(
  plan: GatewayPlan,
  session: SessionFlags,
  flags: GatewayFlags,
  opened: {
    store: GatewayOptions['store'];
    audit: GatewayOptions['audit'];
    traces: { tracing: GatewayTracing } | undefined;
    curation: CurationDocument | undefined;
    report: (error: unknown) => void;
  },
): GatewayOptions {
  const { http } = plan;
  const { store, audit, traces, curation, report } = opened;
  return {
    upstream: plan.handshake,
    store,
    ...(http && { http: { ...http, replicas: plan.replicas, era: flags.upstreamEra } }),
    ...(plan.federation && { federation: plan.federation }),
    sessions: sessionServerOptions(session),
    auth: plan.auth,
    ...(plan.policy && { policy: plan.policy }),
    approvalTimeoutMs: flags.approvalTimeoutMs,
    principalClaim: flags.principalClaim,
    ...(defaultIssuer(flags) !== undefined && { defaultIssuer: defaultIssuer(flags) }),
    ...(plan.upstreamTokens && { upstreamTokens: plan.upstreamTokens }),
    ...(plan.credentials?.length && { credentials: plan.credentials }),
    ...(audit && { audit }),
    identityClaim: flags.auditIdentityClaim,
    ...(flags.adminToken !== undefined && { adminToken: flags.adminToken }),
    label: upstreamLabel(flags),
    ...(flags.publicUrl !== undefined && { publicUrl: flags.publicUrl }),
    withoutCorrelationId: flags.withoutCorrelationId,
    ...(traces && { tracing: traces.tracing }),
    ...(curation && { curation }),
    onError: report,
  };
}

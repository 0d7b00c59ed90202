/**
 * @module cli/run-server
 * What every serving command does: open the store, build the session server from the session
 * flags, listen, print a start-up summary, and shut down cleanly on SIGTERM/SIGINT (the
 * gateway does the same around createGateway: cli/gateway/serve-gateway.ts).
 */
import { unverifiedAuthorization } from '../gateway/gateway-options.js';
import type { McpApplication } from '../server/application.js';
import { createSessionServer, type SessionServer } from '../server/session-server.js';
import type { SessionServerOptions } from '../server/options.js';
import type { SessionFlags } from './session-flags.js';
import { listen, type Listening, shutDown } from '../server/listen.js';
import { onShutdownSignal } from './shutdown-signal.js';
import { describeStore, openStore } from './store-spec.js';
import { formatDuration } from './units.js';
import type { CapPolicy } from '../session/options.js';

export function report(error: unknown): void {
  process.stderr.write(`sessiongate: ${(error as Error).message}\n`);
}

const CAP_POLICY_SUMMARY: Record<CapPolicy, string> = {
  reject: '503 past a cap',
  evict: "the caller's own least recently used session evicted past a cap",
  'evict-any': 'least recently used session evicted past a cap',
};

/** The session server's options the session flags give (README, "Options (`createSessionServer`)"). */
export function sessionServerOptions(flags: SessionFlags) {
  return {
    idleTimeoutMs: flags.idleTimeoutMs,
    maxLifetimeMs: flags.maxLifetimeMs,
    maxSessions: flags.maxSessions,
    maxSessionsPerPrincipal: flags.maxSessionsPerPrincipal,
    maxAnonymousSessions: flags.maxAnonymousSessions,
    onCap: flags.onCap,
    allowedOrigins: flags.allowedOrigins,
    allowedHosts: flags.allowedHosts,
    maxBodyBytes: flags.maxBodyBytes,
    requestTimeoutMs: flags.requestTimeoutMs,
    maxInflightPerSession: flags.maxInflightPerSession,
    maxInflightPerPrincipal: flags.maxInflightPerPrincipal,
    resume: flags.resume,
  } satisfies Omit<SessionServerOptions, 'application' | 'store'>;
}

export async function runSessionServer(
  title: string,
  application: McpApplication,
  flags: SessionFlags,
): Promise<{ server: SessionServer; listening: Listening }> {
  const store = await openStore(flags.store);
  const server = createSessionServer({
    ...sessionServerOptions(flags),
    application,
    store,
    authenticate: unverifiedAuthorization,
    onError: report,
  });
  const listening = await listen(
    server,
    flags.port,
    flags.host,
    {},
    {
      allowedHosts: flags.allowedHosts,
      maxConnections: flags.maxConnections,
    },
  );
  // SIGTERM/SIGINT: stop accepting, let calls under way finish (bounded), then answer what is
  // left (server.close), end streams and sessions' process-local resources, flush, close.
  onShutdownSignal(async () => {
    // A memory store's sessions end with the process: say so. Durable stores keep them for the next start.
    await shutDown(server, listening, { graceMs: flags.shutdownGraceMs, endSessions: flags.store.kind === 'memory' });
    await store.close();
  });
  process.stdout.write(startupSummary(title, listening.url, flags, []).join('\n') + '\n');
  return { server, listening };
}

/** The start-up summary's lines: where, what is in front (`extra`), the store, the session limits, health. */
export function startupSummary(title: string, url: string, flags: SessionFlags, extra: readonly string[], readiness = false): string[] {
  const caps = [
    flags.maxSessions && `max ${flags.maxSessions} sessions`,
    flags.maxSessionsPerPrincipal && `max ${flags.maxSessionsPerPrincipal} per person`,
    // Unset, anonymous callers together share the per-person cap (session/options.ts).
    (flags.maxAnonymousSessions ?? flags.maxSessionsPerPrincipal) &&
      `max ${flags.maxAnonymousSessions ?? flags.maxSessionsPerPrincipal} anonymous together`,
  ].filter(Boolean);
  if (caps.length > 0) caps.push(CAP_POLICY_SUMMARY[flags.onCap]);
  const base = url.replace(/\/mcp$/, '');
  return [
    `${title} listening on ${url}`,
    ...extra,
    `  store: ${describeStore(flags.store)}`,
    `  sessions: idle timeout ${formatDuration(flags.idleTimeoutMs)}, lifetime ${formatDuration(flags.maxLifetimeMs)}${caps.length ? ', ' + caps.join(', ') : ''}`,
    `  health: ${base}/healthz${readiness ? ` (liveness), ${base}/readyz (readiness)` : ''}`,
  ];
}

/**
 * @module cli/run-server
 * What every serving command does: open the store, build the session server from the session
 * flags, listen, print a start-up summary, and shut down cleanly on SIGTERM/SIGINT.
 */
import type { McpApplication } from '../server/application.js';
import { createSessionServer, type SessionServer } from '../server/session-server.js';
import type { SessionServerOptions } from '../server/options.js';
import type { SessionFlags } from './session-flags.js';
import { listen, onShutdownSignal, type Listening, type Routes } from './serve.js';
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

export async function runSessionServer(
  title: string,
  application: McpApplication,
  flags: SessionFlags,
  extra: {
    summary?: string[];
    onShutdown?: () => Promise<void>;
    routes?: Routes;
    /** Who the caller is. Default: a keyed hash of the raw Authorization header (unverified). */
    authenticate?: SessionServerOptions['authenticate'];
    /** What `/healthz?servers=1` adds (the gateway's federated servers). */
    healthDetail?: () => Record<string, unknown>;
  } = {},
): Promise<{ server: SessionServer; listening: Listening }> {
  const store = await openStore(flags.store);
  const server = createSessionServer({
    application,
    store,
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
    // By default the principal is a keyed hash of the Authorization header when one is sent.
    authenticate: extra.authenticate ?? ((request) => request.header('authorization')),
    onError: report,
  });
  const listening = await listen(server, flags.port, flags.host, extra.routes, {
    allowedHosts: flags.allowedHosts,
    maxConnections: flags.maxConnections,
    ...(extra.healthDetail ? { healthDetail: extra.healthDetail } : {}),
  });
  // SIGTERM/SIGINT: stop accepting, let calls under way finish (bounded), then answer what is
  // left (server.close), end streams and sessions' process-local resources (children stopped,
  // upstreams released), flush, close.
  onShutdownSignal(async () => {
    await listening.stop(flags.shutdownGraceMs);
    // A memory store's sessions end with the process: say so (audit "shutdown"). Durable
    // stores keep them for the next start.
    if (flags.store.kind === 'memory') await server.sessions.endAll('shutdown');
    await server.close();
    await listening.close();
    await extra.onShutdown?.();
    await store.close();
  });
  const caps = [
    flags.maxSessions && `max ${flags.maxSessions} sessions`,
    flags.maxSessionsPerPrincipal && `max ${flags.maxSessionsPerPrincipal} per person`,
    // Unset, anonymous callers together share the per-person cap (session/options.ts).
    (flags.maxAnonymousSessions ?? flags.maxSessionsPerPrincipal) &&
      `max ${flags.maxAnonymousSessions ?? flags.maxSessionsPerPrincipal} anonymous together`,
  ].filter(Boolean);
  if (caps.length > 0) caps.push(CAP_POLICY_SUMMARY[flags.onCap]);
  const base = listening.url.replace(/\/mcp$/, '');
  process.stdout.write(
    [
      `${title} listening on ${listening.url}`,
      ...(extra.summary ?? []),
      `  store: ${describeStore(flags.store)}`,
      `  sessions: idle timeout ${formatDuration(flags.idleTimeoutMs)}, lifetime ${formatDuration(flags.maxLifetimeMs)}${caps.length ? ', ' + caps.join(', ') : ''}`,
      `  health: ${base}/healthz${extra.routes?.['/readyz'] ? ` (liveness), ${base}/readyz (readiness)` : ''}`,
      '',
    ].join('\n'),
  );
  return { server, listening };
}

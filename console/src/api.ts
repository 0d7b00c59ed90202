/** The console API (docs/CONSOLE.md): JSON over fetch, the CSRF token on every change. */

export interface SessionRow {
  id: string;
  tag: string;
  principal: string | null;
  identity: { subject: string | null; issuer: string | null; clientId: string | null; scopes: string[] } | null;
  clientInfo: { name?: string; version?: string } | null;
  era: string;
  upstream: string;
  /** The upstream session's tag (an HTTP upstream's), once it has one. */
  upstreamSession: string | null;
  ageMs: number;
  idleMs: number;
  leftMs: number;
  calls: number;
  lastCall: { time: string; method: string; name: string | null } | null;
  /** Its calls waiting for an operator. */
  held: { method: string; name: string | null }[];
}

export interface AuditEvent {
  time: string;
  event: string;
  session: string | null;
  principal?: string | null;
  identity?: { subject?: string | null } | null;
  method?: string;
  name?: string | null;
  outcome?: string;
  code?: number | null;
  durationMs?: number;
  decision?: string;
  rule?: string | null;
  /** The call's OpenTelemetry trace, when the gateway traces. */
  traceId?: string;
}

/** A call waiting for an operator, with its age and time left on the gateway's clock. */
export interface Approval {
  id: string;
  createdAt: number;
  expiresAt: number;
  ageMs: number;
  leftMs: number;
  call: {
    session: string | null;
    principal: string | null;
    identity: SessionRow['identity'];
    client: { name?: string; version?: string } | null;
    method: string;
    name: string | null;
    arguments: string;
    rule: string;
  };
}

/** Tool pinning (docs/CURATION.md): what waits for an operator, and what is pinned. */
export type { PendingView as PendingTool, PinsView } from '../../src/gateway/curation/pins-view.js';

/** One point of the charts, as the gateway samples it. */
export type { MetricPoint } from '../../src/gateway/console/metric-point.js';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let csrf = '';

export function setCsrf(token: string): void {
  csrf = token;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const response = await fetch(`/console/api/${path}`, {
    method,
    credentials: 'same-origin',
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(method === 'GET' ? {} : { 'x-csrf-token': csrf }),
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const body = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new ApiError(response.status, body.error ?? `HTTP ${response.status}`);
  return body;
}

/** Who the row names: the verified subject, else the principal's tag, else anonymous. */
export function identityOf(row: { identity?: SessionRow['identity'] | undefined; principal: string | null }): string {
  return row.identity?.subject ?? (row.principal ? `principal ${row.principal.slice(0, 8)}` : 'anonymous');
}

export function duration(ms: number): string {
  if (ms < 0) return '0s';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

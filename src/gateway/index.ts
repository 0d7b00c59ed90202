/** @module sessiongate/gateway — MCP servers behind sessiongate's sessions. */
export { httpUpstream, type HttpUpstreamOptions } from './http-upstream.js';
export { stdioUpstream, type StdioUpstreamOptions } from './stdio-upstream.js';
export { eraRouter, type EraRouterOptions, type UpstreamEra } from './era-router.js';
export type { HeaderPolicyOptions } from './header-policy.js';
export { FairSlots, DEFAULT_UPSTREAM_CONCURRENCY } from './fair-slots.js';
export { ChildLedger, defaultLedgerDirectory } from './child-ledger.js';
export { AuditLog, audited, fanout, sessionCreated, sessionEnded, type AuditEvent, type EventSink } from './audit.js';
export { GatewayMetrics, type MetricSources } from './metrics.js';
export { adminApi, RecentEvents } from './admin.js';

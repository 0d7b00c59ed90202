/** @module sessiongate/gateway — MCP servers behind sessiongate's sessions. */
export { httpUpstream, type HttpUpstreamOptions } from './http-upstream.js';
export { stdioUpstream, type StdioUpstreamOptions } from './stdio-upstream.js';
export { AuditLog, audited, fanout, sessionEnded, type AuditEvent, type EventSink } from './audit.js';
export { GatewayMetrics } from './metrics.js';
export { adminApi, RecentEvents } from './admin.js';

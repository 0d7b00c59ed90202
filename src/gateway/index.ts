/** @module sessiongate/gateway — MCP servers behind sessiongate's sessions. */
export { httpUpstream, type HttpUpstreamOptions } from './http-upstream.js';
export { stdioUpstream, type StdioUpstreamOptions } from './stdio-upstream.js';
export { AuditLog, audited, type AuditEvent } from './audit.js';

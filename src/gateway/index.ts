/** @module sessiongate/gateway — MCP servers behind sessiongate's sessions. */
export { httpUpstream, type HttpUpstreamOptions } from './http-upstream.js';

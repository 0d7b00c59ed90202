/**
 * @module sessiongate/gateway — MCP servers behind sessiongate's sessions: `createGateway`
 * builds the whole gateway `sessiongate` runs; its parts are here too, for other compositions.
 */
export { createGateway, type Gateway, type GatewayAddress, type GatewayListening } from './create-gateway.js';
export type { GatewayOptions, GatewayAuth, PolicySource, AuditSink, HttpUpstreamLink } from './gateway-options.js';
export { resourceServer, type ResourceServerOptions } from './resource-server.js';
export { authorizationServer, type AuthorizationServerOptions } from './authorization-server/authorization-server.js';
export type { LoginProviderOptions } from './authorization-server/login-provider.js';
export type { MetadataDocumentOptions } from './authorization-server/client-metadata-document.js';
export type { BrowserPeople, BrowserPerson } from './authorization-server/browser-people.js';
export { CredentialBroker, type CredentialBrokerOptions } from './credentials/credential-broker.js';
export { Connections } from './credentials/connections.js';
export { httpUpstream, type HttpUpstreamOptions } from './upstreams/http/http-upstream.js';
export { stdioUpstream, type StdioUpstreamOptions } from './upstreams/stdio/stdio-upstream.js';
export { sseUpstream, type SseUpstreamOptions } from './upstreams/sse/sse-upstream.js';
export { eraRouter, type EraRouterOptions, type UpstreamEra } from './eras/era-router.js';
export { federation, type FederationApplication, type FederationOptions, type ServerHealth } from './federation/federation.js';
export type { FederatedServer, ServerState } from './federation/member.js';
export { httpProbe, stdioProbe, type ServerProbe } from './federation/server-probe.js';
export type { HeaderPolicyOptions } from './upstreams/http/header-policy.js';
export { FairSlots, DEFAULT_UPSTREAM_CONCURRENCY } from './upstreams/fair-slots.js';
export { ChildLedger, defaultLedgerDirectory } from './upstreams/stdio/child-ledger.js';
export { curationStage } from './curation/curation-stage.js';
export { compileCuration, type Curation, type CurationLayout } from './curation/curation.js';
export { CURATION_SCHEMA } from './curation/curation-schema.js';
export { CurationError, parseCuration, readCurationFile } from './curation/read-curation.js';
export type {
  CurationDocument,
  ServerCuration,
  ToolCuration,
  PromptCuration,
  ResourceCuration,
  PinMode,
} from './curation/curation-document.js';
export { ToolPins, type ServerPins, type ToolChange } from './curation/tool-pins.js';
export { exportLock, importLock, lockText, parseLock, LOCK_FORMAT, type PinLock } from './curation/pin-lock.js';
export { audited, auditStage } from './ops/audit.js';
export { fanout, sessionCreated, sessionEnded, type AuditEvent, type EventSink } from './audit-events.js';
export { AuditLog, type AuditLogOptions } from './audit-log/audit-log.js';
export { identityView, type AuditIdentity, type IdentityView } from './identity-view.js';
export { GatewayMetrics, type MetricSources } from './ops/metrics.js';
export { tracing, tracingStage, W3C_PROPAGATOR, type GatewayTracing, type TracingOptions } from './ops/tracing.js';
export { tracedUpstream, upstreamSpans } from './ops/upstream-spans.js';
export { otlpTracing, type OtlpTracingOptions } from './ops/otlp-tracing.js';
export { otlpMetrics, PrometheusProducer, type OtlpMetricsOptions } from './ops/otel-metrics.js';
export { adminApi } from './ops/admin.js';
export { RecentEvents } from './ops/recent-events.js';

/**
 * @module gateway/gateway-options
 * What `createGateway` takes (create-gateway.ts): the upstream application, the store, and each
 * feature the gateway composes around it, every one off unless given (docs/ARCHITECTURE.md,
 * "One gateway"). Checked by one schema (protocol/options.ts).
 */
import type { CurationDocument } from './curation/curation-document.js';
import type { GatewayTracing } from './ops/tracing.js';
import type { TokenExchange } from '../auth/token-exchange.js';
import type { PolicyEvaluator } from '../policy/evaluator.js';
import { checkOptions, option, OptionError, required } from '../protocol/options.js';
import type { McpApplication } from '../server/application.js';
import type { Routes } from '../server/listen.js';
import type { SessionServerOptions } from '../server/options.js';
import type { SessionStore } from '../store/store.js';
import type { EventSink } from './audit-events.js';
import type { BrowserPeople } from './authorization-server/browser-people.js';
import type { ClientGrant } from './authorization-server/grant-records.js';
import type { CredentialBroker } from './credentials/credential-broker.js';
import { MIN_ADMIN_TOKEN_LENGTH } from './ops/admin.js';
import type { UpstreamEra } from './eras/era-router.js';
import type { FederationApplication } from './federation/federation.js';
import type { FairSlots } from './upstreams/fair-slots.js';
import type { HeaderPolicyOptions } from './upstreams/http/header-policy.js';
import type { Dispatcher } from 'undici';

/** A Streamable HTTP upstream: where it is, and the connections and turns every path to it shares (fair-slots.ts). */
export type HttpUpstreamLink = { url: string; slots: FairSlots; dispatcher?: Dispatcher } & HeaderPolicyOptions;

/**
 * The principal when nothing is verified (`--auth none`, and createGateway without `auth`): the
 * raw Authorization header, which the session manager keeps only as a keyed hash.
 */
export const unverifiedAuthorization: GatewayAuth['authenticate'] = (request) => request.header('authorization');

/** A person as the identity provider names them. */
export interface PersonName {
  issuer: string;
  subject: string;
}

/** The admin API's view of what people allowed an authorization server's clients. */
export interface GrantAdministration {
  list(person: PersonName): Promise<readonly ClientGrant[]>;
  /** Forgets the consent and ends the client's grants: true when there was something to withdraw. */
  withdraw(person: PersonName, clientId: string): Promise<boolean>;
}

/** Who may call the gateway. */
export interface GatewayAuth {
  /** The caller's principal, or a thrown 401/403/503 (`sessiongate/auth`'s authenticators). */
  authenticate: NonNullable<SessionServerOptions['authenticate']>;
  /** Routes it serves beside /mcp (RFC 9728 metadata). */
  routes?: Routes;
  /** What people allowed (`--auth oauth`), for the admin API: listed and withdrawn per person. */
  grants?: GrantAdministration;
  /** Who a browser is (`--auth oauth`: people sign in at the identity provider), for the pages people see of their own. */
  browser?: BrowserPeople;
  /** Given the gateway's store and audit when the gateway is assembled (the authorization server keeps its grants there). */
  attach?(store: SessionStore, events: EventSink): void;
  /** Told the URL the gateway listens on (the default public URL); returns lines for a start-up summary. */
  listening?(url: string): string[];
  /** Stops what it watches. */
  close?(): void;
}

/** The policy in force, and how a new one is announced (a file read again). */
export interface PolicySource {
  current(): PolicyEvaluator;
  /** Registers what runs after each reload that took, with the policy it replaced. */
  onReload?(listener: (previous: PolicyEvaluator) => void): void;
  close?(): void;
}

/** An audit sink the gateway closes when it closes (AuditLog). */
export type AuditSink = EventSink & { close?(): Promise<void> };

export interface GatewayOptions {
  /** The application in front of the upstream: `httpUpstream`, `stdioUpstream`, `sseUpstream` or a `federation`. */
  upstream: McpApplication;
  /** Sessions, secrets, buckets, approvals and the event log (the caller opens and closes it). */
  store: SessionStore;
  /**
   * Set for a Streamable HTTP upstream: sessionless (2026-07-28) callers and upstreams are then
   * served too (eras/era-router.ts), and `/readyz` asks one of `replicas` (default: `url`).
   */
  http?: HttpUpstreamLink & { replicas?: readonly string[]; era?: UpstreamEra | 'auto' };
  /** Set when `upstream` is a federation: rules naming `servers`, the audit's server, `/healthz?servers=1`. */
  federation?: FederationApplication;
  /** The session server's limits (caps, timeouts, origins, resumption); defaults as `createSessionServer`'s. */
  sessions?: Omit<SessionServerOptions, 'application' | 'store' | 'authenticate' | 'onError'>;
  /** Who may call. Default: a keyed hash of the raw Authorization header binds a session, nothing verified. */
  auth?: GatewayAuth;
  /** Who may call what (docs/POLICY.md). Default: no policy. */
  policy?: PolicySource;
  /** How long a person or an operator has to approve a call, ms. Default 300,000. */
  approvalTimeoutMs?: number;
  /** The claim rules' `subjects` list. Default 'sub'. */
  principalClaim?: string;
  /** The issuer whose callers rules without `issuers` describe. Default: none. */
  defaultIssuer?: string;
  /** Each caller's own token for the HTTP upstream (RFC 8693), exchanged after the policy passed a call. */
  upstreamTokens?: TokenExchange;
  /**
   * Each person's own credentials upstream (docs/CREDENTIALS.md): connected on a page of
   * theirs, kept in the store's vault, sent as the upstream's `Authorization` (each upstream's
   * `upstreamAuthorization` header option reads `authorization` of its broker). One broker for
   * the single upstream; for a federation, one per server people connect, each named as the
   * server is (`server`). Needs an `auth` that signs people in (`authorizationServer`).
   */
  credentials?: CredentialBroker | readonly CredentialBroker[];
  /** Where audit events go besides the metrics (an `AuditLog`); closed with the gateway. */
  audit?: AuditSink;
  /** The claim that names a person in audit lines, session rows and approvals. Default 'sub'. */
  identityClaim?: string;
  /** Turns on the admin API (/admin/) and the operator console (/console/); at least 16 characters. */
  adminToken?: string;
  /** What the gateway fronts, as the console's rows name it. Default: the HTTP upstream's URL. */
  label?: string;
  /** The URL callers use, when not the one it listens on (the resource of its tokens; `Secure` console cookies on https). */
  publicUrl?: string;
  /** Sessionless callers without a correlation id (eras/conversations). Default 'principal'. */
  withoutCorrelationId?: 'principal' | 'request';
  /**
   * OpenTelemetry traces (docs/OBSERVABILITY.md): a span per MCP request and spans inside it;
   * closed with the gateway. The single upstream's exchanges get spans of their own; a
   * federation's servers get them when each server's application is `tracedUpstream`. Default:
   * off, and the request path does nothing for it.
   */
  tracing?: GatewayTracing;
  /**
   * What clients see of the upstream's tools, prompts and resources (docs/CURATION.md): renamed,
   * re-described, hidden, arguments fixed; and which servers' tool definitions are pinned
   * (`pin`, kept in `store.grants`). Checked here (parseCuration's schema) and compiled against
   * the federation's servers when there is one. Default: shown as the upstream lists them, nothing pinned.
   */
  curation?: CurationDocument;
  /** Told of failures no caller sees (an audit write, a lost upstream). Default: none. */
  onError?: (error: unknown) => void;
}

const SCHEMA = {
  upstream: required(option.custom('must be an McpApplication', (value) => typeof (value as McpApplication | null)?.handle === 'function')),
  store: required(option.custom('must be a SessionStore', (value) => typeof value === 'object' && value !== null)),
  approvalTimeoutMs: option.finitePositive,
  principalClaim: option.string,
  identityClaim: option.string,
  defaultIssuer: option.string,
  label: option.string,
  publicUrl: option.httpUrl,
  withoutCorrelationId: option.oneOf(['principal', 'request']),
  tracing: option.custom(
    'must be what tracing() or otlpTracing() makes',
    (value) => typeof (value as GatewayTracing | null)?.upstream === 'function',
  ),
  curation: option.custom('must be a curation document (docs/CURATION.md)', (value) => typeof value === 'object' && value !== null),
  onError: option.func,
};

export function checkGatewayOptions(options: GatewayOptions): void {
  checkOptions(SCHEMA, options);
  // Checked before anything is built (adminApi checks it again when it is made).
  if (options.adminToken !== undefined && (typeof options.adminToken !== 'string' || options.adminToken.length < MIN_ADMIN_TOKEN_LENGTH))
    throw new OptionError('adminToken', `sessiongate: option "adminToken" must have at least ${MIN_ADMIN_TOKEN_LENGTH} characters`);
  if (options.credentials && !options.auth?.browser)
    throw new OptionError(
      'credentials',
      'sessiongate: option "credentials" needs an auth that signs people in (authorizationServer, --auth oauth): people connect on a page of their own',
    );
  if (options.credentials) checkBrokers(options);
  if (options.credentials && options.upstreamTokens)
    throw new OptionError(
      'credentials',
      'sessiongate: options "credentials" and "upstreamTokens" both set the upstream\'s Authorization: pick one',
    );
  if (options.upstreamTokens && !options.http)
    throw new OptionError('upstreamTokens', 'sessiongate: option "upstreamTokens" needs an HTTP upstream (option "http")');
}

/** One broker for the single upstream; a federation's each for a server of it. */
function checkBrokers({ credentials, federation }: GatewayOptions): void {
  const brokers: readonly CredentialBroker[] = Array.isArray(credentials) ? credentials : [credentials as CredentialBroker];
  if (!federation) {
    if (brokers.length !== 1)
      throw new OptionError(
        'credentials',
        'sessiongate: option "credentials" takes one broker for one upstream (several for a federation)',
      );
    return;
  }
  const names = new Set(federation.servers().map((server) => server.name));
  const stray = brokers.find((broker) => !names.has(broker.server));
  if (stray)
    throw new OptionError(
      'credentials',
      `sessiongate: option "credentials" names "${stray.server}", which is not a server of the federation`,
    );
}

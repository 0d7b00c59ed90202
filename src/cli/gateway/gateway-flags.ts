/**
 * @module cli/gateway/gateway-flags
 * The gateway's own flags (beside the session flags), their parsers, and their typed values.
 * A flag that feeds a library option is checked by that option's schema too (session-flags.ts,
 * `parser`), so the flag, the config file and the library accept the same values.
 */
import type { PinMode } from '../../gateway/curation/curation-document.js';
import { otlpWanted } from './gateway-telemetry.js';
import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_PROBE_TIMEOUT_MS } from '../../gateway/federation/server-probe.js';
import type { UpstreamEra } from '../../gateway/eras/era-router.js';
import { DEFAULT_UPSTREAM_CONCURRENCY } from '../../gateway/upstreams/fair-slots.js';
import { httpUpstreamSchema } from '../../gateway/upstreams/http/http-upstream.js';
import { type ChildVariable, parseChildVariable } from '../../gateway/upstreams/stdio/child-environment.js';
import { stdioUpstreamSchema } from '../../gateway/upstreams/stdio/stdio-upstream.js';
import { isHttpUrl } from '../../protocol/options.js';
import { envOption, type MapOption } from '../config-file.js';
import { DEFAULT_SEPARATOR, separatorProblem } from '../../gateway/federation/names.js';
import { parseServerEntry, parseServerFlag, type ServerSpec } from './server-specs.js';
import { DEFAULT_API_KEY_FILE } from '../keys/api-key-file.js';
import { parser } from '../session-flags.js';
import { parseCount, parseDuration, parsePort, parseSize } from '../units.js';
import { parseCommand, parseHeader, parseHeaderName, parseIdentityHeader, parseLoginParameter, parseUpstream } from './flag-parsers.js';

export interface GatewayFlags {
  config: string | undefined;
  /** Replicas of one HTTP upstream (a pool); undefined with --stdio or --demo-upstream. */
  upstream: string[] | undefined;
  /** Servers federated behind one endpoint (--server, or the config file's `servers`); undefined without. */
  servers: ServerSpec[] | undefined;
  namespaceSeparator: string;
  eagerUpstreams: boolean;
  /** Close a federated server's upstream session unused this long (ms); 0 never. */
  upstreamIdleTimeoutMs: number;
  /** How long a server has to answer the start-up probe (ms). */
  probeTimeoutMs: number;
  /** The stdio server's command and arguments. */
  stdio: [string, ...string[]] | undefined;
  stdioEnv: ChildVariable[];
  childIdleTimeoutMs: number;
  /** 'off', a directory, or undefined for the default directory. */
  childLedger: string | undefined;
  spares: number;
  maxMessageSize: number;
  upstreamConcurrency: number;
  /** The most upstream exchanges one person runs at once; undefined: half of upstreamConcurrency. */
  upstreamShare: number | undefined;
  demoUpstream: boolean;
  /** How the HTTP upstream is spoken to: Streamable HTTP, or the deprecated HTTP+SSE transport. */
  upstreamTransport: 'streamable-http' | 'sse';
  /** The demo server's loopback port; 0 picks a free one. */
  demoUpstreamPort: number;
  audit: string | undefined;
  auditRotateBytes: number | undefined;
  auditRotateMs: number | undefined;
  /** The Ed25519 private key file that signs audit checkpoints. */
  auditSigningKey: string | undefined;
  auditCheckpointEvery: number;
  replicaId: string | undefined;
  /** The policy file (docs/POLICY.md). */
  policy: string | undefined;
  /** The curation file (docs/CURATION.md). */
  curation: string | undefined;
  /** Tool pinning for every server the curation file does not set (docs/CURATION.md, "Pinning"). */
  pin: PinMode | undefined;
  /** How long a person asked to approve a call has to answer. */
  approvalTimeoutMs: number;
  /** Serve /metrics on this port instead of the MCP port. */
  metricsPort: number | undefined;
  /** OpenTelemetry traces: on (true: the OTEL_* variables say where), or the collector's URL. */
  otel: string | true | undefined;
  /** The verified claim a span names the caller by (`enduser.id`); none by default. */
  otelPrincipalClaim: string | undefined;
  /** A trace viewer's URL with {traceId}: the console links calls there. */
  otelTraceLink: string | undefined;
  /** The shortest step (authentication, a look-up, a wait) that gets a span of its own, ms. */
  otelMinStepMs: number;
  /** Whether the gateway sends traces by OTLP: `--otel`, or the OTEL_* variables (gateway-telemetry.ts). */
  traced: boolean;
  /** Whether the gateway sends its metrics by OTLP too (gateway-telemetry.ts). */
  metered: boolean;
  adminToken: string | undefined;
  upstreamEra: UpstreamEra | 'auto';
  withoutCorrelationId: 'principal' | 'request';
  forwardHeaders: string[] | undefined;
  upstreamHeaders: Record<string, string> | undefined;
  auth: 'none' | 'jwt' | 'introspection' | 'api-keys' | 'oauth';
  /** --auth oauth: the identity provider people sign in at, the gateway's client there, and how it is asked. */
  loginIssuer: string | undefined;
  loginClientId: string | undefined;
  loginClientSecretFile: string | undefined;
  loginScopes: string[] | undefined;
  loginPrompt: string | undefined;
  loginParameters: Record<string, string> | undefined;
  /** --auth oauth: the gateway's access tokens' lifetime, and a sign-in's refresh tokens' at most. */
  accessTokenTtlMs: number;
  refreshTtlMs: number;
  /** --auth oauth: the file of the key that seals the identity provider's refresh tokens; how often the provider is asked again. */
  secretsKeyFile: string | undefined;
  loginRecheckMs: number;
  /** --auth oauth: dynamic registrations one address may make per hour. */
  registrationsPerHour: number;
  /** --auth oauth: fetch clients' metadata documents from loopback and private addresses (development). */
  allowPrivateClientDocuments: boolean;
  /** The API key file of --auth api-keys. */
  apiKeys: string;
  introspectionUrl: string | undefined;
  introspectionClientId: string | undefined;
  introspectionSecretFile: string | undefined;
  introspectionCacheMs: number;
  jwksUri: string | undefined;
  jwksFile: string | undefined;
  issuers: string[] | undefined;
  audiences: string[] | undefined;
  requiredScopes: string[] | undefined;
  clockSkewMs: number;
  principalClaim: string;
  /** The gateway's external URL of its MCP endpoint (behind a proxy); default: where it listens. */
  publicUrl: string | undefined;
  /** The claim the audit trail and the admin API name the person by. */
  auditIdentityClaim: string;
  /** The token endpoint that exchanges a caller's token for one for the upstream (RFC 8693). */
  upstreamTokenExchange: string | undefined;
  tokenExchangeClientId: string | undefined;
  tokenExchangeSecretFile: string | undefined;
  /** Whom exchanged tokens are for; default: the upstream URL. */
  tokenExchangeAudience: string | undefined;
  tokenExchangeScope: string | undefined;
  /** Header name -> verified claim sent upstream in it. */
  identityHeaders: Record<string, string> | undefined;
  /** Each person's own credential for the upstream (docs/CREDENTIALS.md): their OAuth grant, or a key they paste. */
  upstreamCredentials: 'oauth' | 'secret' | undefined;
  upstreamSecretHeader: string | undefined;
  upstreamCredentialMeta: string | undefined;
  upstreamCredentialEnv: string | undefined;
  upstreamName: string | undefined;
  upstreamClientId: string | undefined;
  upstreamClientSecretFile: string | undefined;
  upstreamScope: string | undefined;
  upstreamResourceIndicator: 'on' | 'off' | undefined;
  upstreamAuthorizationServer: string | undefined;
}

const DEFAULT_CHILD_IDLE_MS = 5 * 60_000;

export function addGatewayFlags(program: Command): Command {
  program.addOption(
    envOption('--config <file>', 'read settings from a JSON file keyed by flag name (flags and SESSIONGATE_* variables win)'),
  );
  return addAuthFlags(addOperationFlags(addStdioFlags(addFederationFlags(addUpstreamFlags(program)))));
}

/** Many servers behind one endpoint (docs/FEDERATION.md). */
function addFederationFlags(program: Command): Command {
  const flag = envOption;
  const server: MapOption = flag(
    '--server <NAME=TARGET>',
    'federate this server: NAME=URL or NAME=stdio:COMMAND (repeatable; tools become NAME__tool; excludes --upstream and --stdio)',
  ).argParser(parseServerFlag);
  server.configEntry = (name, raw, previous) => parseServerEntry(name, raw, previous as ServerSpec[] | undefined);
  return program
    .addOption(server)
    .addOption(
      flag('--namespace-separator <text>', "federation: between a server's name and its tool or prompt's")
        .argParser(parser(parseSeparator))
        .default(DEFAULT_SEPARATOR),
    )
    .addOption(flag('--eager-upstreams', "federation: open every server's upstream session at initialize, not on first use"))
    .addOption(
      flag('--upstream-idle-timeout <duration>', "federation: close a server's upstream session unused this long (reopened on use), or off")
        .argParser(parser((text) => (text === 'off' ? 0 : parseDuration(text))))
        .default(0, 'off'),
    )
    .addOption(
      flag('--probe-timeout <duration>', 'how long a server has to answer the start-up initialize (a stdio command, a federated server)')
        .argParser(parser(parseDuration))
        .default(DEFAULT_PROBE_TIMEOUT_MS, '10s'),
    );
}

/** What is behind the gateway over HTTP, and how it is spoken to. */
function addUpstreamFlags(program: Command): Command {
  const flag = envOption;
  return program
    .addOption(
      flag('--upstream <url>', 'the MCP server to put behind sessions (Streamable HTTP); repeat for replicas of it (a pool)').argParser(
        (text, previous?: string[]) => [...(previous ?? []), parseUpstream(text)],
      ),
    )
    .addOption(
      flag(
        '--max-message-size <size>',
        'largest message accepted from an upstream or a child (past it: that call fails; a child is restarted)',
      )
        .argParser(parser(parseSize, httpUpstreamSchema.maxMessageBytes))
        .default(16 * 1024 * 1024, '16mb'),
    )
    .addOption(
      flag(
        '--upstream-concurrency <n>',
        'HTTP: requests sent upstream at once (its connections), shared fairly among people, then their sessions (past it they wait their turn)',
      )
        .argParser(parser(parseCount))
        .default(DEFAULT_UPSTREAM_CONCURRENCY),
    )
    .addOption(
      flag(
        '--upstream-share <n>',
        'HTTP: the most of those one person runs at once, so the rest stay free for everybody else (default: half of --upstream-concurrency)',
      ).argParser(parser(parseCount)),
    )
    .addOption(
      flag(
        '--upstream-transport <transport>',
        'streamable-http | sse (the deprecated HTTP+SSE transport of protocol 2024-11-05: one event stream per session)',
      )
        .choices(['streamable-http', 'sse'])
        .default('streamable-http'),
    )
    .addOption(
      flag('--upstream-era <era>', 'auto (probe once with server/discover) | handshake | sessionless (2026-07-28)')
        .choices(['auto', 'handshake', 'sessionless'])
        .default('auto'),
    )
    .addOption(
      flag('--without-correlation-id <policy>', 'sessionless clients with no Mcp-Client-Session-Id: principal (share one) | request')
        .choices(['principal', 'request'])
        .default('principal'),
    )
    .addOption(flag('--forward-header <name>', 'copy this client request header upstream (repeatable)').argParser(parseHeaderName))
    .addOption(flag('--upstream-header <header>', 'send "NAME: VALUE" upstream on every request (repeatable)').argParser(parseHeader));
}

/** A stdio server behind the gateway: its command, environment and children. */
function addStdioFlags(program: Command): Command {
  const flag = envOption;
  return program
    .addOption(flag('--stdio <command>', 'run this MCP server command, one process per session ("COMMAND ARGS")').argParser(parseCommand))
    .addOption(
      flag(
        '--stdio-env <variable>',
        'stdio: give the child NAME (copied from this environment) or NAME=VALUE (repeatable; SESSIONGATE_* never)',
      ).argParser((text, previous: ChildVariable[] = []) => [...previous, parser(parseChildVariable)(text)]),
    )
    .addOption(
      flag(
        '--child-idle-timeout <duration>',
        'stdio: stop the child of a session idle this long (the session lives on; its next request starts a fresh one), or off',
      )
        .argParser(parser((text) => (text === 'off' ? 0 : parseDuration(text)), stdioUpstreamSchema.childIdleTimeoutMs))
        .default(DEFAULT_CHILD_IDLE_MS, '5m'),
    )
    .addOption(
      flag(
        '--child-ledger <dir>',
        'stdio: where running children are written down, so the next start stops those a killed gateway left (or off)',
      ).default(undefined, '$TMPDIR/sessiongate-UID/children'),
    )
    .addOption(
      flag('--spares <n>', 'stdio: pre-spawned spare processes').argParser(parser(parseWholeNumber, stdioUpstreamSchema.spares)).default(2),
    );
}

/** The demo upstream, the audit log and the admin API. */
function addOperationFlags(program: Command): Command {
  const flag = envOption;
  return program
    .addOption(flag('--demo-upstream', 'put the bundled demo MCP server behind the gateway (what `npm start` runs)'))
    .addOption(
      flag('--demo-upstream-port <port>', "the demo server's loopback port (0 picks a free one)").argParser(parser(parsePort)).default(0),
    )
    .addOption(flag('--audit <target>', 'audit log: a file (appended) or stdout; hash-chained (docs/AUDIT.md)'))
    .addOption(flag('--audit-rotate-size <size>', 'start a new audit file past this size (e.g. 100MB)').argParser(parser(parseSize)))
    .addOption(
      flag('--audit-rotate-interval <duration>', 'start a new audit file after this long (e.g. 1d)').argParser(parser(parseDuration)),
    )
    .addOption(flag('--audit-signing-key <file>', 'an Ed25519 private key (PEM): signed checkpoints in the audit log'))
    .addOption(
      flag('--audit-checkpoint-every <n>', 'audit lines between signed checkpoints (and one at shutdown)')
        .argParser(parser(parseCount))
        .default(1000),
    )
    .addOption(flag('--replica-id <id>', "this replica's name in its audit lines (default: the host name)"))
    .addOption(
      flag('--policy <file>', 'who may call what: rules in JSON or YAML (docs/POLICY.md), re-read when the file changes or on SIGHUP'),
    )
    .addOption(
      flag(
        '--curation <file>',
        'what clients see of the tools, prompts and resources: renamed, hidden, arguments fixed (docs/CURATION.md)',
      ),
    )
    .addOption(
      flag(
        '--pin <mode>',
        "tool pinning: strict (a changed tool is withheld until an operator accepts it) | warn (recorded, still shown) | off; default: the curation file's, else off",
      ).choices(['strict', 'warn', 'off']),
    )
    .addOption(
      flag('--approval-timeout <duration>', 'policy: how long a person asked to approve a call has to answer')
        .argParser(parser(parseDuration))
        .default(300_000, '5m'),
    )
    .addOption(flag('--metrics-port <port>', 'serve /metrics on this port (same host) instead of the MCP port').argParser(parsePort))
    .addOption(
      flag(
        '--otel [url]',
        'OpenTelemetry traces and metrics by OTLP/HTTP to the collector at url (default: the OTEL_EXPORTER_OTLP_* variables, else http://localhost:4318)',
      ),
    )
    .addOption(flag('--otel-principal-claim <claim>', 'the verified claim a span names the caller by (enduser.id); default: none'))
    .addOption(
      flag(
        '--otel-min-step <duration>',
        'the shortest step (authentication, session look-up, a wait for the upstream) that gets a span; 0: every one',
      )
        .argParser(parser((text) => (text.trim() === '0' ? 0 : parseDuration(text))))
        .default(1, '1ms'),
    )
    .addOption(flag('--otel-trace-link <url>', "a trace viewer's URL with {traceId} in it: the console links each call's trace there"))
    .addOption(
      flag('--audit-identity-claim <claim>', 'the verified claim the audit log and admin API name a person by (e.g. email)').default('sub'),
    )
    .addOption(
      flag('--admin-token <token>', 'enable the admin API under /admin/ for this bearer token (>= 16 characters)').argParser(parseToken),
    );
}

/** Who may call (docs/AUTH.md). */
function addAuthFlags(program: Command): Command {
  const flag = envOption;
  return program
    .addOption(
      flag(
        '--auth <mode>',
        'who may call: none (sessions bound to the raw Authorization header, unverified) | jwt (verified tokens) | introspection (RFC 7662) | api-keys (--api-keys) | oauth (the gateway issues tokens; people sign in at --login-issuer)',
      )
        .choices(['none', 'jwt', 'introspection', 'api-keys', 'oauth'])
        .default('none'),
    )
    .addOption(
      flag('--api-keys <file>', 'api-keys: the key file (`sessiongate keys add NAME` writes it; hashes only)').default(
        DEFAULT_API_KEY_FILE,
      ),
    )
    .addOption(
      flag(
        '--login-issuer <url>',
        "oauth: the OpenID provider people sign in at, exactly as it names itself (its discovery document's issuer)",
      ).argParser(parser(parseIssuerUrl)),
    )
    .addOption(flag('--login-client-id <id>', "oauth: the gateway's client id at the OpenID provider"))
    .addOption(flag('--login-client-secret-file <file>', 'oauth: a file holding that client secret (or SESSIONGATE_LOGIN_CLIENT_SECRET)'))
    .addOption(
      flag('--login-scope <scope>', 'oauth: a scope asked of the OpenID provider (repeatable; default: openid email profile)').argParser(
        collect,
      ),
    )
    .addOption(
      flag(
        '--login-param <NAME=VALUE>',
        'oauth: an extra authorization parameter at the OpenID provider (repeatable; e.g. access_type=offline)',
      ).argParser(parseLoginParameter),
    )
    .addOption(flag('--login-prompt <prompt>', 'oauth: the prompt sent to the OpenID provider (login, select_account, consent)'))
    .addOption(
      flag('--access-token-ttl <duration>', "oauth: lifetime of the gateway's access tokens")
        .argParser(parser(parseDuration))
        .default(900_000, '15m'),
    )
    .addOption(
      flag('--refresh-ttl <duration>', "oauth: how long a sign-in's refresh tokens go on at most")
        .argParser(parser(parseDuration))
        .default(30 * 86_400_000, '30d'),
    )
    .addOption(
      flag(
        '--secrets-key-file <file>',
        "oauth: a 32-byte key (hex or base64) sealing the identity provider's refresh tokens at rest (or SESSIONGATE_SECRETS_KEY)",
      ),
    )
    .addOption(
      flag('--login-recheck <duration>', "oauth: how long the provider's word that a person is signed in holds before a refresh asks again")
        .argParser(parser(parseDuration))
        .default(3_600_000, '1h'),
    )
    .addOption(
      flag(
        '--registrations-per-hour <n>',
        'oauth: dynamic client registrations one address may make per hour (hosted clients register from shared addresses)',
      )
        .argParser(parser(parseCount))
        .default(60),
    )
    .addOption(
      flag(
        '--allow-private-client-documents',
        'oauth: fetch client metadata documents from loopback and private addresses (development only)',
      ),
    )
    .addOption(flag('--jwks-uri <url>', "jwt: the identity provider's key set (JWKS) URL").argParser(parser(parseHttpUrl)))
    .addOption(flag('--introspection-url <url>', 'introspection: the endpoint (RFC 7662)').argParser(parser(parseHttpUrl)))
    .addOption(flag('--introspection-client-id <id>', "introspection: this gateway's client id there"))
    .addOption(
      flag(
        '--introspection-secret-file <file>',
        'introspection: a file holding the client secret (or SESSIONGATE_INTROSPECTION_CLIENT_SECRET)',
      ),
    )
    .addOption(
      flag('--introspection-cache <duration>', 'introspection: the longest an answer is remembered (less when the token expires sooner)')
        .argParser(parser(parseDuration))
        .default(60_000, '60s'),
    )
    .addOption(flag('--jwks-file <file>', 'jwt: a key set (JWKS) file, read at start-up, instead of --jwks-uri'))
    .addOption(flag('--issuer <iss>', 'jwt: an accepted token issuer (repeatable)').argParser(collect))
    .addOption(flag('--audience <aud>', 'jwt: an accepted token audience (repeatable; default: the public URL)').argParser(collect))
    .addOption(flag('--required-scope <scope>', 'jwt: a scope every token must carry (repeatable)').argParser(collect))
    .addOption(
      flag('--clock-skew <duration>', 'jwt: tolerated clock difference for exp and nbf')
        .argParser(parser(parseDuration))
        .default(60_000, '60s'),
    )
    .addOption(
      flag('--principal-claim <claim>', "jwt: the claim naming the person (with the issuer: the session's principal)").default('sub'),
    )
    .addOption(
      flag(
        '--identity-header <NAME=CLAIM>',
        "jwt: send the caller's verified CLAIM upstream in header NAME (repeatable; a client's NAME is dropped)",
      ).argParser(parseIdentityHeader),
    )
    .addOption(
      flag(
        '--upstream-token-exchange <url>',
        "exchange each caller's token at this token endpoint (RFC 8693) for their own token for the upstream",
      ).argParser(parser(parseHttpUrl)),
    )
    .addOption(flag('--token-exchange-client-id <id>', "token exchange: this gateway's client id"))
    .addOption(
      flag(
        '--token-exchange-secret-file <file>',
        'token exchange: a file holding the client secret (or SESSIONGATE_TOKEN_EXCHANGE_CLIENT_SECRET)',
      ),
    )
    .addOption(flag('--token-exchange-audience <aud>', 'token exchange: the audience asked for (default: the upstream URL)'))
    .addOption(flag('--token-exchange-scope <scope>', 'token exchange: the scope asked for (default: the server decides)'))
    .addOption(
      flag(
        '--upstream-credentials <kind>',
        "each person's own credential for the upstream (needs --auth oauth and --secrets-key-file): oauth (they connect their account there) or secret (they paste a key on their page)",
      ).choices(['oauth', 'secret']),
    )
    .addOption(
      flag(
        '--upstream-credential-meta <key>',
        "upstream credentials with --stdio: the _meta key of each request's params each person's key goes in",
      ),
    )
    .addOption(
      flag(
        '--upstream-credential-env <name>',
        "upstream credentials with --stdio: the environment variable each person's own child gets their key in (no spares)",
      ).argParser(parser(parseChildVariableName)),
    )
    .addOption(
      flag(
        '--upstream-secret-header <name>',
        'upstream credentials secret: the header each key goes in (default: authorization, as a bearer token)',
      ),
    )
    .addOption(flag('--upstream-name <name>', 'upstream credentials: the name people see on their pages (default: the upstream host)'))
    .addOption(
      flag(
        '--upstream-client-id <id>',
        "upstream credentials: this gateway's client id at the upstream's authorization server (default: registered there, RFC 7591)",
      ),
    )
    .addOption(
      flag(
        '--upstream-client-secret-file <file>',
        "upstream credentials: a file holding that client's secret (or SESSIONGATE_UPSTREAM_CLIENT_SECRET; default: a public client)",
      ),
    )
    .addOption(flag('--upstream-scope <scope>', 'upstream credentials: the scope asked for (default: the server decides)'))
    .addOption(
      flag(
        '--upstream-resource-indicator <on|off>',
        "upstream credentials: send RFC 8707's resource to the upstream's authorization server (off for one that refuses it, e.g. Entra ID; default: on)",
      ).choices(['on', 'off']),
    )
    .addOption(
      flag(
        '--upstream-authorization-server <issuer>',
        "upstream credentials: the upstream's authorization server (default: the one its RFC 9728 metadata names)",
      ).argParser(parser(parseHttpUrl)),
    )
    .addOption(
      flag('--public-url <url>', "the gateway's external MCP URL, behind a proxy (the resource id; default: where it listens)").argParser(
        parser(parseHttpUrl),
      ),
    );
}

/** Commander's option values to typed flags. */
export function gatewayFlags(values: Record<string, unknown>): GatewayFlags {
  return {
    config: values['config'] as string | undefined,
    upstream: values['upstream'] as string[] | undefined,
    servers: values['server'] as ServerSpec[] | undefined,
    namespaceSeparator: values['namespaceSeparator'] as string,
    eagerUpstreams: values['eagerUpstreams'] === true,
    upstreamIdleTimeoutMs: values['upstreamIdleTimeout'] as number,
    probeTimeoutMs: values['probeTimeout'] as number,
    stdio: values['stdio'] as [string, ...string[]] | undefined,
    stdioEnv: (values['stdioEnv'] as ChildVariable[] | undefined) ?? [],
    childIdleTimeoutMs: values['childIdleTimeout'] as number,
    childLedger: values['childLedger'] as string | undefined,
    spares: values['spares'] as number,
    maxMessageSize: values['maxMessageSize'] as number,
    upstreamConcurrency: values['upstreamConcurrency'] as number,
    upstreamShare: values['upstreamShare'] as number | undefined,
    demoUpstream: values['demoUpstream'] === true,
    demoUpstreamPort: values['demoUpstreamPort'] as number,
    audit: values['audit'] as string | undefined,
    auditRotateBytes: values['auditRotateSize'] as number | undefined,
    auditRotateMs: values['auditRotateInterval'] as number | undefined,
    auditSigningKey: values['auditSigningKey'] as string | undefined,
    auditCheckpointEvery: values['auditCheckpointEvery'] as number,
    replicaId: values['replicaId'] as string | undefined,
    metricsPort: values['metricsPort'] as number | undefined,
    otel: values['otel'] as string | true | undefined,
    otelPrincipalClaim: values['otelPrincipalClaim'] as string | undefined,
    otelTraceLink: values['otelTraceLink'] as string | undefined,
    otelMinStepMs: values['otelMinStep'] as number,
    traced: otlpWanted('TRACES', values['otel'] as string | true | undefined),
    metered: otlpWanted('METRICS', values['otel'] as string | true | undefined),
    policy: values['policy'] as string | undefined,
    curation: values['curation'] as string | undefined,
    pin: values['pin'] as PinMode | undefined,
    approvalTimeoutMs: values['approvalTimeout'] as number,
    adminToken: values['adminToken'] as string | undefined,
    upstreamEra: values['upstreamEra'] as UpstreamEra | 'auto',
    upstreamTransport: values['upstreamTransport'] as 'streamable-http' | 'sse',
    withoutCorrelationId: values['withoutCorrelationId'] as 'principal' | 'request',
    forwardHeaders: values['forwardHeader'] as string[] | undefined,
    upstreamHeaders: values['upstreamHeader'] as Record<string, string> | undefined,
    auth: values['auth'] as GatewayFlags['auth'],
    apiKeys: values['apiKeys'] as string,
    loginIssuer: values['loginIssuer'] as string | undefined,
    loginClientId: values['loginClientId'] as string | undefined,
    loginClientSecretFile: values['loginClientSecretFile'] as string | undefined,
    loginScopes: values['loginScope'] as string[] | undefined,
    loginPrompt: values['loginPrompt'] as string | undefined,
    loginParameters: values['loginParam'] as Record<string, string> | undefined,
    accessTokenTtlMs: values['accessTokenTtl'] as number,
    refreshTtlMs: values['refreshTtl'] as number,
    allowPrivateClientDocuments: values['allowPrivateClientDocuments'] === true,
    registrationsPerHour: values['registrationsPerHour'] as number,
    secretsKeyFile: values['secretsKeyFile'] as string | undefined,
    loginRecheckMs: values['loginRecheck'] as number,
    introspectionUrl: values['introspectionUrl'] as string | undefined,
    introspectionClientId: values['introspectionClientId'] as string | undefined,
    introspectionSecretFile: values['introspectionSecretFile'] as string | undefined,
    introspectionCacheMs: values['introspectionCache'] as number,
    jwksUri: values['jwksUri'] as string | undefined,
    jwksFile: values['jwksFile'] as string | undefined,
    issuers: values['issuer'] as string[] | undefined,
    audiences: values['audience'] as string[] | undefined,
    requiredScopes: values['requiredScope'] as string[] | undefined,
    clockSkewMs: values['clockSkew'] as number,
    principalClaim: values['principalClaim'] as string,
    publicUrl: values['publicUrl'] as string | undefined,
    identityHeaders: values['identityHeader'] as Record<string, string> | undefined,
    upstreamCredentials: values['upstreamCredentials'] as 'oauth' | 'secret' | undefined,
    upstreamSecretHeader: values['upstreamSecretHeader'] as string | undefined,
    upstreamCredentialMeta: values['upstreamCredentialMeta'] as string | undefined,
    upstreamCredentialEnv: values['upstreamCredentialEnv'] as string | undefined,
    upstreamName: values['upstreamName'] as string | undefined,
    upstreamClientId: values['upstreamClientId'] as string | undefined,
    upstreamClientSecretFile: values['upstreamClientSecretFile'] as string | undefined,
    upstreamScope: values['upstreamScope'] as string | undefined,
    upstreamResourceIndicator: values['upstreamResourceIndicator'] as 'on' | 'off' | undefined,
    upstreamAuthorizationServer: values['upstreamAuthorizationServer'] as string | undefined,
    auditIdentityClaim: values['auditIdentityClaim'] as string,
    upstreamTokenExchange: values['upstreamTokenExchange'] as string | undefined,
    tokenExchangeClientId: values['tokenExchangeClientId'] as string | undefined,
    tokenExchangeSecretFile: values['tokenExchangeSecretFile'] as string | undefined,
    tokenExchangeAudience: values['tokenExchangeAudience'] as string | undefined,
    tokenExchangeScope: values['tokenExchangeScope'] as string | undefined,
  };
}

function parseToken(text: string): string {
  if (!/^[\x21-\x7e]{16,}$/.test(text)) throw new InvalidArgumentError('the admin token must be at least 16 visible ASCII characters');
  return text;
}

/** "COMMAND ARGS" with single or double quotes for arguments holding spaces. */

function parseWholeNumber(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new Error(`invalid count "${text}" (a whole number)`);
  return Number(text);
}

function collect(text: string, previous: string[] = []): string[] {
  return [...previous, text];
}

function parseHttpUrl(text: string): string {
  if (isHttpUrl(text)) return new URL(text).href;
  throw new Error(`invalid URL "${text}" (use e.g. https://idp.example.com/.well-known/jwks.json)`);
}

/** An issuer: an http(s) URL kept exactly as written (issuers are compared as text, OpenID Connect Discovery 4.3). */
function parseIssuerUrl(text: string): string {
  if (isHttpUrl(text)) return text;
  throw new Error(`invalid issuer "${text}" (use it exactly as the provider names itself, e.g. https://login.example.com)`);
}

function parseSeparator(text: string): string {
  const problem = separatorProblem(text);
  if (problem) throw new Error(`invalid separator "${text}": it ${problem}`);
  return text;
}

/** A child's variable by name alone (`NAME`, without a value: the gateway gives it). */
function parseChildVariableName(text: string): string {
  const variable = parseChildVariable(text);
  if (!variable.copy) throw new InvalidArgumentError(`"${text}": give the variable's name alone`);
  return variable.name;
}

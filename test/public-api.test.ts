/**
 * The package's public surface (README, "Public API"): every entry point is an explicit list,
 * internals stay out, and the gateway the CLI composes can be assembled from it alone (issue
 * "structure"). Reads the build (`npm test` builds first), as an installed package would.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { EXCHANGE_CLIENT, startAuthorizationServer, type AuthorizationServer } from './helpers/authorization-server.js';
import { startProcess, type ServerProcess } from './helpers/processes.js';
import { freePort } from './helpers/redis.js';

const ENTRY_POINTS: Record<string, string> = {
  sessiongate: '../dist/index.js',
  'sessiongate/server': '../dist/server/index.js',
  'sessiongate/client': '../dist/client/index.js',
  'sessiongate/gateway': '../dist/gateway/index.js',
  'sessiongate/auth': '../dist/auth/index.js',
  'sessiongate/policy': '../dist/policy/index.js',
  'sessiongate/store/sqlite': '../dist/store/sqlite/index.js',
  'sessiongate/store/redis': '../dist/store/redis/index.js',
};

/** The runtime exports, by entry point: a change here is a change of the public API (and of the README). */
const PUBLIC: Record<string, string[]> = {
  sessiongate: [
    'ANSWERS',
    'CLIENT_SESSION_ID',
    'CachingStore',
    'DEFAULT_NEGOTIATED_REVISION',
    'FAILURES',
    'HANDSHAKE_REVISIONS',
    'JSONRPC',
    'LAST_EVENT_ID',
    'LATEST_HANDSHAKE_REVISION',
    'MCP_METHOD',
    'MCP_NAME',
    'MemoryStore',
    'PROTOCOL_VERSION',
    'SESSIONLESS_REVISION',
    'SESSION_ID',
    'SessionManager',
    'SessiongateError',
    'StateSlot',
    'errorResponse',
    'guarded',
    'isHandshakeRevision',
    'isSessionScoped',
    'isSessionlessRevision',
    'isSessiongateError',
    'isWellFormedSessionId',
    'mintSessionId',
    'sessionTag',
    'stateSlot',
    'systemClock',
  ],
  'sessiongate/auth': [
    'TokenExchange',
    'WELL_KNOWN_RESOURCE',
    'apiKeyAuthenticator',
    'bearerToken',
    'challengeHeader',
    'hashApiKey',
    'introspectionAuthenticator',
    'jwtAuthenticator',
    'newApiKey',
    'protectedResourceMetadata',
    'resourceMetadataUrl',
  ],
  'sessiongate/server': [
    'DEFAULT_MAX_BODY_BYTES',
    'DEFAULT_RESUME',
    'LOCAL_HOSTNAMES',
    'SessionState',
    'bindMcpServer',
    'createSessionServer',
    'RequestKey',
    'REQUEST_TRACE',
    'traceOf',
    'compose',
    'isStreamReply',
    'listen',
    'responseOf',
    'shutDown',
    'toFetchHandler',
    'toNodeHandler',
    'withCursor',
  ],
  'sessiongate/client': [
    'CLIENT_ERRORS',
    'SessionClient',
    'SessionClientError',
    'SessionClientTransport',
    'SessionExpiredError',
    'bridgeStdio',
  ],
  'sessiongate/gateway': [
    'AuditLog',
    'createGateway',
    'resourceServer',
    'authorizationServer',
    'ChildLedger',
    'CredentialBroker',
    'Connections',
    'DEFAULT_UPSTREAM_CONCURRENCY',
    'FairSlots',
    'GatewayMetrics',
    'RecentEvents',
    'adminApi',
    'auditStage',
    'audited',
    'defaultLedgerDirectory',
    'eraRouter',
    'fanout',
    'federation',
    'httpProbe',
    'httpUpstream',
    'identityView',
    'sessionCreated',
    'sessionEnded',
    'sseUpstream',
    'stdioProbe',
    'stdioUpstream',
    'otlpTracing',
    'CURATION_SCHEMA',
    'LOCK_FORMAT',
    'ToolPins',
    'exportLock',
    'importLock',
    'lockText',
    'parseLock',
    'CurationError',
    'compileCuration',
    'curationStage',
    'parseCuration',
    'readCurationFile',
    'tracing',
    'otlpMetrics',
    'PrometheusProducer',
    'tracedUpstream',
    'tracingStage',
    'upstreamSpans',
    'W3C_PROPAGATOR',
  ],
  'sessiongate/policy': [
    'GOVERNED_METHODS',
    'POLICY_ERRORS',
    'POLICY_SCHEMA',
    'PolicyError',
    'PolicyEvaluator',
    'RateLimiter',
    'callOf',
    'callerOf',
    'compilePolicy',
    'parsePolicy',
    'policyGate',
    'policyStage',
    'readPolicyFile',
    'storeLimiter',
    'verdictOf',
  ],
  'sessiongate/store/sqlite': ['SqliteStore'],
  'sessiongate/store/redis': ['RedisStore'],
};

describe('the public API', () => {
  it.each(Object.keys(ENTRY_POINTS))('%s exports exactly its documented list', async (entry) => {
    const exported = Object.keys((await import(ENTRY_POINTS[entry]!)) as object).sort();
    expect(exported).toEqual([...PUBLIC[entry]!].sort());
  });

  it('the README lists every public runtime export', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Public API'));
    for (const [entry, names] of Object.entries(PUBLIC)) {
      expect(section).toContain(`\`${entry}\``);
      for (const name of names) expect([entry, name, section.includes(name)]).toEqual([entry, name, true]);
    }
  });

  it('publint finds nothing wrong with the package as published (exports, files, types), in strict mode', async () => {
    const { publint } = await import('publint');
    const { messages } = await publint({ pkgDir: new URL('..', import.meta.url).pathname, strict: true });
    expect(messages).toEqual([]);
  });

  it('audited() keeps the methods of a class-based application', async () => {
    const { audited } = (await import(ENTRY_POINTS['sessiongate/gateway']!)) as typeof import('../src/gateway/index.js');
    class Application {
      handle(): Promise<never> {
        return Promise.reject(new Error('not called here'));
      }
      receive(): void {}
      openStream(): undefined {
        return undefined;
      }
    }
    const events: unknown[] = [];
    const wrapped = audited(new Application(), { write: (event) => void events.push(event) });
    expect(typeof wrapped.receive).toBe('function');
    expect(typeof wrapped.openStream).toBe('function');
    expect(wrapped.openStream!({} as never)).toBeUndefined();
  });
});

describe('the gateway assembled from public exports only', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-exports-'));
  const token = 'public-api-admin-token';
  let as: AuthorizationServer | undefined;
  let upstream: ServerProcess | undefined;
  let gateway: ServerProcess | undefined;
  afterAll(async () => {
    await gateway?.kill();
    await upstream?.kill();
    await as?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('createGateway serves the official SDK client with JWTs, exchanged upstream tokens, audit, metrics, readiness, the admin API and the console', async () => {
    as = await startAuthorizationServer();
    upstream = await startProcess('sdk-stateful-server.mjs', [String(await freePort())]);
    const audit = join(dir, 'audit.jsonl');
    gateway = await startProcess(
      'gateway-from-exports.mjs',
      [upstream.url, audit, as.issuer, as.jwksUri, `${as.issuer}/exchange`, EXCHANGE_CLIENT.id],
      { SESSIONGATE_ADMIN_TOKEN: token, EXCHANGE_CLIENT_SECRET: EXCHANGE_CLIENT.secret },
    );
    const base = gateway.url.replace(/\/mcp$/, '');
    // A stranger is refused and pointed at the metadata, which names the identity provider.
    const stranger = await fetch(gateway.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(stranger.status).toBe(401);
    expect(stranger.headers.get('www-authenticate')).toContain('resource_metadata=');
    const metadata = (await (await fetch(`${base}/.well-known/oauth-protected-resource/mcp`)).json()) as Record<string, unknown>;
    expect(metadata).toMatchObject({ resource: gateway.url, authorization_servers: [as.issuer] });

    const alice = await as.accessToken('alice', gateway.url);
    const client = new Client({ name: 'exports', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(gateway.url), { requestInit: { headers: { authorization: `Bearer ${alice}` } } }),
    );
    const echoed = await client.callTool({ name: 'echo', arguments: { text: 'from exports' } });
    expect(JSON.stringify(echoed)).toContain('from exports');
    const seen = await client.callTool({ name: 'headers', arguments: {} });
    const upstreamAuthorization = (JSON.parse((seen.content as { text: string }[])[0]!.text) as Record<string, string>)['authorization'];
    expect(upstreamAuthorization).toMatch(/^Bearer /);
    expect(upstreamAuthorization).not.toContain(alice);
    expect(as.exchanges).toBe(1);

    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/sessiongate_requests_total\{method="tools\/call",outcome="result"\} 2/);
    const ready = await fetch(`${base}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { ready: true }]);
    const admin = { headers: { authorization: `Bearer ${token}` } };
    const listed = (await (await fetch(`${base}/admin/sessions`, admin)).json()) as { sessions: { identity: unknown }[] };
    expect(listed.sessions).toHaveLength(1);
    expect(listed.sessions[0]!.identity).toMatchObject({ subject: 'alice', issuer: as.issuer });
    const page = await fetch(`${base}/console/`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, expect.stringContaining('text/html')]);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    await client.close();
    await expect.poll(() => readFileSync(audit, 'utf8')).toContain('"method":"tools/call"');
  });
});

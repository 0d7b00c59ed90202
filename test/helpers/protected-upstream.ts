/**
 * An MCP server that acts as whoever's token it gets, behind an OAuth authorization server of
 * its own, as a GitHub or Linear server is: the official SDK's McpServer over its Streamable
 * HTTP transport, refusing any request without a valid bearer token for it (JWT access tokens
 * checked with jose: issuer, audience = its URL), and publishing its RFC 9728 metadata; the
 * authorization server is `oidc-provider` (the certified implementation) with RFC 7591
 * registration, RFC 8707 resource indicators, rotated refresh tokens and revocation. Both on
 * loopback. What the test reads: the subject and the raw token of every call, and how many
 * refresh grants the authorization server answered.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import Provider from 'oidc-provider';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';

export interface ProtectedUpstream {
  /** The MCP endpoint (the resource its tokens are for). */
  url: string;
  /** The authorization server's issuer. */
  issuer: string;
  /** Each call of `whoami`: the subject its token named and the token itself. */
  calls: { subject: string; token: string }[];
  /** Every access and refresh token its authorization server issued (what must never be found in clear elsewhere). */
  issued: string[];
  /** Refresh-token grants answered; and those refused. */
  refreshes: { granted: number; refused: number };
  /** The RFC 8707 `resource` of every authorization and token request it answered (undefined: not sent). */
  resourcesAsked: (string | undefined)[];
  /** Grants revoked at its revocation endpoint (RFC 7009). */
  revocations: number;
  /** Clients registered with it (RFC 7591). */
  registrations: number;
  /** Forgets every client registered with it (as a server that lost or expired them). */
  forgetClients(): Promise<void>;
  /** People who may sign in at the authorization server (login name -> true); deleting one refuses their refresh. */
  people: Set<string>;
  /** Lifetime of access tokens issued from now on, seconds. */
  accessTokenSeconds: number;
  close(): Promise<void>;
}

export async function startProtectedUpstream(): Promise<ProtectedUpstream> {
  const mcpServer = await listening(createServer());
  const asServer = await listening(createServer());
  const url = `http://127.0.0.1:${port(mcpServer)}/mcp`;
  const issuer = `http://127.0.0.1:${port(asServer)}`;
  const registered: string[] = [];
  // eslint-disable-next-line prefer-const -- made below, once the provider knows its resource
  let provider: Provider;
  const upstream: ProtectedUpstream = {
    url,
    issuer,
    calls: [],
    issued: [],
    refreshes: { granted: 0, refused: 0 },
    revocations: 0,
    resourcesAsked: [],
    registrations: 0,
    forgetClients: async () => {
      // The model's storage (its static `adapter`, which @types/oidc-provider does not declare).
      const clients = provider.Client as unknown as { adapter: { destroy(id: string): Promise<void> } };
      for (const id of registered.splice(0)) await clients.adapter.destroy(id);
    },
    people: new Set(),
    accessTokenSeconds: 600,
    close: async () => {
      for (const server of [mcpServer, asServer]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };

  provider = new Provider(issuer, {
    features: {
      registration: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => url,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resource) => {
          if (resource !== url) throw new Error(`unknown resource ${resource}`);
          return { scope: 'mcp', audience: url, accessTokenTTL: upstream.accessTokenSeconds, accessTokenFormat: 'jwt' };
        },
      },
    },
    scopes: ['mcp'],
    pkce: { required: () => true },
    issueRefreshToken: (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: () => false,
    // A person no longer in `people` is unknown from then on: their refresh is refused (invalid_grant).
    // Its subjects are the login names typed at its own form (the test signs in there as someone).
    findAccount: (_ctx, id) => (upstream.people.has(id) ? { accountId: id, claims: () => ({ sub: id }) } : undefined),
    cookies: { keys: ['upstream-cookie-key-0123456789'] },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, RefreshToken: 3600 },
  });
  // As the client sent it (the provider's own params hold its default resource when none was sent).
  provider.on('grant.success', (ctx) => {
    const sent = (ctx.oidc as unknown as { body?: Record<string, unknown> }).body?.['resource'];
    upstream.resourcesAsked.push(typeof sent === 'string' ? sent : undefined);
    if (ctx.oidc.params?.['grant_type'] === 'refresh_token') upstream.refreshes.granted++;
    const body = ctx.body as Record<string, unknown> | undefined;
    for (const name of ['access_token', 'refresh_token']) if (typeof body?.[name] === 'string') upstream.issued.push(body[name]);
  });
  provider.on('grant.revoked', () => void upstream.revocations++);
  provider.on('registration_create.success', (_ctx, client) => {
    upstream.registrations++;
    registered.push(client.clientId);
  });
  provider.on('grant.error', (ctx) => {
    if (ctx.oidc.params?.['grant_type'] === 'refresh_token') upstream.refreshes.refused++;
  });
  const handle = provider.callback();
  asServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const asked = new URL(req.url ?? '/', issuer);
    if (asked.pathname === '/auth') upstream.resourcesAsked.push(asked.searchParams.get('resource') ?? undefined);
    void handle(req, res);
  });

  const keys = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const metadataPath = '/.well-known/oauth-protected-resource/mcp';
  const challenge = `Bearer resource_metadata="http://127.0.0.1:${port(mcpServer)}${metadataPath}"`;
  const transports = new Map<string, StreamableHTTPServerTransport>();
  mcpServer.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      if (req.url === metadataPath) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ resource: url, authorization_servers: [issuer] }));
        return;
      }
      const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
      try {
        if (token === undefined) throw new Error('no token');
        await jwtVerify(token, keys, { issuer, audience: url });
      } catch {
        res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' }).end('{"error":"invalid_token"}');
        return;
      }
      const body = req.method === 'POST' ? await jsonBody(req) : undefined;
      const sessionId = req.headers['mcp-session-id'];
      let transport = typeof sessionId === 'string' ? transports.get(sessionId) : undefined;
      if (!transport && req.method === 'POST' && isInitializeRequest(body)) {
        const made = new StreamableHTTPServerTransport({
          sessionIdGenerator: randomUUID,
          onsessioninitialized: (id) => void transports.set(id, made),
        });
        const mcp = new McpServer({ name: 'protected-upstream', version: '1.0.0' });
        mcp.registerTool('whoami', {}, async (extra) => {
          const bearer = /^Bearer (\S+)$/.exec(String(extra.requestInfo?.headers['authorization'] ?? ''))?.[1] ?? '';
          const { payload } = await jwtVerify(bearer, keys, { issuer, audience: url });
          upstream.calls.push({ subject: String(payload.sub), token: bearer });
          return { content: [{ type: 'text', text: String(payload.sub) }] };
        });
        await mcp.connect(made);
        transport = made;
      }
      if (!transport) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no such session"}');
        return;
      }
      await transport.handleRequest(req, res, body);
    })();
  });
  return upstream;
}

function listening(server: Server): Promise<Server> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function port(server: Server): number {
  return (server.address() as AddressInfo).port;
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString() || 'null');
}

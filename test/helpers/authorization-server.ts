/**
 * An OAuth 2.1 authorization server for tests, on loopback, built from the official SDK's own
 * server-side pieces (`mcpAuthRouter`: RFC 8414 metadata, dynamic client registration,
 * /authorize with PKCE, /token, /revoke): what a client meets in the real flow. The user is
 * whoever the test says is signed in, and consents at once (the redirect carries the code).
 * Access tokens are JWTs signed with a key `jose` generated for this run, published at /jwks,
 * for the resource the client named (RFC 8707); refresh tokens rotate. A token exchange endpoint
 * (RFC 8693, /exchange) serves one confidential client, `EXCHANGE_CLIENT`.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import type { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import { mcpAuthRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { OAuthClientInformationFull, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import express from 'express';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { signingKey } from './identity-provider.js';

/** The client allowed to exchange tokens at /exchange, and its secret. */
export const EXCHANGE_CLIENT = { id: 'the-gateway', secret: 'exchange-secret-0123' };

interface Grant {
  clientId: string;
  subject: string;
  /** What the client asked for; a token carries those the user is allowed (`allowedScopes`) when it is issued. */
  scopes: string[];
  resource: string | undefined;
}

export interface AuthorizationServer {
  issuer: string;
  jwksUri: string;
  /** Who signs in at /authorize next. */
  user: string;
  /** Refresh-token grants served so far. */
  refreshes: number;
  /** Token exchanges granted so far. */
  exchanges: number;
  /** false: /exchange answers 503. */
  exchangeUp: boolean;
  /** The scopes a person may be granted (absent: any asked for); read at each issue, refreshes included. */
  allowedScopes: Map<string, string[]>;
  /** People whose tokens /exchange refuses (invalid_target). */
  refusedExchange: Set<string>;
  /** An access token for `subject` and `audience`, as /token would issue it. */
  accessToken(subject: string, audience: string, scope?: string): Promise<string>;
  /** An access token like the server's own, already expired (what a client holds an hour later). */
  expiredToken(subject: string, audience: string): Promise<string>;
  close(): Promise<void>;
}

export async function startAuthorizationServer(): Promise<AuthorizationServer> {
  const key = await signingKey('ES256');
  const clients = new Map<string, OAuthClientInformationFull>();
  const codes = new Map<string, Grant & { challenge: string; redirectUri: string }>();
  const refreshTokens = new Map<string, Grant>();
  const app = express();
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const granted = (grant: Grant): string[] => {
    const allowed = state.allowedScopes.get(grant.subject);
    return allowed ? grant.scopes.filter((scope) => allowed.includes(scope)) : grant.scopes;
  };
  const accessToken = (grant: Grant, expiresIn: string | number): Promise<string> =>
    new SignJWT({ scope: granted(grant).join(' '), client_id: grant.clientId })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setSubject(grant.subject)
      .setAudience(grant.resource ?? issuer)
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime(expiresIn)
      .sign(key.privateKey);

  const tokensFor = async (grant: Grant): Promise<OAuthTokens> => {
    const refresh = randomUUID();
    refreshTokens.set(refresh, grant);
    return {
      access_token: await accessToken(grant, '5m'),
      token_type: 'bearer',
      expires_in: 300,
      refresh_token: refresh,
      scope: granted(grant).join(' '),
    };
  };

  const clientsStore: OAuthRegisteredClientsStore = {
    getClient: (id) => clients.get(id),
    registerClient: (client) => {
      const registered: OAuthClientInformationFull = {
        ...client,
        client_id: randomUUID(),
        client_id_issued_at: Math.floor(Date.now() / 1000),
      };
      clients.set(registered.client_id, registered);
      return registered;
    },
  };

  const provider: OAuthServerProvider = {
    clientsStore,
    async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res) {
      const code = randomUUID();
      codes.set(code, {
        clientId: client.client_id,
        subject: state.user,
        scopes: params.scopes ?? [],
        resource: params.resource?.href,
        challenge: params.codeChallenge,
        redirectUri: params.redirectUri,
      });
      const target = new URL(params.redirectUri);
      target.searchParams.set('code', code);
      if (params.state !== undefined) target.searchParams.set('state', params.state);
      res.redirect(target.href);
    },
    async challengeForAuthorizationCode(_client, code) {
      const grant = codes.get(code);
      if (!grant) throw new Error('unknown code');
      return grant.challenge;
    },
    async exchangeAuthorizationCode(client, code, _verifier, _redirectUri, resource) {
      const grant = codes.get(code);
      codes.delete(code);
      if (!grant || grant.clientId !== client.client_id) throw new Error('unknown code');
      return tokensFor({ ...grant, resource: resource?.href ?? grant.resource });
    },
    async exchangeRefreshToken(client, refreshToken, _scopes, resource) {
      const grant = refreshTokens.get(refreshToken);
      refreshTokens.delete(refreshToken); // rotated: each refresh token works once
      if (!grant || grant.clientId !== client.client_id) throw new Error('unknown refresh token');
      state.refreshes++;
      return tokensFor({ ...grant, resource: resource?.href ?? grant.resource });
    },
    async verifyAccessToken(token): Promise<AuthInfo> {
      const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [key.publicJwk] }), { issuer });
      return { token, clientId: String(payload['client_id']), scopes: String(payload['scope'] ?? '').split(' '), expiresAt: payload.exp };
    },
  };

  app.get('/jwks', (_req, res) => void res.json({ keys: [key.publicJwk] }));
  app.post('/exchange', express.urlencoded({ extended: false }), async (req, res) => {
    const form = req.body as Record<string, string | undefined>;
    const basic = `Basic ${Buffer.from(`${EXCHANGE_CLIENT.id}:${EXCHANGE_CLIENT.secret}`).toString('base64')}`;
    if (!state.exchangeUp) return void res.status(503).end();
    if (req.headers.authorization !== basic) return void res.status(401).json({ error: 'invalid_client' });
    if (form['grant_type'] !== 'urn:ietf:params:oauth:grant-type:token-exchange' || !form['subject_token'] || !form['audience'])
      return void res.status(400).json({ error: 'invalid_request' });
    let subject: string;
    try {
      const { payload } = await jwtVerify(form['subject_token'], createLocalJWKSet({ keys: [key.publicJwk] }), { issuer });
      subject = payload.sub!;
    } catch {
      return void res.status(400).json({ error: 'invalid_grant' });
    }
    if (state.refusedExchange.has(subject)) return void res.status(400).json({ error: 'invalid_target' });
    state.exchanges++;
    const grant = { clientId: EXCHANGE_CLIENT.id, subject, scopes: ['upstream'], resource: form['audience'] };
    res.json({
      access_token: await accessToken(grant, '5m'),
      issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      token_type: 'Bearer',
      expires_in: 300,
    });
  });
  app.use(mcpAuthRouter({ provider, issuerUrl: new URL(issuer) }));

  const state: AuthorizationServer = {
    issuer,
    jwksUri: `${issuer}/jwks`,
    user: 'alice',
    refreshes: 0,
    exchanges: 0,
    exchangeUp: true,
    refusedExchange: new Set(),
    allowedScopes: new Map(),
    accessToken: (subject, audience, scope = 'mcp') =>
      accessToken({ clientId: 'any', subject, scopes: scope.split(' '), resource: audience }, '5m'),
    expiredToken: (subject, audience) =>
      accessToken({ clientId: 'any', subject, scopes: [], resource: audience }, Math.floor(Date.now() / 1000) - 600),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
  return state;
}

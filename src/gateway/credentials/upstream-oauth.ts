/**
 * @module gateway/credentials/upstream-oauth
 * The gateway as the OAuth client of an upstream server's authorization server
 * (docs/CREDENTIALS.md, "Connecting"): found from the server's RFC 9728 metadata and the
 * authorization server's RFC 8414 metadata (or given), known by a client id the operator gives,
 * else by the client ID metadata document the gateway publishes (CIMD, where the server takes
 * one and the gateway's public URL is https), else by RFC 7591 registration on first use (kept
 * in the store's grants, so replicas and restarts share one), the authorization code flow with PKCE (S256), RFC 8707's `resource` (the
 * upstream's URL) in the authorization and every token request, RFC 9207's `iss` checked when
 * the server sends it.
 */
import { createHash } from 'node:crypto';
import { request } from 'undici';
import { basicClientAuth } from '../../auth/client-form.js';
import type { GrantStore } from '../../store/grant-store.js';
import { sha256 } from '../authorization-server/grant-records.js';
import type { UpstreamTokens } from './vault.js';

export interface UpstreamOAuthOptions {
  /** The upstream server's URL: the resource tokens are asked for. */
  resource: string;
  /** Its authorization server's issuer. Default: the first the server's RFC 9728 metadata names. */
  authorizationServer?: string | undefined;
  /** A client registered there beforehand. Default: registered dynamically (RFC 7591) on first use. */
  clientId?: string | undefined;
  /** That client's secret (a confidential client). Default: none (a public client). */
  clientSecret?: string | undefined;
  /** The scope asked for. Default: none (the server's default). */
  scope?: string | undefined;
  /**
   * Send RFC 8707's `resource` (the upstream's URL) in the authorization and token requests.
   * Off for a server that refuses the parameter (Entra ID does), which then decides the token's
   * audience itself. Default true.
   */
  resourceIndicator?: boolean | undefined;
  /** How long a call to the authorization server may take, ms. Default 10,000. */
  timeoutMs?: number | undefined;
}

interface ServerMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  registration_endpoint?: string;
  revocation_endpoint?: string;
  client_id_metadata_document_supported?: boolean;
  authorization_response_iss_parameter_supported?: boolean;
}

interface Client {
  clientId: string;
  clientSecret?: string | undefined;
  /** The client id is the gateway's metadata document: the server reads it, nothing is registered. */
  document?: true;
}

/** The authorization server refused a grant (a code, a refresh token): the person must connect again. */
export class GrantRefused extends Error {
  constructor(readonly reason: string) {
    super(`the authorization server refused the grant (${reason})`);
    this.name = 'GrantRefused';
  }
}

/** The authorization server could not be asked, or answered nothing usable. */
export class AuthorizationServerUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthorizationServerUnavailable';
  }
}

/** How long a registration made here is kept (the authorization server may forget it sooner: then it is made again). */
const REGISTRATION_KEPT_MS = 365 * 24 * 3600_000;
/** The most an authorization server's (or the upstream's metadata) answer may take: they are small JSON objects. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** Errors meaning "not this grant" (RFC 6749 section 5.2), as opposed to "the server is broken". */
const REFUSALS: ReadonlySet<unknown> = new Set(['invalid_grant', 'invalid_target', 'invalid_scope', 'unauthorized_client']);

export class UpstreamOAuth {
  readonly #options: UpstreamOAuthOptions;
  readonly #grants: GrantStore;
  readonly #redirectUri: () => string;
  readonly #documentUrl: () => string | undefined;
  #metadata: Promise<ServerMetadata> | undefined;
  #client: Promise<Client> | undefined;

  /**
   * `redirectUri`: the gateway's callback (known once it listens); `documentUrl`: where the
   * gateway publishes its client metadata document (undefined while its public URL is not https).
   */
  constructor(
    options: UpstreamOAuthOptions,
    grants: GrantStore,
    redirectUri: () => string,
    documentUrl: () => string | undefined = () => undefined,
  ) {
    this.#options = options;
    this.#grants = grants;
    this.#redirectUri = redirectUri;
    this.#documentUrl = documentUrl;
  }

  /** Where the person's browser goes to authorize the gateway for them. */
  async authorizationUrl(state: string, verifier: string): Promise<string> {
    const metadata = await this.#discovered();
    const { clientId } = await this.#registered();
    const url = new URL(metadata.authorization_endpoint);
    const parameters: Record<string, string> = {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: this.#redirectUri(),
      state,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...this.#resourceParameter(),
      ...(this.#options.scope !== undefined && { scope: this.#options.scope }),
    };
    for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
    return url.href;
  }

  /** RFC 8707's `resource`, unless the operator turned it off for this server. */
  #resourceParameter(): { resource?: string } {
    return this.#options.resourceIndicator === false ? {} : { resource: this.#options.resource };
  }

  /** RFC 9207: the `iss` of an authorization response, when present (or required), is the server's. */
  async issuerMatches(iss: string | null): Promise<boolean> {
    const metadata = await this.#discovered();
    if (iss === null) return metadata.authorization_response_iss_parameter_supported !== true;
    return iss === metadata.issuer;
  }

  /** The tokens the authorization code is for. */
  exchangeCode(code: string, verifier: string): Promise<UpstreamTokens> {
    return this.#tokens({ grant_type: 'authorization_code', code, redirect_uri: this.#redirectUri(), code_verifier: verifier });
  }

  /** New tokens for a refresh token (the same refresh token kept when the server sends none). */
  async refresh(refreshToken: string): Promise<UpstreamTokens> {
    const tokens = await this.#tokens({ grant_type: 'refresh_token', refresh_token: refreshToken });
    return { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken };
  }

  /** Tells the authorization server a token is no longer wanted (RFC 7009), when it has an endpoint for it; failures are ignored. */
  async revoke(token: string): Promise<void> {
    const metadata = await this.#discovered().catch(() => undefined);
    if (!metadata?.revocation_endpoint) return;
    await this.#post(metadata.revocation_endpoint, { token }).catch(() => undefined);
  }

  async #tokens(form: Record<string, string>): Promise<UpstreamTokens> {
    const metadata = await this.#discovered();
    const { status, body } = await this.#post(metadata.token_endpoint, { ...form, ...this.#resourceParameter() });
    const error = body?.['error'];
    if (error === 'invalid_client' || status === 401) {
      // The operator's client refused: their configuration is wrong, not the person's grant.
      if (this.#options.clientId !== undefined)
        throw new AuthorizationServerUnavailable(
          "the authorization server refused the gateway's client (check --upstream-client-id and its secret)",
        );
      // Its own document refused: nothing to register again.
      if ((await this.#registered()).document)
        throw new AuthorizationServerUnavailable("the authorization server refused the gateway's client metadata document");
      // A client this gateway registered and the server no longer knows: registered again at the
      // next connection; the person's grant was that client's, so it is gone too.
      await this.#forgetRegistration(metadata);
      throw new GrantRefused('invalid_client');
    }
    if (status === 400 && REFUSALS.has(error)) throw new GrantRefused(String(error));
    const accessToken = body?.['access_token'];
    const tokenType = body?.['token_type'];
    if (status !== 200 || typeof accessToken !== 'string' || !/^[\x21-\x7e]+$/.test(accessToken))
      throw new AuthorizationServerUnavailable(`the authorization server answered ${status} without a usable access_token`);
    if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer')
      throw new AuthorizationServerUnavailable(`the authorization server issued a ${String(tokenType)} token, not a bearer token`);
    const expiresIn = body?.['expires_in'];
    const refreshToken = body?.['refresh_token'];
    const scope = body?.['scope'];
    return {
      accessToken,
      ...(typeof refreshToken === 'string' && refreshToken !== '' && { refreshToken }),
      ...(typeof expiresIn === 'number' && expiresIn > 0 && { expiresAt: Date.now() + expiresIn * 1000 }),
      ...(typeof scope === 'string' && { scope }),
    };
  }

  async #post(url: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
    const client = await this.#registered();
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    if (client.clientSecret === undefined) form = { ...form, client_id: client.clientId };
    else headers['authorization'] = basicClientAuth({ clientId: client.clientId, clientSecret: client.clientSecret });
    return this.#fetchJson(url, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
  }

  async #fetchJson(
    url: string,
    init: { method?: 'GET' | 'POST'; headers?: Record<string, string>; body?: string } = {},
  ): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
    const timeout = this.#options.timeoutMs ?? 10_000;
    const answer = await request(url, { ...init, headersTimeout: timeout, bodyTimeout: timeout }).catch((error: unknown) => {
      throw new AuthorizationServerUnavailable(`${new URL(url).origin} could not be reached: ${(error as Error).message}`);
    });
    const body = await boundedJson(answer.body);
    const isObject = typeof body === 'object' && body !== null && !Array.isArray(body);
    return { status: answer.statusCode, body: isObject ? (body as Record<string, unknown>) : undefined };
  }

  #discovered(): Promise<ServerMetadata> {
    this.#metadata ??= this.#discover();
    // A server down now is asked again next time.
    this.#metadata.catch(() => (this.#metadata = undefined));
    return this.#metadata;
  }

  async #discover(): Promise<ServerMetadata> {
    const issuer = this.#options.authorizationServer ?? (await this.#issuerFromResource());
    for (const url of wellKnown(issuer, ['oauth-authorization-server', 'openid-configuration'])) {
      const { status, body } = await this.#fetchJson(url);
      if (status !== 200 || !body) continue;
      const metadata = body as unknown as ServerMetadata;
      // RFC 8414 section 3.3: the metadata is the issuer's own, exactly.
      if (metadata.issuer !== issuer)
        throw new AuthorizationServerUnavailable(
          `the authorization server at ${url} calls itself ${String(metadata.issuer)}, not ${issuer}`,
        );
      if (typeof metadata.authorization_endpoint !== 'string' || typeof metadata.token_endpoint !== 'string')
        throw new AuthorizationServerUnavailable(`the authorization server ${issuer} publishes no authorization or token endpoint`);
      return metadata;
    }
    throw new AuthorizationServerUnavailable(`the authorization server ${issuer} publishes no RFC 8414 metadata`);
  }

  /** RFC 9728: the authorization server the upstream names in its protected resource metadata. */
  async #issuerFromResource(): Promise<string> {
    const { resource } = this.#options;
    for (const url of wellKnown(resource, ['oauth-protected-resource'])) {
      const { status, body } = await this.#fetchJson(url);
      if (status !== 200 || !body) continue;
      // RFC 9728 section 3.3: the metadata is for this very resource.
      if (body['resource'] !== resource)
        throw new AuthorizationServerUnavailable(`the upstream's resource metadata is for ${String(body['resource'])}, not ${resource}`);
      const servers = body['authorization_servers'];
      if (Array.isArray(servers) && typeof servers[0] === 'string') return servers[0];
      break;
    }
    throw new AuthorizationServerUnavailable(`the upstream ${resource} names no authorization server in its RFC 9728 metadata`);
  }

  #registered(): Promise<Client> {
    const { clientId, clientSecret } = this.#options;
    if (clientId !== undefined) return Promise.resolve({ clientId, clientSecret });
    this.#client ??= this.#register();
    this.#client.catch(() => (this.#client = undefined));
    return this.#client;
  }

  #registrationKey(metadata: ServerMetadata): string {
    return `upstream-client:${sha256(JSON.stringify([metadata.issuer, this.#redirectUri()]))}`;
  }

  /** Forgets a registration made here (never a client id the operator gave), on every replica. */
  async #forgetRegistration(metadata: ServerMetadata): Promise<void> {
    if (this.#options.clientId !== undefined) return;
    this.#client = undefined;
    const key = this.#registrationKey(metadata);
    const kept = await this.#grants.get(key, Date.now());
    if (kept !== undefined) await this.#grants.swap(key, kept, undefined, 0, Date.now());
  }

  /**
   * The gateway's metadata document where the server takes one (MCP authorization 2025-11-25
   * prefers it to registration: nothing to keep, nothing to lose); else RFC 7591, once for
   * every replica: the first registration kept in the store is the one used.
   */
  async #register(): Promise<Client> {
    const metadata = await this.#discovered();
    const document = this.#documentUrl();
    if (metadata.client_id_metadata_document_supported === true && document !== undefined) return { clientId: document, document: true };
    const key = this.#registrationKey(metadata);
    const kept = await this.#grants.get(key, Date.now());
    if (kept !== undefined) return JSON.parse(kept) as Client;
    if (!metadata.registration_endpoint)
      throw new AuthorizationServerUnavailable(
        `the authorization server ${metadata.issuer} offers no registration: give the gateway's client id there (--upstream-client-id)`,
      );
    const { status, body } = await this.#fetchJson(metadata.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({
        client_name: 'Sessiongate',
        redirect_uris: [this.#redirectUri()],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
      }),
    });
    const clientId = body?.['client_id'];
    if (status !== 201 && status !== 200) throw new AuthorizationServerUnavailable(`registration at ${metadata.issuer} answered ${status}`);
    if (typeof clientId !== 'string') throw new AuthorizationServerUnavailable(`registration at ${metadata.issuer} gave no client_id`);
    const secret = body?.['client_secret'];
    const client: Client = { clientId, ...(typeof secret === 'string' && { clientSecret: secret }) };
    // Two replicas registering at once: the first kept is the one both use.
    const now = Date.now();
    if (await this.#grants.add(key, JSON.stringify(client), now + REGISTRATION_KEPT_MS, now)) return client;
    const first = await this.#grants.get(key, now);
    return first === undefined ? client : (JSON.parse(first) as Client);
  }
}

/** An answer's JSON, read up to MAX_ANSWER_BYTES (past it, or not JSON: undefined). */
async function boundedJson(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      size += chunk.length;
      if (size > MAX_ANSWER_BYTES) {
        body.destroy();
        return undefined;
      }
      chunks.push(chunk);
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** RFC 8414 / RFC 9728 well-known URLs: the suffix inserted before the path, then at the root. */
function wellKnown(base: string, suffixes: readonly string[]): string[] {
  const url = new URL(base);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const urls: string[] = [];
  for (const suffix of suffixes) {
    urls.push(`${url.origin}/.well-known/${suffix}${path}`);
    if (path !== '')
      urls.push(suffix === 'openid-configuration' ? `${url.origin}${path}/.well-known/${suffix}` : `${url.origin}/.well-known/${suffix}`);
  }
  return urls;
}

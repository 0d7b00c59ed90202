/**
 * @module gateway/authorization-server/login-provider
 * The identity provider people sign in at (docs/AUTH.md, "Sign-in, consent, codes"): the
 * gateway is its OpenID Connect client with a static client id, the authorization code flow
 * with PKCE (S256) and a nonce, and the ID token verified by `jose` against the provider's
 * published keys (issuer, audience, expiry, nonce). What the provider says about the person
 * (issuer, subject, groups, email, roles) becomes the identity of every token the gateway
 * issues, so policy rules written for the provider's tokens keep working.
 */
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, type JWTPayload, jwtVerify } from 'jose';
import { request } from 'undici';
import { basicClientAuth } from '../../auth/client-form.js';
import type { Person } from './grant-records.js';
import { OAuthError } from './oauth-error.js';

export interface LoginProviderOptions {
  /** The provider's issuer; its metadata is read from `/.well-known/openid-configuration` under it. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Scopes asked of the provider. Default 'openid email profile'. */
  scopes?: readonly string[];
  /** The `prompt` sent (e.g. 'login', 'select_account', 'consent'). Default: none. */
  prompt?: string;
  /** More authorization parameters some providers need (e.g. Entra's `domain_hint`). Default: none. */
  extraParameters?: Readonly<Record<string, string>>;
  /** How long a call to the provider may take, ms. Default 10,000. */
  timeoutMs?: number;
}

interface ProviderMetadata {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  token_endpoint_auth_methods_supported?: string[];
}

/** Claims of an ID token that describe the token, not the person: not carried into the gateway's tokens. */
const TOKEN_CLAIMS = new Set([
  'iss',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'nonce',
  'at_hash',
  'c_hash',
  's_hash',
  'azp',
  'auth_time',
  'sid',
  'acr',
  'amr',
]);
/** The person's claims kept, at most (bytes of JSON): they travel in every access token. */
const MAX_CLAIMS_BYTES = 4096;

export class LoginProvider {
  readonly #options: LoginProviderOptions;
  #metadata: Promise<{ metadata: ProviderMetadata; keys: ReturnType<typeof createRemoteJWKSet> }> | undefined;

  constructor(options: LoginProviderOptions) {
    this.#options = options;
  }

  get issuer(): string {
    return this.#options.issuer;
  }

  /** Where the browser goes to sign in. */
  async authorizationUrl(redirectUri: string, state: string, nonce: string, verifier: string): Promise<string> {
    const { metadata } = await this.#discovered();
    const url = new URL(metadata.authorization_endpoint);
    const parameters: Record<string, string> = {
      ...this.#options.extraParameters,
      response_type: 'code',
      client_id: this.#options.clientId,
      redirect_uri: redirectUri,
      scope: (this.#options.scopes ?? ['openid', 'email', 'profile']).join(' '),
      state,
      nonce,
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...(this.#options.prompt !== undefined && { prompt: this.#options.prompt }),
    };
    for (const [name, value] of Object.entries(parameters)) url.searchParams.set(name, value);
    return url.href;
  }

  /**
   * The person the provider's `code` is for, and the provider's refresh token when it gave one
   * (with `offline_access`); a thrown `access_denied` when the provider or its ID token says no.
   */
  async signIn(code: string, redirectUri: string, nonce: string, verifier: string): Promise<{ person: Person; refreshToken?: string }> {
    const { status, body } = await this.#tokenRequest({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
      code_verifier: verifier,
    });
    if (status !== 200 || typeof body?.['id_token'] !== 'string') {
      const said = typeof body?.['error'] === 'string' ? body['error'] : `HTTP ${status}`;
      throw new OAuthError('access_denied', `the identity provider did not issue an ID token (${said})`);
    }
    const person = await this.#verified(body['id_token'], nonce);
    const refreshToken = body['refresh_token'];
    return { person, ...(typeof refreshToken === 'string' && refreshToken !== '' && { refreshToken }) };
  }

  /**
   * Asks the provider again about `person` with its refresh token: the person as it now describes
   * them (a new ID token, when it sends one) and the refresh token to keep. A thrown
   * `invalid_grant` when the provider no longer signs the person in; `temporarily_unavailable`
   * when it cannot say.
   */
  async refresh(refreshToken: string, person: Person): Promise<{ person: Person; refreshToken: string }> {
    const { status, body } = await this.#tokenRequest({ grant_type: 'refresh_token', refresh_token: refreshToken });
    if (status >= 500 || body === undefined)
      throw new OAuthError('temporarily_unavailable', `the identity provider could not say whether ${person.subject} is still signed in`);
    if (status !== 200) throw new OAuthError('invalid_grant', 'the identity provider no longer signs this person in');
    const idToken = body['id_token'];
    const now = typeof idToken === 'string' ? await this.#verified(idToken, undefined) : person;
    if (now.subject !== person.subject) throw new OAuthError('invalid_grant', "the identity provider's new ID token names another person");
    const next = body['refresh_token'];
    return { person: now, refreshToken: typeof next === 'string' && next !== '' ? next : refreshToken };
  }

  async #tokenRequest(form: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
    const { metadata } = await this.#discovered();
    const { clientId, clientSecret } = this.#options;
    const postOnly =
      metadata.token_endpoint_auth_methods_supported?.length === 1 &&
      metadata.token_endpoint_auth_methods_supported[0] === 'client_secret_post';
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' };
    const fields = postOnly ? { ...form, client_id: clientId, client_secret: clientSecret } : form;
    if (!postOnly) headers['authorization'] = basicClientAuth({ clientId, clientSecret });
    const timeout = this.#options.timeoutMs ?? 10_000;
    const answer = await request(metadata.token_endpoint, {
      method: 'POST',
      headers,
      body: new URLSearchParams(fields).toString(),
      headersTimeout: timeout,
      bodyTimeout: timeout,
    }).catch((error: unknown) => {
      throw new OAuthError('temporarily_unavailable', `the identity provider could not be reached: ${(error as Error).message}`);
    });
    const body = (await answer.body.json().catch(() => undefined)) as Record<string, unknown> | undefined;
    return { status: answer.statusCode, body: typeof body === 'object' && body !== null && !Array.isArray(body) ? body : undefined };
  }

  /** The person an ID token names, checked (a nonce only at sign-in: a refresh's ID token has none). */
  async #verified(idToken: string, nonce: string | undefined): Promise<Person> {
    const { metadata, keys } = await this.#discovered();
    const { clientId } = this.#options;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, keys, { issuer: metadata.issuer, audience: clientId }));
    } catch (error) {
      throw new OAuthError('access_denied', `the identity provider's ID token is not valid: ${(error as Error).message}`);
    }
    // OpenID Connect Core 3.1.3.7: with several audiences, the token must say it was issued to us.
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload['azp'] !== clientId)
      throw new OAuthError('access_denied', "the identity provider's ID token was issued to another party (azp)");
    if (nonce !== undefined && payload['nonce'] !== nonce)
      throw new OAuthError('access_denied', "the identity provider's ID token is for another sign-in (nonce)");
    if (typeof payload.sub !== 'string' || payload.sub === '')
      throw new OAuthError('access_denied', "the identity provider's ID token names no subject");
    return { issuer: metadata.issuer, subject: payload.sub, claims: personClaims(payload) };
  }

  #discovered(): Promise<{ metadata: ProviderMetadata; keys: ReturnType<typeof createRemoteJWKSet> }> {
    this.#metadata ??= this.#discover();
    // A provider down at the first sign-in is asked again at the next.
    this.#metadata.catch(() => (this.#metadata = undefined));
    return this.#metadata;
  }

  async #discover(): Promise<{ metadata: ProviderMetadata; keys: ReturnType<typeof createRemoteJWKSet> }> {
    const issuer = this.#options.issuer.replace(/\/$/, '');
    const timeout = this.#options.timeoutMs ?? 10_000;
    const answer = await request(`${issuer}/.well-known/openid-configuration`, { headersTimeout: timeout, bodyTimeout: timeout }).catch(
      (error: unknown) => {
        throw new OAuthError('temporarily_unavailable', `the identity provider could not be reached: ${(error as Error).message}`);
      },
    );
    const metadata = (await answer.body.json().catch(() => undefined)) as ProviderMetadata | undefined;
    if (answer.statusCode !== 200 || !metadata?.authorization_endpoint || !metadata.token_endpoint || !metadata.jwks_uri)
      throw new OAuthError('temporarily_unavailable', 'the identity provider published no usable OpenID configuration');
    // OpenID Connect Discovery section 4.3: the issuer in the document is exactly the one asked
    // for. Exactly: it becomes the people's issuer, which policy rules and the default issuer
    // compare as text, so "https://idp/" configured for an "https://idp" would match no rule.
    if (metadata.issuer !== this.#options.issuer)
      throw new OAuthError(
        'temporarily_unavailable',
        `the identity provider calls itself ${metadata.issuer}, not ${this.#options.issuer} as configured (the issuer must be given exactly)`,
      );
    return { metadata, keys: createRemoteJWKSet(new URL(metadata.jwks_uri)) };
  }
}

/** The ID token's claims about the person (not about the token), bounded. */
function personClaims(payload: JWTPayload): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(payload)) if (!TOKEN_CLAIMS.has(name)) claims[name] = value;
  if (JSON.stringify(claims).length <= MAX_CLAIMS_BYTES) return claims;
  // Too much to carry in every token: the names policy most often uses, and the subject.
  const kept: Record<string, unknown> = {};
  for (const name of ['sub', 'email', 'name', 'preferred_username', 'groups', 'roles']) if (name in claims) kept[name] = claims[name];
  return kept;
}

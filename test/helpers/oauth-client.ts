/**
 * An `OAuthClientProvider` as an MCP host writes one for the official SDK: it keeps what the
 * SDK's flow hands it (registration, tokens, the PKCE verifier) in memory, and plays the user's
 * browser: it follows the authorization URL, and the redirect back carries the code.
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

export class TestOAuthClient implements OAuthClientProvider {
  readonly redirectUrl = 'http://127.0.0.1:9/callback';
  readonly clientMetadata: OAuthClientMetadata = {
    client_name: 'sessiongate test host',
    redirect_uris: [this.redirectUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  authorizationUrl: URL | undefined;
  #client: OAuthClientInformationMixed | undefined;
  #tokens: OAuthTokens | undefined;
  #verifier: string | undefined;

  clientInformation(): OAuthClientInformationMixed | undefined {
    return this.#client;
  }
  saveClientInformation(information: OAuthClientInformationMixed): void {
    this.#client = information;
  }
  tokens(): OAuthTokens | undefined {
    return this.#tokens;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.#tokens = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string): void {
    this.#verifier = verifier;
  }
  codeVerifier(): string {
    if (this.#verifier === undefined) throw new Error('no authorization under way');
    return this.#verifier;
  }

  /** The user's browser: opens the authorization URL; the authorization server redirects back with the code. */
  async authorize(): Promise<string> {
    if (!this.authorizationUrl) throw new Error('the flow did not ask for authorization');
    const answer = await fetch(this.authorizationUrl, { redirect: 'manual' });
    const location = answer.headers.get('location');
    const code = location ? new URL(location).searchParams.get('code') : null;
    if (!code) throw new Error(`no code in the redirect (HTTP ${answer.status})`);
    return code;
  }
}

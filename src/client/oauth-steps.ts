/**
 * @module client/oauth-steps
 * The client side of MCP authorization with the official SDK's own `auth()` flow, so an
 * `OAuthClientProvider` written for the SDK's transport works here unchanged (docs/AUTH.md,
 * "The client"): every request carries the provider's access token; a 401 runs the flow
 * (discovery from the challenge's `resource_metadata`, registration, a refresh or a redirect to
 * the user) and the request is sent again, once; a 403 `insufficient_scope` asks for the
 * scopes the challenge names (step-up), once per challenge. A redirect ends the call with the
 * SDK's `UnauthorizedError`; `finishAuth(code)` completes it. The session is kept throughout:
 * a server that binds sessions to the person (sessiongate's gateway) accepts the new token on
 * the same session.
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { SessionClientError } from './errors.js';

export class OAuthSteps {
  readonly #provider: OAuthClientProvider;
  readonly #serverUrl: URL;
  #resourceMetadataUrl: URL | undefined;
  #scope: string | undefined;
  /** The last 403 challenge a step-up answered: the same one again is final. */
  #steppedUpFor: string | undefined;

  constructor(provider: OAuthClientProvider, serverUrl: URL) {
    this.#provider = provider;
    this.#serverUrl = serverUrl;
  }

  /** The Authorization header value for the next request, when the provider holds a token. */
  async authorization(): Promise<string | undefined> {
    const tokens = await this.#provider.tokens();
    return tokens ? `Bearer ${tokens.access_token}` : undefined;
  }

  /**
   * After a failed request: true when the flow obtained a token worth sending the request again
   * with; false when the error is not a challenge this can answer. Throws the SDK's
   * `UnauthorizedError` when the user must authorize first.
   */
  async answer(error: unknown): Promise<boolean> {
    if (!(error instanceof SessionClientError) || error.challenge === undefined) return false;
    const params = challengeParams(error.challenge);
    if (error.status === 403) {
      if (params['error'] !== 'insufficient_scope' || this.#steppedUpFor === error.challenge) return false;
      this.#steppedUpFor = error.challenge;
    } else if (error.status !== 401) {
      return false;
    }
    if (params['resource_metadata'] && URL.canParse(params['resource_metadata']))
      this.#resourceMetadataUrl = new URL(params['resource_metadata']);
    if (params['scope']) this.#scope = params['scope'];
    await this.#run(undefined);
    return true;
  }

  /** A request went through: a later 403 with the same challenge may step up again (the user's grants may have changed). */
  settled(): void {
    this.#steppedUpFor = undefined;
  }

  /** Completes a flow the user authorized: exchanges the code the redirect brought for tokens. */
  finish(authorizationCode: string): Promise<void> {
    return this.#run(authorizationCode);
  }

  async #run(authorizationCode: string | undefined): Promise<void> {
    // The SDK's flow is loaded when a flow runs: a client (or a gateway's upstream link) that
    // never meets a challenge does not load the SDK and its zod at start-up.
    const { auth, UnauthorizedError } = await import('@modelcontextprotocol/sdk/client/auth.js');
    const result = await auth(this.#provider, {
      serverUrl: this.#serverUrl,
      ...(authorizationCode === undefined ? {} : { authorizationCode }),
      ...(this.#resourceMetadataUrl ? { resourceMetadataUrl: this.#resourceMetadataUrl } : {}),
      ...(this.#scope === undefined ? {} : { scope: this.#scope }),
    });
    if (result !== 'AUTHORIZED') throw new UnauthorizedError('the user must authorize this client (redirectToAuthorization was called)');
  }
}

/** The parameters of a `Bearer` challenge (RFC 6750, section 3): quoted or token values. */
export function challengeParams(header: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of header.matchAll(/([\w-]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g)) {
    params[match[1]!.toLowerCase()] = match[2] === undefined ? match[3]! : match[2].replace(/\\(.)/g, '$1');
  }
  return params;
}

/**
 * @module auth/token-exchange
 * OAuth 2.0 Token Exchange (RFC 8693) for an upstream: the caller's access token (for this
 * resource, never forwarded: A7 of docs/AUTH.md) is exchanged at the authorization server for
 * a token whose audience is the upstream, so each person reaches the upstream with their own
 * scoped credential. A token is held per person until shortly before it expires (never past the
 * caller's own token), one exchange at a time per person; bounded, oldest first out. An
 * authorization server that cannot be reached fails closed (503); one that refuses the
 * exchange is a 403 for that person.
 */
import { SessiongateError } from '../protocol/failures.js';
import { checkOptions, option, type OptionsSchema, required } from '../protocol/options.js';
import { basicClientAuth, postForm } from './client-form.js';
import { checkerUnavailable } from './token-rules.js';

export interface TokenExchangeOptions {
  /** The authorization server's token endpoint. Required. */
  url: string | URL;
  /** This gateway's client id there. Required. */
  clientId: string;
  /** Its client secret (from a file or the environment). Required. */
  clientSecret: string;
  /** Whom the new tokens are for (`audience`; also sent as `resource` when it is a URL). Required. */
  audience: string;
  /** The scope to ask for. Default: none (the server's default). */
  scope?: string;
  /** How long an exchange may take, ms. Default 5,000. */
  timeoutMs?: number;
  /** What a client is told to wait (Retry-After, seconds) while the server cannot be reached. Default 10. */
  retryAfterSeconds?: number;
  /** People whose tokens are held. Default 10,000. */
  cacheSize?: number;
}

export const tokenExchangeSchema = {
  url: required(option.httpUrl),
  clientId: required(option.string),
  clientSecret: required(option.string),
  audience: required(option.string),
  scope: option.string,
  timeoutMs: option.positiveInteger,
  retryAfterSeconds: option.positiveInteger,
  cacheSize: option.positiveInteger,
} satisfies OptionsSchema;

const GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
/** A held token is renewed this long before it expires (a request under way must not carry an expired one). */
const RENEW_BEFORE_MS = 30_000;
/** Errors that mean "not for this person", as opposed to "the exchange is broken" (RFC 6749, 5.2; RFC 8693, 2.2.2). */
const REFUSALS: ReadonlySet<unknown> = new Set(['invalid_grant', 'invalid_target', 'invalid_scope', 'unauthorized_client']);

interface Held {
  authorization: string;
  renewAt: number;
}

export class TokenExchange {
  readonly #options: TokenExchangeOptions;
  readonly #client: string;
  readonly #held = new Map<string, Held>();
  readonly #exchanging = new Map<string, Promise<void>>();

  constructor(options: TokenExchangeOptions) {
    checkOptions(tokenExchangeSchema, options);
    this.#options = options;
    this.#client = basicClientAuth(options);
  }

  /**
   * Makes sure a token for `principal` is held: undefined at once when one is, else the
   * exchange of `subjectToken` (valid until `notAfter`, ms since the epoch, when known).
   */
  ready(principal: string, subjectToken: string, notAfter: number | undefined, now = Date.now()): Promise<void> | undefined {
    const held = this.#held.get(principal);
    if (held !== undefined && held.renewAt > now) return undefined;
    let exchanging = this.#exchanging.get(principal);
    if (exchanging === undefined) {
      exchanging = this.#exchange(principal, subjectToken, notAfter, now).finally(() => this.#exchanging.delete(principal));
      this.#exchanging.set(principal, exchanging);
    }
    return exchanging;
  }

  /** The `Authorization` value for `principal`'s requests upstream, once `ready` has settled. */
  authorization(principal: string): string | undefined {
    return this.#held.get(principal)?.authorization;
  }

  async #exchange(principal: string, subjectToken: string, notAfter: number | undefined, now: number): Promise<void> {
    const { audience, scope } = this.#options;
    const form: Record<string, string> = {
      grant_type: GRANT,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN,
      requested_token_type: ACCESS_TOKEN,
      audience,
      ...(URL.canParse(audience) ? { resource: audience } : {}),
      ...(scope === undefined ? {} : { scope }),
    };
    const retryAfter = this.#options.retryAfterSeconds ?? 10;
    let answer;
    try {
      answer = await postForm(this.#options.url, form, this.#client, this.#options.timeoutMs ?? 5000);
    } catch (error) {
      throw checkerUnavailable(retryAfter, error);
    }
    const body = answer.body ?? {};
    if (answer.status === 400 && REFUSALS.has(body['error']))
      throw new SessiongateError('SG_UPSTREAM_TOKEN_REFUSED', undefined, { data: { reason: body['error'] } });
    const token = body['access_token'];
    if (answer.status !== 200 || typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token))
      throw checkerUnavailable(retryAfter, new Error(`the token exchange answered ${answer.status} without a usable access_token`));
    const lifetimeMs = typeof body['expires_in'] === 'number' ? body['expires_in'] * 1000 : 60_000;
    const expires = Math.min(now + lifetimeMs, notAfter ?? Infinity);
    this.#hold(principal, { authorization: `Bearer ${token}`, renewAt: expires - Math.min(RENEW_BEFORE_MS, lifetimeMs / 2) });
  }

  #hold(principal: string, held: Held): void {
    this.#held.delete(principal);
    this.#held.set(principal, held);
    if (this.#held.size > (this.#options.cacheSize ?? 10_000)) this.#held.delete(this.#held.keys().next().value!);
  }
}

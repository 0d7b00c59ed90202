/**
 * @module auth/bearer
 * The bearer token of an `Authorization` header (RFC 6750, section 2.1): the scheme is
 * case-insensitive, the token is token68 characters. Anything else is no token.
 */

const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

/** The token, or undefined when the header is absent or not a bearer credential. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (authorization === undefined) return undefined;
  return BEARER.exec(authorization)?.[1];
}

/**
 * @module auth
 * `sessiongate/auth`: a resource server for `createSessionServer({ authenticate })` and the
 * gateway: verified bearer tokens, the person as the session's principal, RFC 9728 metadata
 * and the challenges that point clients to it (docs/AUTH.md).
 */
export { apiKeyAuthenticator, type ApiKey, type ApiKeyAuthenticatorOptions, hashApiKey, newApiKey } from './api-key-authenticator.js';
export { introspectionAuthenticator, type IntrospectionAuthenticatorOptions } from './introspection-authenticator.js';
export {
  jwtAuthenticator,
  type JwtAuthenticatorOptions,
  type Authenticator,
  type AuthRequest,
  type VerifiedIdentity,
} from './jwt-authenticator.js';
export { protectedResourceMetadata, resourceMetadataUrl, type ResourceMetadataOptions, WELL_KNOWN_RESOURCE } from './resource-metadata.js';
export { challengeHeader, type Challenge } from './challenge.js';
export { bearerToken } from './bearer.js';
export { TokenExchange, type TokenExchangeOptions } from './token-exchange.js';

/**
 * @module cli/gateway/gateway-token-exchange
 * `--upstream-token-exchange URL`: each caller reaches the HTTP upstream with a token of their
 * own for it, exchanged for the token they sent the gateway (auth/token-exchange.ts); the
 * caller's token itself never goes upstream (docs/AUTH.md, A7).
 */
import { TokenExchange } from '../../auth/token-exchange.js';
import type { GatewayFlags } from './gateway-flags.js';
import { secretFrom } from './secret.js';

export const TOKEN_EXCHANGE_SECRET_VARIABLE = 'SESSIONGATE_TOKEN_EXCHANGE_CLIENT_SECRET';

/** The exchange the flags ask for (undefined without the flag); throws a one-line reason when they do not fit. */
export function upstreamTokenExchange(flags: GatewayFlags, upstreamUrl: string): TokenExchange | undefined {
  const url = flags.upstreamTokenExchange;
  if (url === undefined) return undefined;
  if (flags.auth !== 'jwt' && flags.auth !== 'introspection')
    throw new Error('--upstream-token-exchange needs --auth jwt or introspection (a verified token to exchange)');
  if (!flags.tokenExchangeClientId) throw new Error('--upstream-token-exchange needs --token-exchange-client-id');
  const clientSecret = secretFrom(flags.tokenExchangeSecretFile, TOKEN_EXCHANGE_SECRET_VARIABLE);
  if (!clientSecret) throw new Error(`--upstream-token-exchange needs --token-exchange-secret-file or ${TOKEN_EXCHANGE_SECRET_VARIABLE}`);
  return new TokenExchange({
    url,
    clientId: flags.tokenExchangeClientId,
    clientSecret,
    audience: flags.tokenExchangeAudience ?? upstreamUrl,
    ...(flags.tokenExchangeScope === undefined ? {} : { scope: flags.tokenExchangeScope }),
  });
}

/**
 * @module gateway/upstreams/http/upstream-tokens
 * `--upstream-token-exchange`: before a caller's message goes upstream, a token of theirs for
 * the upstream is held (auth/token-exchange.ts); the header policy then sends it as the
 * upstream's `Authorization` (header-policy.ts). Waiting here, before the application, means a
 * refused or failed exchange is answered with its own status (403, 503) and nothing reaches the
 * upstream without a token. A held token costs no wait.
 */
import { bearerToken } from '../../../auth/bearer.js';
import type { TokenExchange } from '../../../auth/token-exchange.js';
import type { JsonRpcMessage } from '../../../protocol/jsonrpc.js';
import { SessiongateError } from '../../../protocol/failures.js';
import type { McpApplication, RequestContext } from '../../../server/application.js';
import { compose, type Stage } from '../../../server/stage.js';

/** The exchange stage: a caller's own upstream token is held before anything of theirs goes upstream. */
export function upstreamTokenStage(exchange: TokenExchange): Stage {
  const ready = (context: RequestContext): Promise<void> | undefined => {
    const token = bearerToken(context.header('authorization'));
    // Authentication ran first (docs/AUTH.md): a caller without a verified token is not here.
    if (token === undefined || context.principal === null) return Promise.reject(new SessiongateError('SG_UNAUTHENTICATED'));
    const exp = context.identity?.claims['exp'];
    return exchange.ready(context.principal, token, typeof exp === 'number' ? exp * 1000 : undefined);
  };
  return {
    name: 'upstream-tokens',
    handle(request, context, next) {
      const exchanging = ready(context);
      return exchanging ? exchanging.then(() => next(request, context)) : next(request, context);
    },
    async receive(message, context, next) {
      const exchanging = ready(context);
      if (exchanging) await exchanging;
      await next(message, context);
    },
    openStream(context, next) {
      // A GET stream cannot wait: it uses the token held (its session's requests got one),
      // and a stream opened first after a restart gets one here for its reconnection.
      ready(context)?.catch(() => {});
      return next(context);
    },
    // An adopted call resumes its upstream stream with a token for this caller, fetched first.
    adopt: (call, context, next) => afterReady(ready(context), () => next(call, context)),
  };
}

/** `application` behind the exchange stage alone. */
export function withUpstreamTokens(application: McpApplication, exchange: TokenExchange): McpApplication {
  return compose(application, [upstreamTokenStage(exchange)]);
}

/** The messages of `open()`, opened once `ready` settled (a token exchange), or at once. */
async function* afterReady(
  ready: Promise<unknown> | undefined,
  open: () => AsyncIterable<JsonRpcMessage> | undefined,
): AsyncGenerator<JsonRpcMessage> {
  await ready;
  const messages = open();
  if (messages) yield* messages;
}

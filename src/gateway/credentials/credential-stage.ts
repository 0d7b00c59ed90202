/**
 * @module gateway/credentials/credential-stage
 * Per-person credentials on the request path (docs/CREDENTIALS.md, "On each call"): before a
 * caller's message goes upstream, a token of theirs for it is held (credential-broker.ts); the
 * header policy then sends it as the upstream's `Authorization`. A caller who has not connected
 * the server gets MCP's URLElicitationRequiredError naming the page that connects it, and
 * nothing of theirs reaches the upstream; never another person's token, never a shared one.
 * After the policy: a denied call costs no vault read.
 */
import { randomBytes } from 'node:crypto';
import { errorResponse } from '../../protocol/answers.js';
import { SessiongateError } from '../../protocol/failures.js';
import type { JsonRpcMessage, JsonRpcRequest, JsonRpcResponse } from '../../protocol/jsonrpc.js';
import type { RequestContext } from '../../server/application.js';
import type { Stage } from '../../server/stage.js';
import { AuthorizationServerUnavailable } from './upstream-oauth.js';
import { ConnectionRequired, type CredentialBroker } from './credential-broker.js';

export function credentialStage(broker: CredentialBroker): Stage {
  const ready = (context: RequestContext): Promise<void> | undefined => {
    const principal = context.identity?.principal;
    // Authentication ran first (docs/AUTH.md): a caller without a verified identity is not here.
    if (principal === undefined) return Promise.reject(new SessiongateError('SG_UNAUTHENTICATED'));
    return broker.ready(principal);
  };
  const refusal = (request: JsonRpcRequest, error: unknown): JsonRpcResponse => {
    if (error instanceof ConnectionRequired) return connectionRequired(request, broker.server, broker.connectUrl);
    if (error instanceof AuthorizationServerUnavailable) return errorResponse(request.id, 'SG_CREDENTIALS_UNAVAILABLE');
    throw error;
  };
  return {
    name: 'credentials',
    handle(request, context, next) {
      const loading = ready(context);
      if (!loading) return next(request, context);
      return loading.then(
        () => next(request, context),
        (error: unknown) => refusal(request, error),
      );
    },
    async receive(message, context, next) {
      const loading = ready(context);
      // A notification of a caller with no connection has nowhere to go: the upstream would refuse it.
      if (
        loading &&
        !(await loading.then(
          () => true,
          () => false,
        ))
      )
        return;
      await next(message, context);
    },
    openStream(context, next) {
      // A GET stream cannot wait: it uses the token held (its session's requests got one).
      ready(context)?.catch(() => {});
      return next(context);
    },
    adopt: (call, context, next) => afterReady(ready(context), () => next(call, context)),
  };
}

/**
 * MCP's URLElicitationRequiredError (2025-11-25): the page that connects the server, under an
 * id the client may show; the call can be sent again once the person connected.
 */
export function connectionRequired(request: JsonRpcRequest, server: string, url: string): JsonRpcResponse {
  const elicitationId = randomBytes(16).toString('base64url');
  const message = `${server} acts with your own account there: open ${url} to connect it, then try again.`;
  return errorResponse(request.id, 'SG_CONNECTION_REQUIRED', message, {
    elicitations: [{ mode: 'url', elicitationId, url, message: `Connect ${server} to your account` }],
  });
}

/** The messages of `open()`, opened once `ready` settled, or at once; nothing when it failed. */
async function* afterReady(
  ready: Promise<unknown> | undefined,
  open: () => AsyncIterable<JsonRpcMessage> | undefined,
): AsyncGenerator<JsonRpcMessage> {
  if (
    ready &&
    !(await ready.then(
      () => true,
      () => false,
    ))
  )
    return;
  const messages = open();
  if (messages) yield* messages;
}

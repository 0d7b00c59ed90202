/**
 * @module gateway/credentials/credential-stage
 * Per-person credentials on the request path (docs/CREDENTIALS.md, "On each call"): before a
 * caller's message goes upstream, a token of theirs for it is held (credential-broker.ts); the
 * upstream then sends it: an HTTP upstream's header policy as `Authorization`, a stdio
 * upstream in a `_meta` key or its child's environment. A caller who has not connected
 * the server is asked to connect it in the call (URL-mode elicitation: on the call's stream in a
 * session, in 2026-07-28's multi-round-trip form without one) when their client can open URLs,
 * else gets MCP's URLElicitationRequiredError naming the page; either way nothing of
 * theirs reaches the upstream before they connected: never another person's token, never a
 * shared one.
 * After the policy: a denied call costs no vault read.
 */
import { randomBytes } from 'node:crypto';
import { errorResponse } from '../../protocol/answers.js';
import { isSessionlessRevision } from '../../protocol/revisions.js';
import { META } from '../../protocol/sessionless-meta.js';
import { SessiongateError } from '../../protocol/failures.js';
import { isObject, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../../protocol/jsonrpc.js';
import { isStreamReply, type Reply, type RequestContext } from '../../server/application.js';
import { ClientQuestions } from '../../server/client-questions.js';
import type { Stage } from '../../server/stage.js';
import { AuthorizationServerUnavailable } from './upstream-oauth.js';
import { ConnectionRequired, type CredentialBroker } from './credential-broker.js';
import type { Connections } from './connections.js';
import { policyRefusal } from '../../policy/policy-errors.js';

/** What every id of the stage's questions starts with (server/client-questions.ts). */
const QUESTION_ID = 'sessiongate-connect-';
/** How long a person asked in the call has to connect. */
export const CONNECT_WAIT_MS = 10 * 60_000;
/** How often the vault is looked at while a person connects (their connection may land on any replica). */
const CONNECTED_POLL_MS = 1000;

/**
 * The stage for `connections`; with a federation, `serverOf` names the server a request goes
 * to, and only a request for a server people connect waits for (or asks for) a connection.
 */
export function credentialStage(connections: Connections, serverOf?: (request: JsonRpcRequest) => string | undefined): Stage {
  const questions = new ClientQuestions(QUESTION_ID, CONNECT_WAIT_MS);
  const keys = connections.brokers.flatMap((broker) => (broker.metaKey === undefined ? [] : [broker.metaKey]));
  const single = serverOf === undefined ? connections.brokers[0] : undefined;
  /**
   * The request as it goes on: a `_meta` key a credential goes in, removed (only the upstream
   * puts the caller's own there: stdio-upstream.ts, `personalMeta`), so a client cannot pose
   * as anyone with a key of its own.
   */
  const bare = <T extends JsonRpcMessage>(message: T): T => keys.reduce((stripped, key) => withoutKey(stripped, key), message);
  /**
   * The caller's credentials loaded: for one server (undefined at once when held); for a
   * federation's message to no one server, every server's they connected (a list then shows
   * the servers they connected: docs/CREDENTIALS.md, "Several servers").
   */
  const ready = (context: RequestContext, broker: CredentialBroker | undefined): Promise<void> | undefined => {
    const principal = context.identity?.principal;
    // Authentication ran first (docs/AUTH.md): a caller without a verified identity is not here.
    if (principal === undefined) return Promise.reject(new SessiongateError('SG_UNAUTHENTICATED'));
    return broker ? broker.ready(principal) : connections.warm(principal);
  };
  const refusal = (request: JsonRpcRequest, error: unknown, broker: CredentialBroker): JsonRpcResponse => {
    if (error instanceof ConnectionRequired) return connectionRequired(request, broker.server, broker.connectUrl);
    if (error instanceof AuthorizationServerUnavailable) return errorResponse(request.id, 'SG_CREDENTIALS_UNAVAILABLE');
    throw error;
  };
  return {
    name: 'credentials',
    handle(asked, context, next) {
      // A 2026-07-28 retry brings the answer to the connect question back: it goes no further.
      const { request, answer } = withoutConnectAnswer(asked);
      const server = serverOf?.(request);
      const broker = single ?? connections.broker(server);
      // A connection the policy forbids this person is not used, whether or not they made it.
      const forbidden = broker && context.identity && broker.refusal(context.identity);
      if (forbidden) return Promise.resolve(policyRefusal(request.id, 'SG_POLICY_DENIED', forbidden));
      const forward = (): Promise<Reply> => next(bare(request), context);
      // A federation's request for a server nobody connects needs nothing; one for no single
      // server (a list, initialize, an unlisted resource) loads every connection of the caller.
      const loading = broker || server === undefined ? ready(context, broker) : undefined;
      if (!loading) return forward();
      if (!broker) return loading.then(forward);
      return loading.then(forward, (error: unknown): Reply | Promise<Reply> => {
        if (!(error instanceof ConnectionRequired) || request.method === 'initialize') return refusal(request, error, broker);
        // A client that can open a URL is asked in the call, which goes on once the person connected.
        if (ClientQuestions.canElicit(context, 'url')) return askToConnect(broker, questions, request, context, forward);
        if (answer === 'accept') return connected(broker, context).then((done) => (done ? forward() : refusal(request, error, broker)));
        if (answer === undefined && canAskRoundTrip(request, context)) return connectQuestion(request, broker);
        return refusal(request, error, broker);
      });
    },
    async receive(message, context, next) {
      if (questions.ours(message)) return void (await questions.take(message, context, undefined));
      // Only the gateway puts a credential in a `_meta` key: a client's own is removed.
      message = bare(message);
      const loading = ready(context, single);
      // A notification of a caller with no connection has nowhere to go: the upstream would refuse it.
      if (loading && !(await settled(loading))) return;
      await next(message, context);
    },
    openStream(context, next) {
      // A GET stream cannot wait: it uses the tokens held (its session's requests got them).
      ready(context, single)?.catch(() => {});
      return next(context);
    },
    adopt: (call, context, next) => afterReady(ready(context, single), () => next(call, context)),
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

/**
 * The call's stream when its caller has not connected and their client opens URLs (2025-11-25's
 * URL-mode elicitation): the connect page is offered by `elicitation/create`; once accepted, the
 * vault is watched until the person's connection lands (on any replica), the client is told
 * (`notifications/elicitation/complete`) and the call goes on. Declined, dismissed, or not
 * connected within CONNECT_WAIT_MS: the URLElicitationRequiredError, as a client that cannot
 * be asked gets.
 */
async function* askToConnect(
  broker: CredentialBroker,
  questions: ClientQuestions,
  request: JsonRpcRequest,
  context: RequestContext,
  forward: () => Promise<Reply>,
): AsyncGenerator<JsonRpcMessage> {
  const params = connectElicitation(broker);
  const id = questions.newId();
  const answered = questions.wait(id, context);
  yield { jsonrpc: '2.0', id, method: 'elicitation/create', params };
  const answer = await answered;
  const accepted = answer !== undefined && 'result' in answer && answer.result['action'] === 'accept';
  if (!accepted || !(await connected(broker, context))) {
    yield connectionRequired(request, broker.server, broker.connectUrl);
    return;
  }
  yield { jsonrpc: '2.0', method: 'notifications/elicitation/complete', params: { elicitationId: params.elicitationId } };
  const reply = await forward();
  if (isStreamReply(reply)) yield* reply;
  else yield reply;
}

/** The connect question's `elicitation/create` params (URL mode), asked in a session's stream or a 2026-07-28 result alike. */
function connectElicitation(broker: CredentialBroker): { mode: 'url'; elicitationId: string; url: string; message: string } {
  return {
    mode: 'url',
    elicitationId: randomBytes(16).toString('base64url'),
    url: broker.connectUrl,
    message: `Connect ${broker.server} to your account there: your calls to it act as you.`,
  };
}

/** The key of the connect question in a 2026-07-28 `input_required` result. */
const INPUT_KEY = 'sessiongate.connect';

/** A sessionless (2026-07-28) caller whose client declared it opens URLs: asked in the multi-round-trip form. */
function canAskRoundTrip(request: JsonRpcRequest, context: RequestContext): boolean {
  if (context.session !== undefined || !isSessionlessRevision(context.protocolVersion)) return false;
  const meta = request.params?.['_meta'];
  const capabilities = isObject(meta) ? meta[META.clientCapabilities] : undefined;
  const elicitation = isObject(capabilities) ? capabilities['elicitation'] : undefined;
  return isObject(elicitation) && isObject(elicitation['url']);
}

/**
 * The connect question as 2026-07-28 asks it (SEP-2322): an `input_required` result with one
 * URL-mode `elicitation/create`; the client opens the page and sends the call again with its
 * answer under `inputResponses`. Nothing is bound to a state: the answer grants nothing, the
 * retry goes on only once the vault holds the caller's connection.
 */
function connectQuestion(request: JsonRpcRequest, broker: CredentialBroker): JsonRpcResponse {
  const params = connectElicitation(broker);
  return {
    jsonrpc: '2.0',
    id: request.id,
    result: { resultType: 'input_required', inputRequests: { [INPUT_KEY]: { method: 'elicitation/create', params } } },
  };
}

/** A retry's answer to the connect question (`accept`, or anything else as `decline`), and the request without it. */
function withoutConnectAnswer(request: JsonRpcRequest): { request: JsonRpcRequest; answer: 'accept' | 'decline' | undefined } {
  const responses = request.params?.['inputResponses'];
  if (!isObject(responses) || !(INPUT_KEY in responses)) return { request, answer: undefined };
  const { [INPUT_KEY]: answered, ...others } = responses;
  const { inputResponses: _ours, ...params } = request.params!;
  const answer = isObject(answered) && answered['action'] === 'accept' ? 'accept' : 'decline';
  return { request: { ...request, params: Object.keys(others).length > 0 ? { ...params, inputResponses: others } : params }, answer };
}

/** Resolves true once the caller's connection is in the vault; false when the call ends or CONNECT_WAIT_MS passes first. */
async function connected(broker: CredentialBroker, context: RequestContext): Promise<boolean> {
  const principal = context.identity!.principal;
  const until = Date.now() + CONNECT_WAIT_MS;
  while (!context.signal.aborted && Date.now() < until) {
    context.keepAlive?.();
    if (await settled(broker.ready(principal))) return true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, CONNECTED_POLL_MS);
      context.signal.addEventListener('abort', done, { once: true });
      function done(): void {
        clearTimeout(timer);
        context.signal.removeEventListener('abort', done);
        resolve();
      }
    });
  }
  return false;
}

/** A message without `key` in its `_meta` (params', or a response's result's). */
function withoutKey<T extends JsonRpcMessage>(message: T, key: string): T {
  const holder = 'params' in message ? message.params : 'result' in message ? message.result : undefined;
  const meta = holder?.['_meta'];
  if (typeof meta !== 'object' || meta === null || !(key in meta)) return message;
  const { [key]: _dropped, ...kept } = meta as Record<string, unknown>;
  return 'params' in message
    ? { ...message, params: { ...message.params, _meta: kept } }
    : { ...message, result: { ...(message as { result: Record<string, unknown> }).result, _meta: kept } };
}

/** The messages of `open()`, opened once `ready` settled, or at once; nothing when it failed. */
async function* afterReady(
  ready: Promise<unknown> | undefined,
  open: () => AsyncIterable<JsonRpcMessage> | undefined,
): AsyncGenerator<JsonRpcMessage> {
  if (ready && !(await settled(ready))) return;
  const messages = open();
  if (messages) yield* messages;
}

/** Whether `loading` (none: held already) fulfils: a caller's credential is ready. */
function settled(loading: Promise<unknown> | undefined): Promise<boolean> {
  return loading === undefined
    ? Promise.resolve(true)
    : loading.then(
        () => true,
        () => false,
      );
}

/**
 * @module policy/round-trip-approval
 * `approve` for a 2026-07-28 (sessionless) caller, which has no stream to be asked on: the
 * revision's multi-round-trip form (SEP-2322). The first call is answered with an
 * `input_required` result carrying the question (`elicitation/create`, as user-approval.ts asks
 * it) and a `requestState`; the client asks its user and sends the same call again with the
 * answer in `inputResponses` and the state back. The state is integrity-protected (HMAC-SHA256
 * under a key the replicas on one store share) and binds the principal, the method, the tool and a hash of the
 * arguments, and expires with `--approval-timeout`: it cannot approve another person's call,
 * other arguments, or arrive late (docs/POLICY.md, "Approval").
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ExpiringCache } from '../auth/expiring-cache.js';
import { isObject, type JsonObject, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import { isSessionlessRevision } from '../protocol/revisions.js';
import { META } from '../protocol/sessionless-meta.js';
import type { RequestContext, SessionPort } from '../server/application.js';
import type { Call } from './call.js';
import { policyRefusal } from './policy-errors.js';
import { type ApprovalOutcome, approvalQuestion, outcomeOf, REMEMBERED_APPROVALS } from './user-approval.js';

/** The key of the one input request an approval asks. */
const INPUT_KEY = 'sessiongate.approval';

export class RoundTripApprovals {
  /** This process's own key, until the store's shared one is read (`share`). */
  #key: Buffer | string = randomBytes(32);
  readonly #timeoutMs: number;
  /** Approvals remembered (`remember`): identical calls (same person, call and arguments) pass, on this replica. */
  readonly #remembered = new ExpiringCache<true>(REMEMBERED_APPROVALS);

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** Signs with a key every replica on the store shares, so a retry may reach any of them. */
  async share(port: Pick<SessionPort, 'sharedSecret'>): Promise<void> {
    this.#key = await port.sharedSecret('approval-state', () => randomBytes(32).toString('base64url'));
  }

  /** A sessionless caller that declared elicitation can be asked this way. */
  canAsk(request: JsonRpcRequest, context: RequestContext): boolean {
    if (context.session !== undefined || !isSessionlessRevision(context.protocolVersion)) return false;
    const meta = request.params?.['_meta'];
    const capabilities = isObject(meta) ? meta[META.clientCapabilities] : undefined;
    return isObject(capabilities) && isObject(capabilities['elicitation']);
  }

  /**
   * The call's approval so far: the question (an input-required result) for a first call; for
   * a call that brings an answer back, its outcome and the request to forward (without the
   * round-trip fields).
   */
  judge(
    request: JsonRpcRequest,
    context: RequestContext,
    call: Call,
    remember: number | undefined,
  ): { reply: JsonRpcResponse } | { outcome: ApprovalOutcome; forward: JsonRpcRequest } {
    const params = request.params ?? {};
    const binding = this.#binding(context, call);
    const { inputResponses: responses, requestState: state, ...rest } = params;
    const forward = { ...request, params: rest };
    if (this.#remembered.get(binding, Date.now())) return { outcome: 'approve-accepted', forward };
    if (!isObject(responses) || typeof state !== 'string') return { reply: this.#question(request, context, call, binding) };
    if (!this.#valid(state, binding)) return { outcome: 'approve-timeout', forward };
    const answer = responses[INPUT_KEY];
    const outcome = outcomeOf(isObject(answer) ? { jsonrpc: '2.0', id: 0, result: answer } : undefined);
    if (outcome === 'approve-accepted' && remember !== undefined) this.#remembered.set(binding, true, Date.now() + remember);
    return { outcome: outcome === 'approve-timeout' ? 'approve-declined' : outcome, forward };
  }

  /** The refusal for an outcome other than accepted. */
  refusal(request: JsonRpcRequest, outcome: ApprovalOutcome): JsonRpcResponse {
    return policyRefusal(
      request.id,
      'SG_APPROVAL_REQUIRED',
      outcome === 'approve-timeout' ? 'the approval expired or is not for this call' : 'declined',
    );
  }

  #question(request: JsonRpcRequest, context: RequestContext, call: Call, binding: string): JsonRpcResponse {
    const expires = Date.now() + this.#timeoutMs;
    const payload = `${expires}.${binding}`;
    return {
      jsonrpc: '2.0',
      id: request.id,
      result: {
        resultType: 'input_required',
        inputRequests: { [INPUT_KEY]: { method: 'elicitation/create', params: approvalQuestion(context, call) } },
        requestState: `${payload}.${this.#sign(payload)}`,
      } satisfies JsonObject,
    };
  }

  /** What a state is bound to: who, what, with which arguments (hashed: the state carries no arguments). */
  #binding(context: RequestContext, call: Call): string {
    return createHash('sha256')
      .update(JSON.stringify([context.principal, call.method, call.name ?? null, call.arguments ?? {}]))
      .digest('base64url');
  }

  #valid(state: string, binding: string): boolean {
    const [expires, bound, signature] = state.split('.');
    if (expires === undefined || bound === undefined || signature === undefined) return false;
    const expected = Buffer.from(this.#sign(`${expires}.${bound}`));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;
    return bound === binding && Number(expires) > Date.now();
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }
}

/**
 * @module policy/round-trip-approval
 * `approve` for a 2026-07-28 (sessionless) caller, which has no stream to be asked on: the
 * revision's multi-round-trip form (SEP-2322). The first call is answered with an
 * `input_required` result carrying the question (`elicitation/create`, as user-approval.ts asks
 * it) and a `requestState`; the client asks its user and sends the same call again with the
 * answer in `inputResponses` and the state back. The state is integrity-protected (HMAC-SHA256
 * under a key the replicas on one store share) and binds the principal, the method, the tool and a hash of the
 * arguments, and expires with `--approval-timeout`: it cannot approve another person's call,
 * other arguments, or arrive late (docs/POLICY.md, "Approval"). Each state approves one call:
 * its nonce is spent in the session store (every replica sees it) the first time it approves,
 * unless the rule says `remember`.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ExpiringCache } from '../auth/expiring-cache.js';
import { isObject, type JsonObject, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import { isSessionlessRevision } from '../protocol/revisions.js';
import { META } from '../protocol/sessionless-meta.js';
import type { RequestContext, SessionPort } from '../server/application.js';
import type { Call } from './call.js';
import { policyRefusal } from './policy-errors.js';
import type { ApprovalBook } from '../store/approval-record.js';
import { type ApprovalOutcome, approvalQuestion, outcomeOf, refusalReason, REMEMBERED_APPROVALS } from './user-approval.js';

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

  /** Where spent states are kept once the gate is bound: the session store, which every replica shares. */
  #book: ApprovalBook | undefined;
  /** Until then, this process's own record of spent states. */
  readonly #spent = new ExpiringCache<true>(REMEMBERED_APPROVALS);

  /** Signs with a key every replica on the store shares, so a retry may reach any of them; spends states there. */
  async share(port: Pick<SessionPort, 'sharedSecret'>, approvals: ApprovalBook | undefined): Promise<void> {
    this.#book = approvals;
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
   * The call's approval so far: the question (an input-required result) for a first call, or a
   * refusal when its arguments are too long to show; for a call that brings an answer back,
   * its outcome and the request to forward (without the round-trip fields).
   */
  async judge(
    request: JsonRpcRequest,
    context: RequestContext,
    call: Call,
    remember: number | undefined,
  ): Promise<{ reply: JsonRpcResponse } | { outcome: ApprovalOutcome; why?: string; forward: JsonRpcRequest }> {
    const params = request.params ?? {};
    const binding = this.#binding(context, call);
    const { inputResponses: responses, requestState: state, ...rest } = params;
    const forward = { ...request, params: rest };
    if (this.#remembered.get(binding, Date.now())) return { outcome: 'approve-accepted', forward };
    if (!isObject(responses) || typeof state !== 'string') {
      const question = approvalQuestion(context, call);
      if (question === undefined) return { outcome: 'approve-declined', why: 'too-large', forward };
      return { reply: this.#question(request, question, binding) };
    }
    const nonce = this.#valid(state, binding);
    if (nonce === undefined) return { outcome: 'approve-timeout', forward };
    const answer = responses[INPUT_KEY];
    const response: JsonRpcResponse | undefined = isObject(answer) ? { jsonrpc: '2.0', id: 0, result: answer } : undefined;
    const outcome = outcomeOf(response);
    if (outcome !== 'approve-accepted') return { outcome: 'approve-declined', why: refusalReason(response), forward };
    if (remember !== undefined) this.#remembered.set(binding, true, Date.now() + remember);
    else if (!(await this.#spend(nonce, Number(state.split('.')[0])))) return { outcome: 'approve-timeout', why: 'spent', forward };
    return { outcome, forward };
  }

  /** Spends a state's nonce: true the first time, on any replica sharing the store. */
  async #spend(nonce: string, expiresAt: number): Promise<boolean> {
    if (!this.#book) {
      if (this.#spent.get(nonce, Date.now())) return false;
      this.#spent.set(nonce, true, expiresAt);
      return true;
    }
    const claim = randomBytes(12).toString('base64url');
    const kept = await this.#book.open({
      id: `spent-state:${nonce}`,
      status: 'approved', // never listed as waiting for an operator
      createdAt: Date.now(),
      expiresAt,
      call: { claim },
    });
    return kept.call['claim'] === claim;
  }

  /** The refusal for an outcome other than accepted (`why`: the reason judge gave). */
  refusal(request: JsonRpcRequest, outcome: ApprovalOutcome, why: string | undefined): JsonRpcResponse {
    const reason =
      why === 'spent'
        ? 'this approval was already used (each approves one call)'
        : why === 'too-large'
          ? 'its arguments are too long to be shown in full for approval'
          : outcome === 'approve-timeout'
            ? 'the approval expired or is not for this call'
            : (why ?? 'declined');
    return policyRefusal(request.id, 'SG_APPROVAL_REQUIRED', reason);
  }

  #question(request: JsonRpcRequest, question: JsonObject, binding: string): JsonRpcResponse {
    const expires = Date.now() + this.#timeoutMs;
    const payload = `${expires}.${randomBytes(12).toString('base64url')}.${binding}`;
    return {
      jsonrpc: '2.0',
      id: request.id,
      result: {
        resultType: 'input_required',
        inputRequests: { [INPUT_KEY]: { method: 'elicitation/create', params: question } },
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

  /** The state's nonce when it is ours, unexpired and bound to this call; else undefined. */
  #valid(state: string, binding: string): string | undefined {
    const [expires, nonce, bound, signature, ...more] = state.split('.');
    if (expires === undefined || nonce === undefined || bound === undefined || signature === undefined || more.length > 0) return undefined;
    const expected = Buffer.from(this.#sign(`${expires}.${nonce}.${bound}`));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return bound === binding && Number(expires) > Date.now() ? nonce : undefined;
  }

  #sign(payload: string): string {
    return createHmac('sha256', this.#key).update(payload).digest('base64url');
  }
}

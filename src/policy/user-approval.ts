/**
 * @module policy/user-approval
 * `approve` with `approver: "user"` on a handshake-era session whose client declared the
 * `elicitation` capability (docs/POLICY.md, "Approval"): before the call goes on, the caller is
 * asked, by an `elicitation/create` request (form mode) in the call's own SSE stream, naming the
 * tool and summarising its arguments. Accepting with `approve: true` forwards the call;
 * declining, cancelling, `approve: false`, no answer within the timeout, or the caller leaving
 * refuses it. With `remember`, one approval covers identical calls (same principal, session,
 * tool and arguments) for that long.
 */
import { createHash } from 'node:crypto';
import { ExpiringCache } from '../auth/expiring-cache.js';
import { internalRequestId } from '../protocol/internal-ids.js';
import { isResponse, type JsonObject, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import { isStreamReply, type Reply, type RequestContext } from '../server/application.js';
import type { Call } from './call.js';
import { durationMs } from './duration.js';
import type { PolicyRule } from './policy-document.js';
import { policyRefusal } from './policy-errors.js';

export type ApprovalOutcome = 'approve-accepted' | 'approve-declined' | 'approve-timeout';

/** A call waiting for its approval: what it is, how to send it on, and who hears the outcome. */
export interface ApprovalCall {
  request: JsonRpcRequest;
  context: RequestContext;
  call: Call;
  rule: PolicyRule;
  forward: () => Promise<Reply>;
  /** Told the outcome and who gave it ('user', or the operator's admin identity) before anything is forwarded. */
  settle: (outcome: ApprovalOutcome, approver: string) => void;
}

/** Approvals `remember` keeps at most, per gate. */
export const REMEMBERED_APPROVALS = 10_000;

/** What the question asks for: one yes/no field. */
const REQUESTED_SCHEMA: JsonObject = {
  type: 'object',
  properties: { approve: { type: 'boolean', title: 'Approve this call', default: false } },
  required: ['approve'],
};
/** What every id of our questions starts with (internal-ids.ts: `sessiongate-approval-NONCE-`). */
const APPROVAL_ID = internalRequestId('approval').replace(/\d+$/, '');
const SUMMARY_CHARS = 300;
/** How often a wait tells the server the request is alive (well inside any request timeout of a second or more). */
const KEEP_ALIVE_MS = 500;

export class UserApprovals {
  readonly #timeoutMs: number;
  readonly #waiting = new Map<string, (response: JsonRpcResponse | undefined) => void>();
  /** Approvals remembered (`remember`), by call (`#rememberKey`). */
  readonly #remembered = new ExpiringCache<true>(REMEMBERED_APPROVALS);

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** The caller can be asked: a handshake-era session whose client declared elicitation. */
  canAsk(context: RequestContext): boolean {
    const capabilities = context.session?.record.initialize['capabilities'];
    const elicitation =
      typeof capabilities === 'object' && capabilities !== null ? (capabilities as Record<string, unknown>)['elicitation'] : undefined;
    return typeof elicitation === 'object' && elicitation !== null;
  }

  /** A client's answer to one of our questions is taken here (true); anything else is not ours. */
  take(message: JsonRpcMessage): boolean {
    if (!isResponse(message) || typeof message.id !== 'string' || !message.id.startsWith(APPROVAL_ID)) return false;
    this.#waiting.get(message.id)?.(message);
    return true; // a late answer to a question already given up on is dropped too
  }

  /**
   * The reply to an approval call: the question, then (approved) the call's own reply, or a
   * refusal. `settle` is told the outcome before anything is forwarded.
   */
  ask(approval: ApprovalCall): Reply | Promise<Reply> {
    const { context, call, rule } = approval;
    const remembered = rule.remember === undefined ? undefined : this.#rememberKey(context, call);
    if (remembered !== undefined && this.#remembered.get(remembered, Date.now())) {
      approval.settle('approve-accepted', 'user');
      return approval.forward();
    }
    return this.#asking(approval, remembered);
  }

  async *#asking(
    { request, context, call, rule, forward, settle }: ApprovalCall,
    remembered: string | undefined,
  ): AsyncGenerator<JsonRpcMessage> {
    const id = internalRequestId('approval');
    const answered = this.#wait(id, context);
    yield { jsonrpc: '2.0', id, method: 'elicitation/create', params: approvalQuestion(context, call) };
    const outcome = outcomeOf(await answered);
    settle(outcome, 'user');
    if (outcome !== 'approve-accepted') {
      yield policyRefusal(request.id, 'SG_APPROVAL_REQUIRED', outcome === 'approve-timeout' ? 'no answer in time' : 'declined');
      return;
    }
    if (remembered !== undefined) this.#remembered.set(remembered, true, Date.now() + durationMs(rule.remember!));
    const reply = await forward();
    if (isStreamReply(reply)) yield* reply;
    else yield reply;
  }

  #wait(id: string, context: RequestContext): Promise<JsonRpcResponse | undefined> {
    const signal = context.signal;
    return new Promise((resolve) => {
      // Waiting for a person is not a stuck request: the server's deadline does not end it.
      const alive = setInterval(() => context.keepAlive?.(), KEEP_ALIVE_MS);
      const done = (response: JsonRpcResponse | undefined): void => {
        clearInterval(alive);
        clearTimeout(timer);
        signal.removeEventListener('abort', gone);
        this.#waiting.delete(id);
        resolve(response);
      };
      const gone = (): void => done(undefined);
      const timer = setTimeout(gone, this.#timeoutMs);
      signal.addEventListener('abort', gone, { once: true });
      this.#waiting.set(id, done);
    });
  }

  #rememberKey(context: RequestContext, call: Call): string {
    const args = createHash('sha256')
      .update(JSON.stringify(call.arguments ?? {}))
      .digest('base64url');
    return JSON.stringify([context.principal, context.session?.id ?? null, call.method, call.name ?? null, args]);
  }
}

/** The elicitation's params: what is asked, in the form mode every revision with elicitation knows. */
export function approvalQuestion(context: RequestContext, call: Call): JsonObject {
  const args = summarised(call.arguments);
  const what = call.kind === 'tool' ? `the tool "${call.name}"` : `${call.method} ${call.name ?? ''}`.trim();
  return {
    ...(context.protocolVersion >= '2025-11-25' ? { mode: 'form' } : {}),
    message: `Allow ${what} with ${args}?`,
    requestedSchema: REQUESTED_SCHEMA,
  };
}

/** A call's arguments as JSON text, cut after `chars` characters. */
export function summarised(args: unknown, chars = SUMMARY_CHARS): string {
  const text = JSON.stringify(args ?? {});
  return text.length > chars ? `${text.slice(0, chars)}…` : text;
}

/** The outcome an elicitation's answer gives: accepted only with `approve: true`; none at all is a timeout. */
export function outcomeOf(response: JsonRpcResponse | undefined): ApprovalOutcome {
  if (response === undefined) return 'approve-timeout';
  if (!('result' in response)) return 'approve-declined';
  const content = response.result['content'];
  const approved =
    response.result['action'] === 'accept' &&
    typeof content === 'object' &&
    content !== null &&
    (content as Record<string, unknown>)['approve'] === true;
  return approved ? 'approve-accepted' : 'approve-declined';
}

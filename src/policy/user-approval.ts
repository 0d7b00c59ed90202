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
import type { JsonObject, JsonRpcMessage, JsonRpcRequest, JsonRpcResponse } from '../protocol/jsonrpc.js';
import { ClientQuestions } from '../server/client-questions.js';
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

/**
 * What the question asks for: nothing. Accept approves and Decline refuses, so a person who
 * presses Accept has approved, with no box to tick first (docs/POLICY.md, "Approval").
 */
const REQUESTED_SCHEMA: JsonObject = { type: 'object', properties: {} };
/** What every id of our questions starts with; the rest is 128 random bits per question, so none can be guessed. */
const APPROVAL_ID = 'sessiongate-approval-';
/**
 * The longest arguments a person is asked about, as the question shows them. Past it the call
 * is refused rather than shown cut: a person approves only what they could read in full.
 */
export const MAX_SHOWN_ARGUMENTS = 8000;

/** An answer that was not the asked person's: ignored, and told to whoever audits (the approval's id and the answering session). */
export type StrayAnswer = (stray: { approval: string; context: RequestContext }) => void;

export class UserApprovals {
  /** The questions in flight and their answers (server/client-questions.ts: only the asked session and person count). */
  readonly #questions: ClientQuestions;
  /** Approvals remembered (`remember`), by call (`#rememberKey`). */
  readonly #remembered = new ExpiringCache<true>(REMEMBERED_APPROVALS);

  constructor(timeoutMs: number) {
    this.#questions = new ClientQuestions(APPROVAL_ID, timeoutMs);
  }

  /** The caller can be asked: a handshake-era session whose client declared elicitation. */
  canAsk(context: RequestContext): boolean {
    return ClientQuestions.canElicit(context);
  }

  /** A client's answer to one of our questions is taken here (resolves true); anything else is not ours. */
  take(message: JsonRpcMessage, context: RequestContext, stray: StrayAnswer | undefined): Promise<boolean> {
    return this.#questions.take(message, context, stray && (({ question, context: from }) => stray({ approval: question, context: from })));
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
    const question = approvalQuestion(context, call);
    if (question === undefined) {
      settle('approve-declined', 'user');
      yield policyRefusal(request.id, 'SG_APPROVAL_REQUIRED', tooLargeToShow(call));
      return;
    }
    const id = this.#questions.newId();
    const answered = this.#questions.wait(id, context);
    yield { jsonrpc: '2.0', id, method: 'elicitation/create', params: question };
    const answer = await answered;
    const outcome = outcomeOf(answer);
    settle(outcome, 'user');
    if (outcome !== 'approve-accepted') {
      yield policyRefusal(request.id, 'SG_APPROVAL_REQUIRED', refusalReason(answer));
      return;
    }
    if (remembered !== undefined) this.#remembered.set(remembered, true, Date.now() + durationMs(rule.remember!));
    const reply = await forward();
    if (isStreamReply(reply)) yield* reply;
    else yield reply;
  }

  #rememberKey(context: RequestContext, call: Call): string {
    const args = createHash('sha256')
      .update(JSON.stringify(call.arguments ?? {}))
      .digest('base64url');
    return JSON.stringify([context.principal, context.session?.id ?? null, call.method, call.name ?? null, args]);
  }
}

/**
 * The elicitation's params: what is asked, in the form mode every revision with elicitation
 * knows; undefined when the arguments are too large to show in full (the call is then refused).
 * Every argument is shown whole, one a line, shortest first: a long value cannot push a short
 * one out of sight, whatever order the caller chose.
 */
export function approvalQuestion(context: RequestContext, call: Call): JsonObject | undefined {
  const shown = shownArguments(call.arguments);
  if (shown === undefined) return undefined;
  const what = call.kind === 'tool' ? `the tool "${call.name}"` : `${call.method} ${call.name ?? ''}`.trim();
  return {
    ...(context.protocolVersion >= '2025-11-25' ? { mode: 'form' } : {}),
    message: `Allow ${what}?\n${shown}\nAccept runs it with exactly these arguments; Decline refuses it.`,
    requestedSchema: REQUESTED_SCHEMA,
  };
}

/** Each argument on a line of its own (`name = JSON value`), shortest first; undefined past MAX_SHOWN_ARGUMENTS. */
export function shownArguments(args: unknown): string | undefined {
  const entries =
    typeof args === 'object' && args !== null && !Array.isArray(args)
      ? Object.entries(args as Record<string, unknown>).map(([name, value]) => `${JSON.stringify(name)} = ${JSON.stringify(value)}`)
      : args === undefined
        ? []
        : [JSON.stringify(args)];
  entries.sort((a, b) => a.length - b.length || (a < b ? -1 : 1));
  const text = entries.length === 0 ? 'Arguments: none' : `Arguments (${entries.length}, shortest first):\n${entries.join('\n')}`;
  return text.length > MAX_SHOWN_ARGUMENTS ? undefined : text;
}

function tooLargeToShow(call: Call): string {
  const size = JSON.stringify(call.arguments ?? {}).length;
  return `its arguments (${size} characters) are too long to be shown in full for approval (at most ${MAX_SHOWN_ARGUMENTS}); an operator can approve it instead (approver: operator)`;
}

/**
 * The outcome an elicitation's answer gives: Accept approves (unless its content says
 * `approve: false`, the form older gateways asked); Decline and Cancel refuse; no answer at all
 * is a timeout.
 */
export function outcomeOf(response: JsonRpcResponse | undefined): ApprovalOutcome {
  if (response === undefined) return 'approve-timeout';
  if (!('result' in response) || response.result['action'] !== 'accept') return 'approve-declined';
  const content = response.result['content'];
  const refused = typeof content === 'object' && content !== null && (content as Record<string, unknown>)['approve'] === false;
  return refused ? 'approve-declined' : 'approve-accepted';
}

/** Why a person's answer refused the call, in the words the caller is told. */
export function refusalReason(response: JsonRpcResponse | undefined): string {
  if (response === undefined) return 'no answer in time';
  if (!('result' in response)) return `the client could not ask (${response.error.message})`;
  const action = response.result['action'];
  if (action === 'decline') return 'the user declined it';
  if (action === 'cancel') return 'the user dismissed the question without deciding';
  return 'the user accepted with approve: false';
}

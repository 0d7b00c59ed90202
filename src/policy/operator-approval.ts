/**
 * @module policy/operator-approval
 * `approve` with `approver: "operator"` (docs/POLICY.md, "Operator approval"): the call waits,
 * its stream open (with progress when the client sent a progress token), until an operator
 * approves or denies it at the admin API, or `--approval-timeout` denies it.
 *
 * The approval is kept in the session store (store/approval-record.ts), so an operator on any
 * replica decides it and a restart does not lose it. Its id is derived from the call (person,
 * session, method, name, arguments): the same call sent again, after a dropped connection or a
 * restart, finds the approval, pending or decided, instead of asking twice. Exactly one call
 * collects a decision (a compare-and-set in the store); with `remember`, an approval instead
 * stays for that long and covers identical calls on every replica.
 */
import { createHash, randomBytes } from 'node:crypto';
import { isNotification, isObject, type JsonObject, type JsonRpcMessage, type JsonRpcRequest } from '../protocol/jsonrpc.js';
import { isStreamReply, type Reply, type RequestContext } from '../server/application.js';
import { sessionTag } from '../session/id.js';
import type { ApprovalBook, ApprovalRecord } from '../store/approval-record.js';
import { durationMs } from './duration.js';
import { policyRefusal } from './policy-errors.js';
import type { ApprovalCall } from './user-approval.js';

/** How often a waiting call looks at the store for a decision another replica made. */
export const APPROVAL_POLL_MS = 500;
/** How often a waiting call with a progress token is told it still waits. */
export const APPROVAL_PROGRESS_MS = 10_000;

/** An operator's decision at the admin API. */
export interface OperatorDecision {
  approve: boolean;
  /** Who decided, as the audit line names them (the admin identity). */
  operator: string;
  /** Told to the caller with a denial. */
  reason?: string;
}

/** What deciding an approval came to: the decided record, or why there was nothing to decide. */
export type DecisionResult = { decided: ApprovalRecord } | { error: 'unknown' } | { error: 'already-decided'; approval: ApprovalRecord };

/** The admin API's side of operator approvals. */
export interface ApprovalDesk {
  /** Pending approvals, oldest first (every replica's). */
  pending(limit: number): Promise<ApprovalRecord[]>;
  decide(id: string, decision: OperatorDecision): Promise<DecisionResult>;
}

/** Approvals on the backend, read on the server's clock. */
export interface ApprovalsAtHand {
  readonly approvals: ApprovalBook;
  now(): number;
}

export class OperatorApprovals implements ApprovalDesk {
  readonly #timeoutMs: number;
  #port: ApprovalsAtHand | undefined;
  /** Calls waiting here, by approval id: woken at once when this replica decides. */
  readonly #wakers = new Map<string, Set<() => void>>();

  readonly #describe: (context: RequestContext) => JsonObject | null;

  /** `describe`: who a call came from, as the operator is shown it (PolicyGateOptions.describeCaller). */
  constructor(timeoutMs: number, describe: (context: RequestContext) => JsonObject | null = () => null) {
    this.#timeoutMs = timeoutMs;
    this.#describe = describe;
  }

  /** Approvals in this store from now on; until then none can be asked for. */
  bind(port: ApprovalsAtHand): void {
    this.#port = port;
  }

  get available(): boolean {
    return this.#port !== undefined;
  }

  /** The call's reply: it waits for the decision, then goes on (approved) or is refused. */
  ask(approval: ApprovalCall): Reply {
    return this.#waiting(approval, this.#port!);
  }

  async pending(limit: number): Promise<ApprovalRecord[]> {
    return this.#port ? this.#port.approvals.list(limit) : [];
  }

  async decide(id: string, { approve, operator, reason }: OperatorDecision): Promise<DecisionResult> {
    const book = this.#port?.approvals;
    const record = await book?.get(id);
    if (!book || !record) return { error: 'unknown' };
    if (record.status !== 'pending') return { error: 'already-decided', approval: record };
    const now = this.#port!.now();
    const remember = typeof record.call['rememberMs'] === 'number' && approve ? record.call['rememberMs'] : 0;
    const decided: ApprovalRecord = {
      ...record,
      status: approve ? 'approved' : 'denied',
      decidedBy: operator,
      decidedAt: now,
      ...(reason === undefined ? {} : { reason }),
      // Kept for its caller (or a retry after a restart) to collect, or for as long as it is remembered.
      expiresAt: now + (remember > 0 ? remember : this.#timeoutMs),
    };
    if (!(await book.move(id, 'pending', decided))) return this.decide(id, { approve, operator, reason });
    for (const wake of this.#wakers.get(id) ?? []) wake();
    return { decided };
  }

  async *#waiting(approval: ApprovalCall, port: ApprovalsAtHand): AsyncGenerator<JsonRpcMessage> {
    const { request, context } = approval;
    const book = port.approvals;
    const fresh = (): ApprovalRecord => this.#record(approval, port.now());
    const token = progressTokenOf(request);
    let current = await book.open(fresh());
    let told = 0;
    let tellAt = 0;
    for (;;) {
      if (current.status === 'pending') {
        // Past its time nobody can decide it any more (the store moves only a kept approval): final.
        if (port.now() >= current.expiresAt) {
          yield this.#settled(approval, 'approve-timeout', 'operator', 'nobody approved it in time');
          return;
        }
        if (token !== undefined && Date.now() >= tellAt) {
          yield waitingProgress(token, ++told, current.id);
          tellAt = Date.now() + APPROVAL_PROGRESS_MS;
        }
        context.keepAlive?.(); // waiting for a person is not a stuck request (--request-timeout)
        // The client leaving ends the wait here, not the approval: the same call sent again finds it.
        if (!(await this.#nap(current.id, Math.min(APPROVAL_POLL_MS, current.expiresAt - port.now()), context.signal))) return;
        const kept = await book.get(current.id);
        // Gone before its time: an identical call collected its decision, so this one asks anew.
        if (kept) current = kept;
        else if (port.now() < current.expiresAt) current = await book.open(fresh());
        continue;
      }
      const decidedBy = current.decidedBy ?? 'operator';
      const remembered = current.status === 'approved' && typeof current.call['rememberMs'] === 'number';
      // A decision is collected by one call only; another identical call asks again.
      if (!remembered && !(await book.move(current.id, current.status, undefined))) {
        current = await book.open(fresh());
        continue;
      }
      if (current.status === 'denied') {
        yield this.#settled(approval, 'approve-declined', decidedBy, `an operator denied it${reasonText(current.reason)}`);
        return;
      }
      approval.settle('approve-accepted', decidedBy);
      const reply = await approval.forward();
      yield* progressAfter(isStreamReply(reply) ? reply : [reply], token, told);
      return;
    }
  }

  /** The refusal of a call whose approval was not given; its outcome settled first. */
  #settled(approval: ApprovalCall, outcome: 'approve-timeout' | 'approve-declined', by: string, why: string): JsonRpcMessage {
    approval.settle(outcome, by);
    return policyRefusal(approval.request.id, 'SG_APPROVAL_REQUIRED', why);
  }

  /** Waits `ms`, or less when this replica decides `id`; false when the client left. */
  #nap(id: string, ms: number, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      const wakers = this.#wakers.get(id) ?? new Set<() => void>();
      this.#wakers.set(id, wakers);
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        wakers.delete(done);
        if (wakers.size === 0) this.#wakers.delete(id);
        resolve(!signal.aborted);
      };
      const timer = setTimeout(done, Math.max(ms, 0));
      signal.addEventListener('abort', done, { once: true });
      wakers.add(done);
    });
  }

  #record({ request, context, call, rule }: ApprovalCall, now: number): ApprovalRecord {
    const rememberMs = rule.remember === undefined ? undefined : durationMs(rule.remember);
    return {
      id: approvalId(request, context.principal, context.session?.id),
      status: 'pending',
      createdAt: now,
      expiresAt: now + this.#timeoutMs,
      call: {
        session: context.session ? sessionTag(context.session.id) : null,
        principal: context.principal,
        identity: this.#describe(context),
        client: (context.session?.record.initialize['clientInfo'] as JsonObject | undefined) ?? null,
        method: call.method,
        name: call.name ?? null,
        // Whole: an operator approves only what they can read in full (the console folds long values).
        arguments: JSON.stringify(call.arguments ?? {}),
        rule: rule.id,
        ...(rememberMs === undefined ? {} : { rememberMs }),
      },
    };
  }
}

/**
 * The id of the approval a call needs: the same for the same person, session, call and
 * arguments (on every replica, across restarts). Anonymous sessionless calls share nothing, so
 * theirs is random.
 */
function approvalId(request: JsonRpcRequest, principal: string | null, sessionId: string | undefined): string {
  if (principal === null && sessionId === undefined) return randomBytes(24).toString('base64url');
  const { _meta: _, ...params } = request.params ?? {};
  return createHash('sha256')
    .update(JSON.stringify([principal, sessionId ?? null, request.method, params]))
    .digest('base64url');
}

function progressTokenOf(request: JsonRpcRequest): string | number | undefined {
  const meta = request.params?.['_meta'];
  const token = isObject(meta) ? meta['progressToken'] : undefined;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}

function waitingProgress(token: string | number, progress: number, id: string): JsonRpcMessage {
  return {
    jsonrpc: '2.0',
    method: 'notifications/progress',
    params: { progressToken: token, progress, message: `waiting for an operator to approve this call (approval ${id})` },
  };
}

function reasonText(reason: string | undefined): string {
  return reason ? `: ${reason}` : '';
}

/**
 * The call's own messages, its progress counted on from the `told` notifications the wait
 * sent: progress must increase with each notification (MCP, "Progress"), and the upstream
 * counts from its own start.
 */
async function* progressAfter(
  messages: AsyncIterable<JsonRpcMessage> | Iterable<JsonRpcMessage>,
  token: string | number | undefined,
  told: number,
): AsyncGenerator<JsonRpcMessage> {
  for await (const message of messages) {
    const params = isNotification(message) && message.method === 'notifications/progress' ? message.params : undefined;
    if (told === 0 || params === undefined || params['progressToken'] !== token) {
      yield message;
      continue;
    }
    const { progress, total } = params;
    yield {
      ...message,
      params: {
        ...params,
        ...(typeof progress === 'number' ? { progress: progress + told } : {}),
        ...(typeof total === 'number' ? { total: total + told } : {}),
      },
    };
  }
}

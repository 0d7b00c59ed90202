/**
 * @module policy/policy-gate
 * The policy on every call an application answers (docs/POLICY.md): a denied call is answered
 * here and never reaches the application (the upstream); a list shows only what the caller may
 * use; a rate-limited call is refused with Retry-After. The policy is read on every call, so a
 * reload applies to the next call of every session. Each decision is kept for the audit line
 * (`verdictOf`).
 */
import { SessiongateError } from '../protocol/failures.js';
import { isResponse, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import type { EarlyEnd, Identity, McpApplication, Reply, RequestContext, SessionPort } from '../server/application.js';
import { isStreamReply } from '../server/application.js';
import { type Call, type Caller, callerOf, callOf } from './call.js';
import { durationMs } from './duration.js';
import type { Decision, PolicyEvaluator } from './evaluator.js';
import { policyRefusal } from './policy-errors.js';
import { RateLimiter } from './rate-limiter.js';
import { type ApprovalOutcome, UserApprovals } from './user-approval.js';

/** What the audit line says of a call's decision. */
export interface Verdict {
  decision: 'allow' | 'deny' | 'rate-limited' | 'approve-unavailable' | ApprovalOutcome;
  rule: string | null;
  /** Who approved or refused an approval: the user (the caller, asked). */
  approver?: 'user';
}

export interface PolicyGateOptions {
  /** The policy in force, read on every call. */
  policy: () => PolicyEvaluator;
  /** The claim whose value `subjects` lists. Default 'sub'. */
  subjectClaim?: string;
  /** Buckets for `rateLimit`. Default: one per gate, in this process. */
  limiter?: RateLimiter;
  /** How long a person asked to approve a call has to answer, ms. Default 300,000 (5 min). */
  approvalTimeoutMs?: number;
}

const verdicts = new WeakMap<JsonRpcRequest, Verdict>();

/** The policy's decision on a request the gate saw (for the audit trail). */
export function verdictOf(request: JsonRpcRequest): Verdict | undefined {
  return verdicts.get(request);
}

/** List methods, the array each result carries, and the call each entry stands for. */
const LISTS: Readonly<Record<string, { field: string; key: string; call: Pick<Call, 'method' | 'kind'> }>> = {
  'tools/list': { field: 'tools', key: 'name', call: { method: 'tools/call', kind: 'tool' } },
  'prompts/list': { field: 'prompts', key: 'name', call: { method: 'prompts/get', kind: 'prompt' } },
  'resources/list': { field: 'resources', key: 'uri', call: { method: 'resources/read', kind: 'resource' } },
  'resources/templates/list': { field: 'resourceTemplates', key: 'uriTemplate', call: { method: 'resources/read', kind: 'resource' } },
};

export function policyGate(application: McpApplication, options: PolicyGateOptions): McpApplication {
  const limiter = options.limiter ?? new RateLimiter();
  const approvals = new UserApprovals(options.approvalTimeoutMs ?? 300_000);
  const callers = new WeakMap<Identity, Caller>();
  const callerFor = (context: RequestContext): Caller => {
    const identity = context.identity;
    if (!identity) return callerOf(undefined, context.principal, options.subjectClaim);
    let caller = callers.get(identity);
    if (!caller) callers.set(identity, (caller = callerOf(identity, context.principal, options.subjectClaim)));
    return caller;
  };

  const handle = (request: JsonRpcRequest, context: RequestContext): Promise<Reply> | Reply => {
    const policy = options.policy();
    const caller = callerFor(context);
    const call = callOf(request);
    const decision = policy.decide(caller, call);
    const rule = decision.rule;
    const verdict = (kind: Verdict['decision']): void => void verdicts.set(request, { decision: kind, rule: rule?.id ?? null });
    if (decision.effect === 'deny') {
      verdict('deny');
      return policyRefusal(request.id, 'SG_POLICY_DENIED', rule?.reason);
    }
    if (decision.effect === 'approve') {
      if ((rule?.approver ?? 'user') === 'user' && approvals.canAsk(context)) {
        const forward = (): Promise<Reply> => application.handle(request, context);
        return approvals.ask(request, context, call, rule!, forward, (outcome) => {
          verdicts.set(request, { decision: outcome, rule: rule?.id ?? null, approver: 'user' });
        });
      }
      // Nobody can be asked here (no elicitation, the sessionless era, operator approval: not built yet).
      verdict('approve-unavailable');
      return policyRefusal(request.id, 'SG_APPROVAL_REQUIRED', 'this client cannot be asked for it');
    }
    if (rule?.rateLimit) refuseOverLimit(limiter, caller, call, request, decision, () => verdict('rate-limited'));
    verdict('allow');
    const list = LISTS[request.method];
    const reply = application.handle(request, context);
    return list ? reply.then((answer) => filtered(answer, (entry) => usable(policy, caller, list, entry))) : reply;
  };

  // Each member delegated by name (a spread would drop the methods of a class-based application).
  return {
    handle(request, context) {
      // No async wrapper: a passed call costs no extra promise (bench/RESULTS.md, "Issue 18").
      try {
        const reply = handle(request, context);
        return reply instanceof Promise ? reply : Promise.resolve(reply);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    receive: async (message: JsonRpcMessage, context: RequestContext) => {
      // A caller's answer to an approval question is the gate's, not the upstream's.
      if (!approvals.take(message)) await application.receive(message, context);
    },
    ...(application.openStream && { openStream: (context: RequestContext) => application.openStream!(context) }),
    ...(application.bind && { bind: (sessions: SessionPort) => application.bind!(sessions) }),
    ...(application.close && { close: () => application.close!() }),
    ...(application.cancel && {
      cancel: (request: JsonRpcRequest, context: RequestContext, reason: EarlyEnd) => application.cancel!(request, context, reason),
    }),
  };
}

/** Takes a token from the rule's bucket, or throws 429 with Retry-After (after `onRefused`). */
function refuseOverLimit(
  limiter: RateLimiter,
  caller: Caller,
  call: Call,
  request: JsonRpcRequest,
  decision: Decision,
  onRefused: () => void,
): void {
  const rule = decision.rule!;
  const limit = rule.rateLimit!;
  const who = caller.principal ?? 'anonymous';
  const key = limit.key === 'principal+tool' ? `${rule.id}\0${who}\0${call.name ?? call.method}` : `${rule.id}\0${who}`;
  const taken = limiter.take(key, { requests: limit.requests, perMs: durationMs(limit.per) });
  if (taken.ok) return;
  onRefused();
  throw new SessiongateError('SG_RATE_LIMITED', `Too many requests: ${limit.requests} allowed per ${limit.per}`, {
    headers: { 'retry-after': String(taken.retryAfterSeconds) },
    requestId: request.id,
  });
}

function usable(policy: PolicyEvaluator, caller: Caller, list: (typeof LISTS)[string], entry: unknown): boolean {
  const name = typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)[list.key] : undefined;
  if (typeof name !== 'string') return false;
  return policy.usable(caller, { ...list.call, name, arguments: undefined });
}

/** The reply with its response's list filtered (a stream's other messages pass unchanged). */
function filtered(reply: Reply, keep: (entry: unknown) => boolean): Reply {
  const filter = (response: JsonRpcResponse): JsonRpcResponse => {
    if (!('result' in response)) return response;
    const result = { ...response.result };
    for (const field of ['tools', 'prompts', 'resources', 'resourceTemplates']) {
      const entries = result[field];
      if (Array.isArray(entries)) result[field] = entries.filter(keep);
    }
    return { ...response, result };
  };
  if (!isStreamReply(reply)) return filter(reply);
  return (async function* () {
    for await (const message of reply) yield isResponse(message) ? filter(message) : message;
  })();
}

/**
 * @module policy/policy-gate
 * The policy on every call an application answers (docs/POLICY.md): a denied call is answered
 * here and never reaches the application (the upstream); a list shows only what the caller may
 * use; a rate-limited call is refused with Retry-After. The policy is read on every call, so a
 * reload applies to the next call of every session. Each decision is kept for the audit line
 * (`verdictOf`).
 */
import { approvalBook } from '../store/approval-record.js';
import type { SessionStore } from '../store/store.js';
import { LIST_METHODS } from '../protocol/lists.js';
import { SessiongateError } from '../protocol/failures.js';
import { type JsonObject, type JsonRpcRequest, type JsonRpcResponse } from '../protocol/jsonrpc.js';
import type { Identity, McpApplication, Reply, RequestContext, SessionPort } from '../server/application.js';
import { mapResponse } from '../server/application.js';
import { RequestKey } from '../server/request-key.js';
import { compose, type Stage } from '../server/stage.js';
import { type Call, type Caller, callerOf, callOf, connectionCall, listedCall, type ServerOf } from './call.js';
import { durationMs } from './duration.js';
import type { Decision, PolicyEvaluator } from './evaluator.js';
import { decideRequest } from './decide-request.js';
import type { PolicyRule, RateLimit } from './policy-document.js';
import { connectionRefusal, policyRefusal } from './policy-errors.js';
import { type Limiter, RateLimiter, storeLimiter, type Take } from './rate-limiter.js';
import { SeenLists } from './seen-lists.js';
import { approvalSpan, decisionSpan, endDecision, rateLimitSpan } from './policy-spans.js';
import { RoundTripApprovals } from './round-trip-approval.js';
import { type ApprovalCall, type ApprovalOutcome, type StrayAnswer, UserApprovals } from './user-approval.js';
import { type ApprovalDesk, OperatorApprovals } from './operator-approval.js';

type Next = (request: JsonRpcRequest, context: RequestContext) => Promise<Reply>;

/** What the audit line says of a call's decision. */
export interface Verdict {
  decision: 'allow' | 'deny' | 'rate-limited' | 'approve-unavailable' | 'approve-asked' | ApprovalOutcome;
  rule: string | null;
  /** Who approved or refused an approval: 'user' (the caller, asked), or the operator's admin identity. */
  approver?: string;
  /** How long the call waited for that person, ms: not the upstream's time (the latency metric leaves it out). */
  approvalWaitMs?: number;
}

export interface PolicyGateOptions {
  /** The policy in force, read on every call. */
  policy: () => PolicyEvaluator;
  /** The claim whose value `subjects` lists. Default 'sub'. */
  subjectClaim?: string;
  /**
   * The issuer whose callers rules without `issuers` describe (the gateway's first `--issuer`).
   * Default: none, and such rules describe every caller (one identity provider, or API keys).
   */
  defaultIssuer?: string;
  /**
   * The backend whose rate-limit buckets and operator approvals the gate uses, shared by the
   * replicas on it (the session server's store; `createGateway` passes it). Default: none, so
   * buckets are kept in this process and no operator can be asked (`approver: operator` calls
   * are refused as unavailable).
   */
  store?: Pick<SessionStore, 'buckets' | 'approvals'>;
  /** Where `rateLimit` buckets are kept, overriding `store`'s. */
  limiter?: Limiter;
  /** How long a person asked to approve a call has to answer, ms. Default 300,000 (5 min). */
  approvalTimeoutMs?: number;
  /** In front of a federation: the server of a tool, prompt or resource (for rules naming `servers`). */
  serverOf?: ServerOf;
  /**
   * In front of a federation: every server's name. A resource whose server is not known before
   * it is read passes the gate when some server's rules would let it; the federation then asks
   * `serverCheck` for the server it reaches (docs/POLICY.md, "Servers").
   */
  servers?: () => readonly string[];
  /**
   * For rules that `requires` connections (docs/CREDENTIALS.md): those of `servers` the caller
   * has not connected, each with the page that connects it (a server the gateway does not know
   * is never connected). Default: none, and such a rule lets no call on.
   */
  missingConnections?: (context: RequestContext, servers: readonly string[]) => Promise<{ server: string; url: string | undefined }[]>;
  /** Told of an answer to an approval question that the asked session and person did not give (it is ignored): for the audit. */
  onStrayAnswer?: StrayAnswer;
  /**
   * Who a call held for an operator came from, as the operator is shown it (the gateway's
   * identity view: the same name its session rows and audit lines give). Default: none, and the
   * operator sees the principal's tag.
   */
  describeCaller?: (context: RequestContext) => JsonObject | null;
}

/** Where the gate leaves its decision on a request, for the audit stage around it. */
const VERDICT = new RequestKey<Verdict>('policy.verdict');

/** The policy's decision on a request the gate saw (for the audit trail). */
export function verdictOf(context: RequestContext): Verdict | undefined {
  return context.get(VERDICT);
}

/** What the gate offers besides its stage: what a reload tells it, the operators' desk, the federation's check. */
export interface PolicyControls {
  /** The policy changed from `previous`: sessions whose lists it changed get `list_changed`; resolves with how many. */
  readonly policyChanged: (previous: PolicyEvaluator) => Promise<number>;
  /** Operator approvals, for the admin API (`GET /admin/approvals`, `POST .../approve|deny`). */
  readonly approvals: ApprovalDesk;
  /**
   * The decision on a request the gate passed, for the federated server it is about to reach:
   * a refusal, or undefined to send it. A federation asks it for resources (`guard`).
   */
  readonly serverCheck: (request: JsonRpcRequest, context: RequestContext, server: string) => JsonRpcResponse | undefined;
  /**
   * Whether the person with `claims` (and `principal`) may connect `server`, or use the
   * connection they made (docs/POLICY.md, "Connections"); undefined when no rule names
   * `connections` (everyone may).
   */
  readonly connectionDecision: (claims: Readonly<Record<string, unknown>>, principal: string, server: string) => Decision | undefined;
}

/** The gate: an application with the policy stage around it, and its controls. */
export type PolicyGate = McpApplication & PolicyControls;

/** `application` behind the policy stage alone. */
export function policyGate(application: McpApplication, options: PolicyGateOptions): PolicyGate {
  const stage = policyStage(options);
  return Object.assign(compose(application, [stage]), {
    policyChanged: stage.policyChanged,
    approvals: stage.approvals,
    serverCheck: stage.serverCheck,
    connectionDecision: stage.connectionDecision,
  });
}

/** The policy stage: rules decided on each call, lists filtered, approvals asked. */
export function policyStage(options: PolicyGateOptions): Stage & PolicyControls {
  let limiter: Limiter = options.limiter ?? new RateLimiter();
  const approvals = new UserApprovals(options.approvalTimeoutMs ?? 300_000);
  const roundTrips = new RoundTripApprovals(options.approvalTimeoutMs ?? 300_000);
  const operators = new OperatorApprovals(options.approvalTimeoutMs ?? 300_000, options.describeCaller);
  const serverOf = options.serverOf;
  const seen = new SeenLists(serverOf);
  const callers = new WeakMap<Identity, Caller>();
  const callerFor = (context: RequestContext): Caller => {
    const identity = context.identity;
    if (!identity) return callerOf(undefined, context.principal, options.subjectClaim, options.defaultIssuer);
    let caller = callers.get(identity);
    if (!caller) callers.set(identity, (caller = callerOf(identity, context.principal, options.subjectClaim, options.defaultIssuer)));
    return caller;
  };

  const handle = (given: JsonRpcRequest, context: RequestContext, next: Next): Promise<Reply> | Reply => {
    // Decided on, and forwarded in, the form the upstream acts on (docs/SECURITY.md); the
    // verdict is left on the request's context for the audit stage around this one.
    const policy = options.policy();
    const caller = callerFor(context);
    const span = decisionSpan(context);
    const { request, call, decision } = decideRequest(policy, caller, given, options);
    if (span) endDecision(span, decision);
    const rule = decision.rule;
    if (decision.effect === 'deny') {
      context.set(VERDICT, { decision: 'deny', rule: rule?.id ?? null });
      return policyRefusal(request.id, 'SG_POLICY_DENIED', rule?.reason);
    }
    if (rule?.requires?.length)
      return connectedFirst(request, context, rule.id, rule.requires, () =>
        decided(request, context, caller, policy, call, decision, next),
      );
    return decided(request, context, caller, policy, call, decision, next);
  };

  /** A call the rule `requires` connections for: refused, naming where to connect, until the caller has them all. */
  const connectedFirst = async (
    request: JsonRpcRequest,
    context: RequestContext,
    ruleId: string,
    servers: readonly string[],
    go: () => Promise<Reply> | Reply,
  ): Promise<Reply> => {
    const missing = options.missingConnections
      ? await options.missingConnections(context, servers)
      : servers.map((server) => ({ server, url: undefined }));
    if (missing.length === 0) return go();
    context.set(VERDICT, { decision: 'deny', rule: ruleId });
    return connectionRefusal(request.id, missing);
  };

  /** A call the policy let on (allow, approve), with what its rule adds: a rate limit, an approval. */
  const decided = (
    request: JsonRpcRequest,
    context: RequestContext,
    caller: Caller,
    policy: PolicyEvaluator,
    call: Call,
    decision: ReturnType<typeof decideRequest>['decision'],
    next: Next,
  ): Promise<Reply> | Reply => {
    const rule = decision.rule;
    const verdict = (kind: Verdict['decision']): void => context.set(VERDICT, { decision: kind, rule: rule?.id ?? null });
    if (decision.effect === 'approve') return approve(request, context, call, rule!, next);
    const proceed = (): Promise<Reply> => {
      verdict('allow');
      return forwardListing(request, context, caller, policy, next);
    };
    if (!rule?.rateLimit) return proceed();
    const limitSpan = rateLimitSpan(context, rule.id);
    const take = limiter.take(bucketKey(caller, call, decision), {
      requests: rule.rateLimit.requests,
      perMs: durationMs(rule.rateLimit.per),
    });
    const passed = (taken: Take): Promise<Reply> => {
      limitSpan?.(taken.ok);
      if (taken.ok) return proceed();
      verdict('rate-limited');
      throw rateLimited(request, rule.rateLimit!, taken.retryAfterSeconds);
    };
    return take instanceof Promise ? take.then(passed) : passed(take);
  };

  /** A call an `approve` rule decided: asked of whoever the rule names and can be asked, or refused. */
  const approve = (request: JsonRpcRequest, context: RequestContext, call: Call, rule: PolicyRule, next: Next): Reply | Promise<Reply> => {
    const askedAt = performance.now();
    const approver = rule.approver ?? 'user';
    const waited = approvalSpan(context, rule.id, approver);
    const settle = (decision: Verdict['decision'], answeredBy?: string): void => {
      waited?.(decision, answeredBy);
      context.set(VERDICT, {
        decision,
        rule: rule.id,
        // Rounded as the audit rounds durationMs (0.1 ms), so a wait never reads longer than its call.
        ...(answeredBy === undefined ? {} : { approver: answeredBy, approvalWaitMs: Math.round((performance.now() - askedAt) * 10) / 10 }),
      });
    };
    const approval: ApprovalCall = { request, context, call, rule, forward: () => next(request, context), settle };
    if (approver === 'operator' && operators.available) return operators.ask(approval);
    if (approver === 'user' && approvals.canAsk(context)) return approvals.ask(approval);
    if (approver === 'user' && roundTrips.canAsk(request, context)) {
      const remember = rule.remember === undefined ? undefined : durationMs(rule.remember);
      return roundTrips.judge(request, context, call, remember).then((judged) => {
        if ('reply' in judged) {
          settle('approve-asked');
          return judged.reply;
        }
        settle(judged.outcome, 'user');
        if (judged.outcome !== 'approve-accepted') return roundTrips.refusal(request, judged.outcome, judged.why);
        return next(judged.forward, context);
      });
    }
    // Nobody can be asked: a client without elicitation, or operators before the gate is bound to a store.
    settle('approve-unavailable');
    const why = approver === 'operator' ? 'no operator can be asked yet' : 'this client cannot be asked for it';
    return policyRefusal(request.id, 'SG_APPROVAL_REQUIRED', why);
  };

  /** The call forwarded; a list's answer filtered for the caller (and what it listed remembered). */
  const forwardListing = (
    request: JsonRpcRequest,
    context: RequestContext,
    caller: Caller,
    policy: PolicyEvaluator,
    next: Next,
  ): Promise<Reply> => {
    const list = LIST_METHODS[request.method];
    const reply = next(request, context);
    if (!list) return reply;
    return reply.then((answer) =>
      filtered(
        answer,
        list,
        (names) => {
          if (context.session) seen.record(context.session, caller, request.method, names);
        },
        (name) => policy.usable(caller, listedCall(list.call, name, serverOf)),
      ),
    );
  };

  return {
    name: 'policy',
    handle(request, context, next) {
      // No async wrapper: a passed call costs no extra promise (bench/RESULTS.md, "Issue 18").
      try {
        const reply = handle(request, context, next);
        return reply instanceof Promise ? reply : Promise.resolve(reply);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    receive: async (message, context, next) => {
      // A caller's answer to an approval question is the gate's, not the upstream's.
      if (!(await approvals.take(message, context, options.onStrayAnswer))) await next(message, context);
    },
    bind(sessions: SessionPort) {
      // On the server's clock from now on; with a backend, its buckets and approvals, which replicas on it share.
      const now = (): number => sessions.now();
      const book = options.store && approvalBook(options.store.approvals, now);
      if (options.store && !options.limiter) limiter = storeLimiter(options.store.buckets, now);
      roundTrips.share(sessions, book).catch(() => {}); // until then (or if the store fails), this process's own key
      if (book) operators.bind({ approvals: book, now });
    },
    policyChanged: (previous) => seen.notifyChanges(previous, options.policy()),
    approvals: operators,
    connectionDecision: (claims, principal, server) => {
      const policy = options.policy();
      if (!policy.governsConnections) return undefined;
      return policy.decide(callerOf({ claims }, principal, options.subjectClaim, options.defaultIssuer), connectionCall(server));
    },
    serverCheck: (request, context, server) => {
      const call = { ...callOf(request), server };
      const decision = options.policy().decide(callerFor(context), call);
      const id = decision.rule?.id ?? null;
      if (decision.effect === 'deny') {
        context.set(VERDICT, { decision: 'deny', rule: id });
        return policyRefusal(request.id, 'SG_POLICY_DENIED', decision.rule?.reason);
      }
      // An approval asked before routing covers it; one this server alone needs was never asked.
      if (decision.effect === 'approve' && context.get(VERDICT)?.decision !== 'approve-accepted') {
        context.set(VERDICT, { decision: 'approve-unavailable', rule: id });
        return policyRefusal(request.id, 'SG_APPROVAL_REQUIRED', `server "${server}" needs approval for it`);
      }
      return undefined;
    },
  };
}

/** Whose bucket a call takes from: per principal and rule, or per principal, rule and tool. */
function bucketKey(caller: Caller, call: Call, decision: Decision): string {
  const rule = decision.rule!;
  const who = caller.principal ?? 'anonymous';
  return rule.rateLimit!.key === 'principal+tool' ? `${rule.id}\0${who}\0${call.name ?? call.method}` : `${rule.id}\0${who}`;
}

/** 429 with Retry-After: the rule's rate limit is used up. */
function rateLimited(request: JsonRpcRequest, limit: RateLimit, retryAfterSeconds: number): SessiongateError {
  return new SessiongateError('SG_RATE_LIMITED', `Too many requests: ${limit.requests} allowed per ${limit.per}`, {
    headers: { 'retry-after': String(retryAfterSeconds) },
    requestId: request.id,
  });
}

/**
 * The reply with its response's list filtered by `keep` (a stream's other messages pass
 * unchanged); `listed` is told every name the upstream listed, before filtering.
 */
function filtered(
  reply: Reply,
  list: (typeof LIST_METHODS)[string],
  listed: (names: string[]) => void,
  keep: (name: string) => boolean,
): Reply {
  const filter = (response: JsonRpcResponse): JsonRpcResponse => {
    const entries = 'result' in response ? response.result[list.field] : undefined;
    if (!('result' in response) || !Array.isArray(entries)) return response;
    const nameOf = (entry: unknown): unknown =>
      typeof entry === 'object' && entry !== null ? (entry as Record<string, unknown>)[list.key] : undefined;
    const names = entries.map(nameOf).filter((name): name is string => typeof name === 'string');
    listed(names);
    return {
      ...response,
      result: {
        ...response.result,
        [list.field]: entries.filter((entry) => {
          const name = nameOf(entry);
          return typeof name === 'string' && keep(name);
        }),
      },
    };
  };
  return mapResponse(reply, filter);
}

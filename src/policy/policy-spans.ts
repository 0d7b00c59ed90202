/**
 * @module policy/policy-spans
 * What the policy adds to a traced request (docs/OBSERVABILITY.md, "Traces"): a `policy` span
 * for the decision (the rule that decided and its effect), a `rate limit` span for a take from
 * the buckets (the store may be a network away), and an `approval` span for the time a call
 * waits for the person or operator asked, the answer an event on it. Nothing when the request
 * is not traced (server/request-trace.ts).
 */
import type { Span } from '@opentelemetry/api';
import type { RequestContext } from '../server/application.js';
import { traceOf } from '../server/request-trace.js';
import type { Decision } from './evaluator.js';

/** A span for deciding, started now; `endDecision` ends it. Undefined when the request is not traced. */
export function decisionSpan(context: RequestContext): Span | undefined {
  return traceOf(context)?.child('policy');
}

/** Ends a `decisionSpan` with the rule that decided and its effect. */
export function endDecision(span: Span, decision: Decision): void {
  span.setAttribute('sessiongate.policy.effect', decision.effect);
  if (decision.rule) span.setAttribute('sessiongate.policy.rule', decision.rule.id);
  span.end();
}

/** A span for a take from the rate-limit buckets, ended by the returned function with whether it passed. */
export function rateLimitSpan(context: RequestContext, ruleId: string): ((passed: boolean) => void) | undefined {
  const span = traceOf(context)?.child('rate limit', { 'sessiongate.policy.rule': ruleId });
  if (!span) return undefined;
  return (passed) => {
    span.setAttribute('sessiongate.rate_limit.passed', passed);
    span.end();
  };
}

/**
 * A span for a call waiting for `approver` ('user' or 'operator'), ended by the returned
 * function once (the outcome and who answered, an `approval.decided` event).
 */
export function approvalSpan(
  context: RequestContext,
  ruleId: string,
  approver: string,
): ((outcome: string, by?: string) => void) | undefined {
  const span = traceOf(context)?.child('approval', { 'sessiongate.approval.asks': approver, 'sessiongate.policy.rule': ruleId });
  if (!span) return undefined;
  let ended = false;
  return (outcome, by) => {
    if (ended) return;
    ended = true;
    span.addEvent('approval.decided', {
      'sessiongate.approval.outcome': outcome,
      ...(by !== undefined && { 'sessiongate.approval.by': by }),
    });
    span.setAttribute('sessiongate.approval.outcome', outcome);
    span.end();
  };
}

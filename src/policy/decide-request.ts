/**
 * @module policy/decide-request
 * What the policy decides for one request, in one place for the gateway's gate and for
 * `sessiongate policy explain` (docs/POLICY.md, "How a call is decided"): the request in the
 * form the upstream acts on (protocol/request-hygiene.ts), the call it makes, the server it
 * goes to behind a federation (for a resource whose server only routing settles, the most
 * any server's rules allow: the federation asks again for the server reached), and a
 * completion's `approve` let through (nobody is asked to approve a completion).
 */
import type { JsonRpcRequest } from '../protocol/jsonrpc.js';
import { normalizedRequest } from '../protocol/request-hygiene.js';
import { type Call, type Caller, callOf, type ServerOf } from './call.js';
import { STRENGTH } from './compiled-rule.js';
import type { Decision, PolicyEvaluator } from './evaluator.js';

export interface RequestDecision {
  /** The request as it goes on (the same object when nothing changed). */
  readonly request: JsonRpcRequest;
  readonly call: Call;
  readonly decision: Decision;
}

export interface Servers {
  /** The server of a tool, prompt or resource, when routing knows it. */
  serverOf?: ServerOf | undefined;
  /** Every federated server's name. */
  servers?: (() => readonly string[]) | undefined;
}

/** Throws 400 / -32602 (SG_INVALID_PARAMS) for a resource URI with no normal form. */
export function decideRequest(policy: PolicyEvaluator, caller: Caller, given: JsonRpcRequest, where: Servers = {}): RequestDecision {
  // Normalized here too: a policy may be composed without the hygiene stage, and a request
  // already in its normal form comes back as the same object (docs/SECURITY.md, "Decided on the normal form").
  const request = normalizedRequest(given);
  const call = callOf(request);
  if (where.serverOf && call.kind !== 'method') call.server = where.serverOf(call);
  let decision =
    call.kind === 'resource' && call.server === undefined && where.servers
      ? mostPermissive(policy, caller, call, where.servers())
      : policy.decide(caller, call);
  // A completion reveals what it completes; nobody is asked to approve one (a list shows approve as usable too).
  if (request.method === 'completion/complete' && call.kind !== 'method' && decision.effect === 'approve')
    decision = { effect: 'allow', rule: decision.rule };
  return { request, call, decision };
}

/** Of the decisions for each server a resource may reach, the one that lets most through. */
function mostPermissive(policy: PolicyEvaluator, caller: Caller, call: Call, servers: readonly string[]): Decision {
  let best: Decision | undefined;
  for (const server of servers) {
    const decision = policy.decide(caller, { ...call, server });
    if (!best || STRENGTH[decision.effect] > STRENGTH[best.effect]) best = decision;
  }
  return best ?? policy.decide(caller, call);
}

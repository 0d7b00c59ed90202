/**
 * @module policy
 * `sessiongate/policy`: who may call what (docs/POLICY.md). Rules from a JSON or YAML file,
 * checked against a published JSON Schema, decided per call (deny beats approve beats allow),
 * and `policyGate` to put them in front of any application, `createSessionServer`'s included.
 */
export { compilePolicy, PolicyEvaluator, type Decision } from './evaluator.js';
export { parsePolicy, readPolicyFile, PolicyError } from './read-policy.js';
export { POLICY_SCHEMA } from './policy-schema.js';
export {
  policyGate,
  policyStage,
  verdictOf,
  type PolicyControls,
  type PolicyGate,
  type PolicyGateOptions,
  type Verdict,
} from './policy-gate.js';
export { callerOf, callOf, GOVERNED_METHODS, type Call, type Caller, type CallKind } from './call.js';
export { POLICY_ERRORS, type PolicyErrorCode } from './policy-errors.js';
export { RateLimiter, storeLimiter, type Limiter } from './rate-limiter.js';
export type { Effect, PolicyDocument, PolicyRule, RateLimit } from './policy-document.js';

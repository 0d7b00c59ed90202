/**
 * @module policy/policy-document
 * A policy file as written (docs/POLICY.md): rules of who may do what, each with an effect.
 * The types follow POLICY_SCHEMA; a document is only ever built from one the schema accepted.
 */

export type Effect = 'allow' | 'deny' | 'approve';

export interface RateLimit {
  /** Requests allowed per window (the bucket's size). */
  requests: number;
  /** The window, e.g. "1m": the bucket refills `requests` tokens over it. */
  per: string;
  /** Whose bucket: one per principal and rule (default), or per principal, rule and tool. */
  key?: 'principal' | 'principal+tool';
}

export interface PolicyRule {
  id: string;
  effect: Effect;
  description?: string;
  // Who: every condition given must hold.
  /**
   * Identity providers (`iss`) whose callers the rule is about. Without it, a rule naming
   * `subjects`, `claims`, `scopes` or `clients` is about the default issuer's callers only.
   */
  issuers?: string[];
  subjects?: string[];
  claims?: Record<string, string | number | boolean | (string | number | boolean)[]>;
  scopes?: string[];
  clients?: string[];
  anonymous?: boolean;
  // What: globs with `*`.
  tools?: string[];
  resources?: string[];
  prompts?: string[];
  methods?: string[];
  /** Federated servers (by name) whose calls the rule is about: every call named must go to one of them. */
  servers?: string[];
  /**
   * Servers (globs) a person connects with their own credentials (docs/CREDENTIALS.md): the rule
   * is about connecting them, and using a connection made. `allow` or `deny` only.
   */
  connections?: string[];
  /**
   * Servers the caller must have connected with their own credentials (docs/CREDENTIALS.md):
   * an allow or approve from this rule lets the call on only then; otherwise the caller is told
   * to connect them (the URL-elicitation error). Not a condition of who the rule is about.
   */
  requires?: string[];
  /** A JSON Schema the call's arguments must satisfy for the rule to apply. */
  arguments?: Record<string, unknown>;
  /** Shown to a denied caller. */
  reason?: string;
  approver?: 'user' | 'operator';
  remember?: string;
  rateLimit?: RateLimit;
}

export interface PolicyDocument {
  default?: 'allow' | 'deny';
  rules: PolicyRule[];
}

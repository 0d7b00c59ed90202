/**
 * @module server/request-key
 * A typed value one stage leaves on a request for the stages around it (the policy's verdict,
 * which the audit line carries): `context.set(KEY, value)`, `context.get(KEY)`. Held by the
 * request's context and gone with it, so nothing long-lived keeps a request-scoped object
 * (docs/ARCHITECTURE.md, "Stages").
 */
export class RequestKey<T> {
  /** Never set: it only carries the value's type. */
  declare readonly type: T;
  constructor(readonly name: string) {}
}

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

/** The values of one request: no map until one is set (most requests carry none). */
export class RequestValues {
  #values: Map<RequestKey<unknown>, unknown> | undefined;

  get<T>(key: RequestKey<T>): T | undefined {
    return this.#values?.get(key) as T | undefined;
  }

  set<T>(key: RequestKey<T>, value: T): void {
    (this.#values ??= new Map()).set(key, value);
  }
}

/**
 * @module store/grant-store
 * What the gateway's authorization server keeps
 * (docs/AUTH.md, "The gateway as the authorization server"): registered clients, authorization codes, consents, refresh-token
 * families, sign-ins under way. Each is a value under a key until a time; every change that
 * decides something (a code used once, a refresh token rotated once) is a compare-and-set, so
 * two replicas never both win.
 */
export interface GrantStore {
  /** Keeps `value` under `key` until `expiresAt` unless a value is kept there: true when this caller put it. */
  add(key: string, value: string, expiresAt: number, now: number): Promise<boolean>;
  /** The value under `key` while it is kept. */
  get(key: string, now: number): Promise<string | undefined>;
  /**
   * Replaces the value under `key` with `next`, kept until `expiresAt` (forgets it when `next` is
   * undefined), only if it is still `expected`, as one atomic step: true when this caller did.
   */
  swap(key: string, expected: string, next: string | undefined, expiresAt: number, now: number): Promise<boolean>;
}

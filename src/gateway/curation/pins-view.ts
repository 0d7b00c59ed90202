/**
 * @module gateway/curation/pins-view
 * What the admin API and the console show of pins (pin-desk.ts makes it): its own file with
 * no imports, so the console's page shares the type without bundling the gateway.
 */

/** One tool waiting for an operator: the definition pinned (null for an addition) and the one the server lists now. */
export interface PendingView {
  server: string;
  tool: string;
  change: 'changed' | 'added';
  fields: string[];
  hash: string;
  seenAt: string;
  accepted: { hash: string; definition: Record<string, unknown> | null } | null;
  /** Null when too large to keep (its hash is recorded). */
  definition: Record<string, unknown> | null;
}

export interface PinsView {
  pending: PendingView[];
  /** Per server: how many tools are pinned, and whether a complete list was seen. */
  servers: { name: string; pinned: number; sealed: boolean }[];
}

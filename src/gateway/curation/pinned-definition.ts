/**
 * @module gateway/curation/pinned-definition
 * What a pin holds of a tool (docs/CURATION.md, "Pinning"): the parts a model reads or a call
 * is checked against (name, title, description, input and output schema, annotations), their
 * hash (SHA-256 of the RFC 8785 canonical form, so key order and spacing never count as a
 * change), and which of them differ between two definitions.
 */
import { createHash } from 'node:crypto';
import { isObject, type JsonObject } from '../../protocol/jsonrpc.js';
import { canonicalJson } from '../audit-log/canonical-json.js';

/** The parts of a tool a pin covers; `_meta`, icons and execution hints are not pinned. */
export const PINNED_FIELDS = ['name', 'title', 'description', 'inputSchema', 'outputSchema', 'annotations'] as const;

/** A definition kept for the console's side-by-side view only up to this size (its hash is always kept). */
export const SHOWN_DEFINITION_BYTES = 64 * 1024;

export interface PinnedDefinition {
  /** `sha256:` and 64 hex digits. */
  readonly hash: string;
  /** The pinned parts, for the console; null when larger than SHOWN_DEFINITION_BYTES. */
  readonly definition: JsonObject | null;
}

/** The pinned parts of a listed tool, and their hash. */
export function pinnedDefinition(tool: JsonObject): PinnedDefinition {
  const parts: JsonObject = {};
  for (const field of PINNED_FIELDS) if (tool[field] !== undefined) parts[field] = tool[field];
  const canonical = canonicalJson(parts);
  const hash = `sha256:${createHash('sha256').update(canonical).digest('hex')}`;
  return { hash, definition: Buffer.byteLength(canonical) <= SHOWN_DEFINITION_BYTES ? parts : null };
}

/** The pinned parts that differ (every one when either side was too large to keep). */
export function changedFields(before: JsonObject | null | undefined, after: JsonObject | null): string[] {
  if (!isObject(before) || !isObject(after)) return [...PINNED_FIELDS];
  return PINNED_FIELDS.filter((field) => canonicalJson(before[field] ?? null) !== canonicalJson(after[field] ?? null));
}

/** Definitions remembered per stage before they are forgotten all at once (a server listing ever new names cannot grow it). */
const REMEMBERED = 10_000;

/**
 * The pinned definitions of listed tools, hashed once per distinct tool: a tool listed again as
 * it was (compared member by member with the one seen last, which allocates nothing) reuses its
 * hash, which the canonical form and SHA-256 make about 2.4 µs a tool (bench/RESULTS.md,
 * "Issue 41").
 */
export class DefinitionCache {
  readonly #byTool = new Map<string, { tool: JsonObject; pinned: PinnedDefinition }>();

  of(key: string, tool: JsonObject): PinnedDefinition {
    const known = this.#byTool.get(key);
    if (known && sameJson(known.tool, tool)) return known.pinned;
    const pinned = pinnedDefinition(tool);
    if (this.#byTool.size >= REMEMBERED) this.#byTool.clear();
    this.#byTool.set(key, { tool, pinned });
    return pinned;
  }
}

/** Two parsed JSON values alike, member order aside. */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const left = a as Record<string, unknown>;
  const right = b as Record<string, unknown>;
  let count = 0;
  for (const key in left) {
    if (!Object.hasOwn(right, key) || !sameJson(left[key], right[key])) return false;
    count++;
  }
  for (const key in right) if (Object.hasOwn(right, key)) count--;
  return count === 0;
}

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

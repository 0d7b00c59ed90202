/**
 * @module gateway/audit-log/canonical-json
 * The canonical form of a JSON value that an audit line's hash covers
 * (docs/AUDIT.md, "The chain"): RFC 8785 (JCS) for the values an audit line holds. Object members are sorted by
 * their names' UTF-16 code units (what `Array.prototype.sort` compares), members whose value is
 * `undefined` are left out, and strings and numbers are written as ECMAScript's `JSON.stringify`
 * writes them, which is the serialization JCS prescribes.
 *
 * Fast path: a copy with its members inserted in sorted order, serialized by the native
 * `JSON.stringify` (which keeps insertion order for names that are not array indexes). Names
 * that are array indexes ("0", "12") would be reordered by the engine, so an object holding one
 * takes the slow path, which writes every member itself.
 */
const INDEX_LIKE = /^(?:0|[1-9]\d*)$/;
/** What `sortedCopy` answers for a value holding an index-like name anywhere. */
const INDEXED = Symbol('indexed');

export function canonicalJson(value: unknown): string {
  const copy = sortedCopy(value);
  return copy === INDEXED ? slowCanonical(value) : (JSON.stringify(copy) ?? 'null');
}

function sortedCopy(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map((item) => sortedCopy(item ?? null));
    return items.includes(INDEXED) ? INDEXED : items;
  }
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const name of Object.keys(record).sort()) {
    if (INDEX_LIKE.test(name)) return INDEXED;
    if (record[name] === undefined) continue;
    const member = sortedCopy(record[name]);
    if (member === INDEXED) return INDEXED;
    copy[name] = member;
  }
  return copy;
}

/** Every member written here, in JCS order, for objects the fast path cannot order. */
function slowCanonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => slowCanonical(item ?? null)).join(',')}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const name of Object.keys(record).sort()) {
    if (record[name] !== undefined) members.push(`${JSON.stringify(name)}:${slowCanonical(record[name])}`);
  }
  return `{${members.join(',')}}`;
}

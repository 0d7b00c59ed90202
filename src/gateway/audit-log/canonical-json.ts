/**
 * @module gateway/audit-log/canonical-json
 * The canonical form of a JSON value that an audit line's hash covers (docs/AUDIT.md, "The
 * chain"): RFC 8785 (JCS) for the values an audit line holds. Object keys are sorted by UTF-16
 * code units (what `Array.prototype.sort` compares), members whose value is `undefined` are left
 * out, and strings and numbers are written as ECMAScript's `JSON.stringify` writes them, which
 * is the serialization JCS prescribes.
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    if (record[key] !== undefined) members.push(`${JSON.stringify(key)}:${canonicalJson(record[key])}`);
  }
  return `{${members.join(',')}}`;
}

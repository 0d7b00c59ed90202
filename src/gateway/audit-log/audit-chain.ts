/**
 * @module gateway/audit-log/audit-chain
 * The hash chain an audit log's lines form (docs/AUDIT.md, "The chain"): each line carries `seq`
 * (one more than the line before), `prev` (that line's hash) and `hash`, the SHA-256 (hex) of
 * the line's canonical form without `hash`. Editing, removing, reordering or inserting a line
 * breaks the chain from there on. A checkpoint line also carries an Ed25519 `signature` over the
 * head it follows, so a chain rewritten from some line on no longer matches the next signature.
 */
import { createHash, type KeyObject, sign, verify } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

/** The `prev` of a chain's first line. */
export const GENESIS = '0'.repeat(64);

/** Where a chain stands: the last line's `seq` and `hash`. */
export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

export const EMPTY_CHAIN: ChainHead = { seq: 0, hash: GENESIS };

/** The hash a line must carry: SHA-256 over its canonical form without `hash`. */
export function lineHash(fields: Readonly<Record<string, unknown>>): string {
  const { hash: _, ...rest } = fields;
  return createHash('sha256').update(canonicalJson(rest)).digest('hex');
}

/**
 * `fields` (without `seq`, `prev`, `hash`) as the next line after `head`: its text (no newline)
 * and the new head. The line is written in its canonical form with `hash` appended, so the
 * text before `,"hash":` is what the hash covers (with U+2028, U+2029 and U+0085 escaped, which
 * JSON.stringify leaves raw: some readers split lines there, docs/AUDIT.md), serialized once.
 */
export function chainLine(fields: Record<string, unknown>, head: ChainHead): { text: string; head: ChainHead } {
  fields['seq'] = head.seq + 1;
  fields['prev'] = head.hash;
  const canonical = canonicalJson(fields);
  const hash = createHash('sha256').update(canonical).digest('hex');
  const text = `${canonical.slice(0, -1)},"hash":"${hash}"}`;
  return { text: LINE_BREAKING.test(text) ? text.replace(LINE_BREAKING_ALL, escaped) : text, head: { seq: head.seq + 1, hash } };
}

/** Characters a JSON string may hold raw that some readers take as the end of a line. */
const LINE_BREAKING = /[\u0085\u2028\u2029]/;
const LINE_BREAKING_ALL = /[\u0085\u2028\u2029]/g;
const escaped = (character: string): string => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * What a checkpoint signs: the replica's chain head it follows, and whether it is the run's
 * last (written at a clean shutdown): a log cut after an earlier checkpoint lacks that one.
 */
export function checkpointPayload(replica: string, head: ChainHead, final: boolean): Buffer {
  return Buffer.from(`sessiongate-audit-checkpoint\n${replica}\n${head.seq}\n${head.hash}${final ? '\nfinal' : ''}`);
}

export function signCheckpoint(key: KeyObject, replica: string, head: ChainHead, final: boolean): string {
  return sign(null, checkpointPayload(replica, head, final), key).toString('base64');
}

export function checkpointValid(key: KeyObject, replica: string, head: ChainHead, signature: string, final: boolean): boolean {
  try {
    return verify(null, checkpointPayload(replica, head, final), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/**
 * @module server/resume/event-ids
 * SSE event ids (S11): `STREAM.SEQ`, where STREAM is a kind letter (`c` a call's stream, `l` a
 * session's GET stream) and 128 random bits, and SEQ counts the stream's events from 1 (0 is
 * the priming event). Unique across a session's streams, naming the stream they belong to, and
 * unguessable from another session.
 */

export type StreamKind = 'c' | 'l';

export interface EventPosition {
  readonly streamId: string;
  readonly kind: StreamKind;
  /** The last event the client has. */
  readonly seq: number;
}

const SHAPE = /^([cl])[A-Za-z0-9_-]{22}\.(\d{1,15})$/;

const ID_BYTES = 16;
/** CSPRNG bytes drawn 4 KiB at a time, each used once: one call per 256 ids (a call per id cost 6% of an SSE answer). */
const pool = Buffer.alloc(ID_BYTES * 256);
let poolUsed = pool.length;

export function mintStreamId(kind: StreamKind): string {
  if (poolUsed === pool.length) {
    crypto.getRandomValues(pool);
    poolUsed = 0;
  }
  const id = pool.toString('base64url', poolUsed, poolUsed + ID_BYTES);
  poolUsed += ID_BYTES;
  return kind + id;
}

export function eventId(streamId: string, seq: number): string {
  return `${streamId}.${seq}`;
}

/** The SSE event of a stream's message number `seq` (sent live, or replayed from the log). */
export function numberedEvent(streamId: string, seq: number, data: string): string {
  return `id: ${eventId(streamId, seq)}\nevent: message\ndata: ${data}\n\n`;
}

/** Where a `Last-Event-ID` points, or undefined when it is not one of ours. */
export function parseEventId(value: string): EventPosition | undefined {
  const match = SHAPE.exec(value);
  if (!match) return undefined;
  return { streamId: value.slice(0, value.indexOf('.')), kind: match[1] as StreamKind, seq: Number(match[2]) };
}

/**
 * @module store/redis/redis-stream-log
 * Stream events in Redis, readable by every replica: per stream a hash (its head) and a Redis
 * Stream of its events (entry id `0-SEQ`, trimmed to `maxEvents`), both expiring at the
 * stream's `keepUntil`; per session a set of its stream ids, so a session's end drops them all.
 * Each operation is one script: one round trip, one atomic step.
 */
import type { Cluster, Redis } from 'ioredis';
import type { RequestId } from '../../protocol/jsonrpc.js';
import type { StreamHead, StreamLog, StreamPage, StreamWrite } from '../stream-log.js';

/**
 * KEYS: head, events, session's set. ARGV: streamId, requestId, owner, done, keepUntil,
 * maxEvents, now, lastSeq, cursor ('' for none), then seq, data pairs.
 */
const WRITE = `
redis.call('HSET', KEYS[1], 'requestId', ARGV[2], 'owner', ARGV[3], 'done', ARGV[4], 'lastSeq', ARGV[8], 'cursor', ARGV[9])
redis.call('PEXPIREAT', KEYS[1], ARGV[5])
if #ARGV >= 10 then
  for i = 10, #ARGV, 2 do redis.pcall('XADD', KEYS[2], '0-' .. ARGV[i], 'd', ARGV[i + 1]) end
  redis.call('XTRIM', KEYS[2], 'MAXLEN', ARGV[6])
end
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIREAT', KEYS[2], ARGV[5]) end
redis.call('SADD', KEYS[3], ARGV[1])
local left = tonumber(ARGV[5]) - tonumber(ARGV[7])
if redis.call('PTTL', KEYS[3]) < left then redis.call('PEXPIRE', KEYS[3], left) end
return 1
`;

/** KEYS: head, events. ARGV: first seq wanted, limit. */
const READ = `
local head = redis.call('HMGET', KEYS[1], 'requestId', 'owner', 'done', 'lastSeq', 'cursor')
if not head[1] then return false end
return {head[1], head[2], head[3], head[4], head[5], redis.call('XRANGE', KEYS[2], '0-' .. ARGV[1], '+', 'COUNT', ARGV[2])}
`;

/** KEYS: head. ARGV: the owner expected, the new owner. */
const CLAIM = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'owner', ARGV[2])
return 1
`;

/** KEYS: session's set. ARGV: head key prefix, events key prefix. */
const DROP = `
for _, stream in ipairs(redis.call('SMEMBERS', KEYS[1])) do redis.call('DEL', ARGV[1] .. stream, ARGV[2] .. stream) end
redis.call('DEL', KEYS[1])
return 1
`;

type Entry = [string, string[]];

interface Scripted {
  sgStreamWrite(...args: (string | number)[]): Promise<number>;
  sgStreamRead(...args: (string | number)[]): Promise<[string, string, string, string | null, string | null, Entry[]] | null>;
  sgStreamClaim(...args: (string | number)[]): Promise<number>;
  sgStreamDrop(...args: (string | number)[]): Promise<number>;
}

export class RedisStreamLog implements StreamLog {
  readonly #redis: (Redis | Cluster) & Scripted;
  readonly #prefix: string;
  readonly #call: <T>(command: () => Promise<T>) => Promise<T>;

  /** `call` runs a command as the store does (waiting for a connection, failures as 503). */
  constructor(redis: Redis | Cluster, prefix: string, call: <T>(command: () => Promise<T>) => Promise<T>) {
    redis.defineCommand('sgStreamWrite', { numberOfKeys: 3, lua: WRITE });
    redis.defineCommand('sgStreamRead', { numberOfKeys: 2, lua: READ });
    redis.defineCommand('sgStreamDrop', { numberOfKeys: 1, lua: DROP });
    redis.defineCommand('sgStreamClaim', { numberOfKeys: 1, lua: CLAIM });
    this.#redis = redis as (Redis | Cluster) & Scripted;
    this.#prefix = prefix;
    this.#call = call;
  }

  async write({ sessionId, streamId, head, events, keepUntil, maxEvents }: StreamWrite): Promise<void> {
    const args: (string | number)[] = [
      this.#headKey(sessionId) + streamId,
      this.#eventsKey(sessionId) + streamId,
      this.#setKey(sessionId),
      streamId,
      JSON.stringify(head.requestId),
      head.owner,
      head.done ? 1 : 0,
      Math.ceil(keepUntil),
      maxEvents,
      Date.now(),
      head.lastSeq,
      head.cursor ?? '',
    ];
    for (const event of events) args.push(event.seq, event.data);
    await this.#call(() => this.#redis.sgStreamWrite(...args));
  }

  async read(sessionId: string, streamId: string, afterSeq: number, limit: number): Promise<StreamPage | undefined> {
    const found = await this.#call(() =>
      this.#redis.sgStreamRead(this.#headKey(sessionId) + streamId, this.#eventsKey(sessionId) + streamId, afterSeq + 1, limit),
    );
    if (!found) return undefined;
    const [requestId, owner, done, lastSeq, cursor, entries] = found;
    const head: StreamHead = {
      requestId: JSON.parse(requestId) as RequestId | null,
      owner,
      done: done === '1',
      lastSeq: Number(lastSeq),
      cursor: cursor || undefined, // '' or nil (a head written before cursors): none
    };
    return { head, events: entries.map(([id, fields]) => ({ seq: Number(id.slice(2)), data: fields[1]! })) };
  }

  async claim(sessionId: string, streamId: string, from: string, owner: string): Promise<boolean> {
    return (await this.#call(() => this.#redis.sgStreamClaim(this.#headKey(sessionId) + streamId, from, owner))) === 1;
  }

  async drop(sessionId: string): Promise<void> {
    await this.#call(() => this.#redis.sgStreamDrop(this.#setKey(sessionId), this.#headKey(sessionId), this.#eventsKey(sessionId)));
  }

  /** Redis expires streams itself. */
  async sweep(): Promise<void> {}

  async heartbeat(owner: string, aliveUntil: number, now: number): Promise<void> {
    const key = `${this.#prefix}run:${owner}`;
    if (aliveUntil <= now) await this.#call(() => this.#redis.del(key));
    else await this.#call(() => this.#redis.set(key, aliveUntil, 'PX', Math.ceil(aliveUntil - now)));
  }

  async aliveUntil(owner: string): Promise<number> {
    return Number((await this.#call(() => this.#redis.get(`${this.#prefix}run:${owner}`))) ?? 0);
  }

  #headKey(sessionId: string): string {
    return `${this.#prefix}sh:${sessionId}:`;
  }

  #eventsKey(sessionId: string): string {
    return `${this.#prefix}se:${sessionId}:`;
  }

  #setKey(sessionId: string): string {
    return `${this.#prefix}ss:${sessionId}`;
  }
}

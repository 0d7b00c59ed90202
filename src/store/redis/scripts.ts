/**
 * @module store/redis/scripts
 * Lua scripts: each store operation that reads and writes is one atomic script. Keys: the
 * session hash, the expiry sorted set (score = deadline), and one sorted set per principal (the
 * anonymous sessions, principal '', have theirs too: the bare principal prefix).
 * Cluster note: the principal key is derived inside the scripts, so this layout is for a single
 * Redis (or Sentinel); a Cluster layout is future work (issue "replicas").
 */

/** KEYS: hash, expiry, principalSet, ids. ARGV: id, now, maxSessions, this principal's cap, principal,
 * data, lastSeenAt, idleExpiresAt, absoluteExpiresAt, expiresAt, graceMs, protocolVersion. */
export const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 'duplicate' end
local maxS = tonumber(ARGV[3])
if maxS >= 0 and redis.call('ZCOUNT', KEYS[2], '(' .. ARGV[2], '+inf') >= maxS then return 'cap-global' end
local maxP = tonumber(ARGV[4])
if maxP >= 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[2])
  if redis.call('ZCARD', KEYS[3]) >= maxP then return 'cap-principal' end
end
redis.call('HSET', KEYS[1], 'data', ARGV[6], 'principal', ARGV[5], 'lastSeenAt', ARGV[7],
  'idleExpiresAt', ARGV[8], 'absoluteExpiresAt', ARGV[9], 'protocolVersion', ARGV[12])
local hardEnd = tonumber(ARGV[10]) + tonumber(ARGV[11])
redis.call('PEXPIREAT', KEYS[1], hardEnd)
redis.call('ZADD', KEYS[2], ARGV[10], ARGV[1])
redis.call('ZADD', KEYS[4], 0, ARGV[1])
redis.call('ZADD', KEYS[3], ARGV[10], ARGV[1])
local absEnd = tonumber(ARGV[9]) + tonumber(ARGV[11])
if redis.call('PTTL', KEYS[3]) < absEnd - tonumber(ARGV[2]) then redis.call('PEXPIREAT', KEYS[3], absEnd) end
return 'created'
`;

/** KEYS: hash, expiry. ARGV: id, lastSeenAt, idleExpiresAt, graceMs, principalPrefix. */
export const TOUCH = `
local fields = redis.call('HMGET', KEYS[1], 'absoluteExpiresAt', 'principal')
if not fields[1] then return 0 end
redis.call('HSET', KEYS[1], 'lastSeenAt', ARGV[2], 'idleExpiresAt', ARGV[3])
local deadline = math.min(tonumber(ARGV[3]), tonumber(fields[1]))
redis.call('PEXPIREAT', KEYS[1], deadline + tonumber(ARGV[4]))
redis.call('ZADD', KEYS[2], deadline, ARGV[1])
redis.call('ZADD', ARGV[5] .. fields[2], 'XX', deadline, ARGV[1])
return 1
`;

/** KEYS: hash. ARGV: field, value. Sets a field of an existing session only. */
export const SET_FIELD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/** KEYS: hash. ARGV: field. Removes a field of an existing session only. */
export const DELETE_FIELD = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
`;

/** KEYS: hash, expiry, ids. ARGV: id, principalPrefix. Returns the hash (flat) or nil. */
export const DELETE = `
local fields = redis.call('HGETALL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
if #fields == 0 then return nil end
redis.call('DEL', KEYS[1])
for i = 1, #fields, 2 do
  if fields[i] == 'principal' then redis.call('ZREM', ARGV[2] .. fields[i + 1], ARGV[1]) end
end
return fields
`;

/** KEYS: expiry, ids. ARGV: now, limit, hashPrefix, principalPrefix. Returns {id, fields, ...}. */
export const SWEEP = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
  local key = ARGV[3] .. id
  local fields = redis.call('HGETALL', key)
  if #fields > 0 then
    redis.call('DEL', key)
    for i = 1, #fields, 2 do
      if fields[i] == 'principal' then redis.call('ZREM', ARGV[4] .. fields[i + 1], id) end
    end
    table.insert(out, id)
    table.insert(out, fields)
  end
end
return out
`;

/** KEYS: hash. The next ownership epoch, or 0 when the session is gone (no partial hash left). */
export const CLAIM = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HINCRBY', KEYS[1], 'ownerEpoch', 1)
`;

/**
 * KEYS: bucket hash. ARGV: capacity, refillPerMs, now, lifetimeMs. Takes one token (0), or
 * returns the ms until one will be there: store/token-bucket.ts `takeFrom`, as one atomic step.
 */
export const TAKE_TOKEN = `
local capacity = tonumber(ARGV[1])
local refill = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local tokens = capacity
local stored = redis.call('HMGET', KEYS[1], 'tokens', 'at')
if stored[1] then
  tokens = math.min(capacity, tonumber(stored[1]) + math.max(0, now - tonumber(stored[2])) * refill)
end
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / refill) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return wait
`;

/**
 * KEYS: approval, pending index. ARGV: record JSON, keep-until (ms), id, createdAt, status, now.
 * Keeps the approval unless one is kept under its id (returned instead): store/approval-record.ts.
 */
export const OPEN_APPROVAL = `
local kept = redis.call('GET', KEYS[1])
if kept and tonumber(cjson.decode(kept).expiresAt) > tonumber(ARGV[6]) then return kept end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
if ARGV[5] == 'pending' then redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3]) else redis.call('ZREM', KEYS[2], ARGV[3]) end
return ARGV[1]
`;

/**
 * KEYS: approval, pending index. ARGV: from status, next record JSON ('' forgets it), keep-until
 * (ms), id, now, next status. 1 when moved: the status check and the change are one step.
 */
export const MOVE_APPROVAL = `
local kept = redis.call('GET', KEYS[1])
if not kept then return 0 end
local record = cjson.decode(kept)
if record.status ~= ARGV[1] or tonumber(record.expiresAt) <= tonumber(ARGV[5]) then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('PEXPIREAT', KEYS[1], ARGV[3])
end
if ARGV[6] == 'pending' then redis.call('ZADD', KEYS[2], tonumber(record.createdAt), ARGV[4]) else redis.call('ZREM', KEYS[2], ARGV[4]) end
return 1
`;

/**
 * Grants (redis-grants.ts) are kept as "expiresAt:value" with a native TTL as well, so a grant
 * past its time (by the caller's clock) is gone even before Redis drops it. ADD_GRANT: KEYS[1];
 * ARGV kept text, its TTL in ms, now. 1 when no live grant was there and this one is kept.
 */
export const ADD_GRANT = `
local kept = redis.call('GET', KEYS[1])
if kept and tonumber(string.match(kept, '^(%d+):')) > tonumber(ARGV[3]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`;

/**
 * SWAP_GRANT: KEYS[1]; ARGV the expected value (without its expiry), the next ('' forgets it), its TTL in ms,
 * now. 1 when the live grant was the expected one and is now replaced.
 */
export const SWAP_GRANT = `
local kept = redis.call('GET', KEYS[1])
if not kept then return 0 end
local at, value = string.match(kept, '^(%d+):(.*)$')
if value ~= ARGV[1] or tonumber(at) <= tonumber(ARGV[4]) then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1
`;

/**
 * The Lua scripts of the `redis` session store: each call is one script, so each is atomic on the Redis
 * side (a crash or a second broker sees it done or not done) and one round trip.
 *
 * Every script takes the same KEYS, all in one hash slot (see `redis.ts`):
 *   1 s    hash  n = last seq, x = expiry (unix ms, absent while connected), qn/qb = queued count/bytes,
 *               sc/ic = subscription/incoming order counters, w = will blob
 *   2 sub  hash  topic -> qos digit, then the options JSON when there are options
 *   3 so   zset  topic by the order it was first added
 *   4 o    hash  seq -> message blob (codec.ts), never changed
 *   5 m    hash  seq -> "state:packetId:qos:bytes"
 *   6 q    zset  seqs of the Queued entries (oldest first, for the bounds)
 *   7 p    hash  packetId -> seq of the in-flight entries
 *   8 i    zset  incoming QoS 2 packet ids by the order received
 *   9 idx  zset  the bucket's index: client id -> expiry (+inf while connected), for list and purge
 * ARGV[1] is the store's clock (unix ms), ARGV[2] the client id; a script's own arguments follow.
 */

const PRELUDE = `
local now = tonumber(ARGV[1])
local id = ARGV[2]
-- 0: no session, 1: live, 2: expired
local function state()
  local v = redis.call('HMGET', KEYS[1], 'n', 'x')
  if not v[1] then return 0 end
  if v[2] and tonumber(v[2]) <= now then return 2 end
  return 1
end
local function wipe()
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8])
  redis.call('ZREM', KEYS[9], id)
end
-- Makes the session exist (connected, empty), replacing an expired one; 1 when it made one.
local function ensure()
  local st = state()
  if st == 1 then return 0 end
  if st == 2 then wipe() end
  redis.call('HSET', KEYS[1], 'n', 0, 'qn', 0, 'qb', 0)
  redis.call('ZADD', KEYS[9], '+inf', id)
  return 1
end
local function subscriptions()
  local out = {}
  for _, topic in ipairs(redis.call('ZRANGE', KEYS[3], 0, -1)) do
    out[#out + 1] = topic
    out[#out + 1] = redis.call('HGET', KEYS[2], topic)
  end
  return out
end
local function record()
  local v = redis.call('HMGET', KEYS[1], 'x', 'w')
  return { v[1], v[2], subscriptions(), redis.call('HGETALL', KEYS[5]), redis.call('HGETALL', KEYS[4]),
    redis.call('ZRANGE', KEYS[8], 0, -1) }
end
`;

const script = (body: string): string => PRELUDE + body;

/** The scripts by command name (defined on the client with 9 keys each). */
export const SessionScripts = {
  /** -> the record before (false when none), and clears the expiry. */
  sessionOpen: script(`
local before = false
if state() == 1 then
  before = record()
  redis.call('HDEL', KEYS[1], 'x')
  redis.call('ZADD', KEYS[9], '+inf', id)
else
  ensure()
end
return { before }
`),
  /** -> the record, false when none. */
  sessionLoad: script(`
if state() ~= 1 then return false end
return record()
`),
  /** ARGV[3]: expiry in unix ms, '' to clear it. */
  sessionSetExpiry: script(`
ensure()
if ARGV[3] == '' then
  redis.call('HDEL', KEYS[1], 'x')
  redis.call('ZADD', KEYS[9], '+inf', id)
else
  redis.call('HSET', KEYS[1], 'x', ARGV[3])
  redis.call('ZADD', KEYS[9], ARGV[3], id)
end
return 1
`),
  sessionDelete: script(`
wipe()
return 1
`),
  /** -> 1 when it deleted an expired session. */
  sessionPurge: script(`
local st = state()
if st == 2 then
  wipe()
  return 1
end
if st == 0 then redis.call('ZREM', KEYS[9], id) end
return 0
`),
  /** ARGV[3..]: topic, encoded subscription, topic, ... */
  sessionSubscribe: script(`
ensure()
for j = 3, #ARGV, 2 do
  local topic = ARGV[j]
  if not redis.call('ZSCORE', KEYS[3], topic) then
    redis.call('ZADD', KEYS[3], redis.call('HINCRBY', KEYS[1], 'sc', 1), topic)
  end
  redis.call('HSET', KEYS[2], topic, ARGV[j + 1])
end
return 1
`),
  /** ARGV[3..]: topics. */
  sessionUnsubscribe: script(`
if state() ~= 1 then return 0 end
for j = 3, #ARGV do
  redis.call('ZREM', KEYS[3], ARGV[j])
  redis.call('HDEL', KEYS[2], ARGV[j])
end
return 1
`),
  /** -> flat topic, encoded subscription, ... in order. */
  sessionSubscriptions: script(`
if state() ~= 1 then return {} end
return subscriptions()
`),
  /**
   * ARGV[3] blob, [4] qos, [5] bytes, [6] max queued messages, [7] max queued bytes, [8] packet id when
   * sent at once ('' when queued) -> { seq or -1, dropped }.
   */
  sessionEnqueue: script(`
ensure()
local seq = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[4], seq, ARGV[3])
if ARGV[8] ~= '' then
  redis.call('HSET', KEYS[5], seq, '1:' .. ARGV[8] .. ':' .. ARGV[4] .. ':' .. ARGV[5])
  redis.call('HSET', KEYS[7], ARGV[8], seq)
  return { seq, 0 }
end
redis.call('HSET', KEYS[5], seq, '0:0:' .. ARGV[4] .. ':' .. ARGV[5])
redis.call('ZADD', KEYS[6], seq, seq)
local qn = redis.call('HINCRBY', KEYS[1], 'qn', 1)
local qb = redis.call('HINCRBY', KEYS[1], 'qb', ARGV[5])
local maxn, maxb = tonumber(ARGV[6]), tonumber(ARGV[7])
local dropped, kept = 0, seq
while qn > maxn or qb > maxb do
  local popped = redis.call('ZPOPMIN', KEYS[6])
  if #popped == 0 then break end
  local old = popped[1]
  local bytes = tonumber(string.match(redis.call('HGET', KEYS[5], old), '(%d+)$'))
  redis.call('HDEL', KEYS[4], old)
  redis.call('HDEL', KEYS[5], old)
  qn = qn - 1
  qb = qb - bytes
  dropped = dropped + 1
  if tonumber(old) == seq then kept = -1 end
end
if dropped > 0 then redis.call('HSET', KEYS[1], 'qn', qn, 'qb', qb) end
return { kept, dropped }
`),
  /** ARGV[3] seq, [4] packet id. */
  sessionMarkSent: script(`
if state() ~= 1 then return 0 end
local seq = ARGV[3]
local meta = redis.call('HGET', KEYS[5], seq)
if not meta then return 0 end
local st, pid, qos, bytes = string.match(meta, '^(%d+):(%d+):(%d+):(%d+)$')
if st == '0' then
  redis.call('ZREM', KEYS[6], seq)
  redis.call('HINCRBY', KEYS[1], 'qn', -1)
  if bytes ~= '0' then redis.call('HINCRBY', KEYS[1], 'qb', '-' .. bytes) end
elseif redis.call('HGET', KEYS[7], pid) == seq then
  redis.call('HDEL', KEYS[7], pid)
end
redis.call('HSET', KEYS[7], ARGV[4], seq)
redis.call('HSET', KEYS[5], seq, '1:' .. ARGV[4] .. ':' .. qos .. ':' .. bytes)
return 1
`),
  /** ARGV[3] packet id -> 1 when a QoS 2 entry in flight had it. */
  sessionRelease: script(`
if state() ~= 1 then return 0 end
local seq = redis.call('HGET', KEYS[7], ARGV[3])
if not seq then return 0 end
local meta = redis.call('HGET', KEYS[5], seq)
if not meta then return 0 end
local st, pid, qos, bytes = string.match(meta, '^(%d+):(%d+):(%d+):(%d+)$')
if qos ~= '2' then return 0 end
redis.call('HSET', KEYS[5], seq, '2:' .. pid .. ':2:' .. bytes)
return 1
`),
  /** ARGV[3] packet id -> 1 when an entry in flight had it (now removed). */
  sessionAcknowledge: script(`
if state() ~= 1 then return 0 end
local seq = redis.call('HGET', KEYS[7], ARGV[3])
if not seq then return 0 end
redis.call('HDEL', KEYS[7], ARGV[3])
redis.call('HDEL', KEYS[4], seq)
redis.call('HDEL', KEYS[5], seq)
return 1
`),
  /** -> { metas (flat seq, meta), blobs (flat seq, blob) }. */
  sessionOutgoing: script(`
if state() ~= 1 then return { {}, {} } end
return { redis.call('HGETALL', KEYS[5]), redis.call('HGETALL', KEYS[4]) }
`),
  /** ARGV[3] packet id. */
  sessionIncomingStore: script(`
ensure()
if not redis.call('ZSCORE', KEYS[8], ARGV[3]) then
  redis.call('ZADD', KEYS[8], redis.call('HINCRBY', KEYS[1], 'ic', 1), ARGV[3])
end
return 1
`),
  /** ARGV[3] packet id -> 1 when it was stored. */
  sessionIncomingRelease: script(`
if state() ~= 1 then return 0 end
return redis.call('ZREM', KEYS[8], ARGV[3])
`),
  sessionIncoming: script(`
if state() ~= 1 then return {} end
return redis.call('ZRANGE', KEYS[8], 0, -1)
`),
  /** ARGV[3] the will blob, '' to clear it. */
  sessionSetWill: script(`
ensure()
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], 'w') else redis.call('HSET', KEYS[1], 'w', ARGV[3]) end
return 1
`),
} as const;

/** The number of KEYS every script takes. */
export const SCRIPT_KEYS = 9;

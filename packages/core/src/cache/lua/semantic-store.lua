--[[
  Stores one semantic-cache entry and keeps its scope within bounds: expired entries go, then
  the ones expiring first while the scope holds more than its limit. The scope's keys expire
  with their last entry, so an idle scope leaves nothing behind.

  KEYS[1]  vectors hash (entry id -> packed float32)   llmq:{t:<tenant>}:cache:sem:<scope>:vectors
  KEYS[2]  answers hash (entry id -> JSON), same hash tag
  KEYS[3]  expiries sorted set (entry id by expiry time, ms), same hash tag
  ARGV[1]  entry id
  ARGV[2]  vector, packed little-endian float32
  ARGV[3]  answer, JSON
  ARGV[4]  the entry's expiry time, ms since the epoch
  ARGV[5]  most entries the scope keeps
  ARGV[6]  now, ms since the epoch

  Returns the number of entries dropped.
]]
local function drop(ids)
  -- unpack() has a stack limit: delete in slices.
  for start = 1, #ids, 500 do
    local slice = {}
    for index = start, math.min(start + 499, #ids) do
      slice[#slice + 1] = ids[index]
    end
    redis.call('HDEL', KEYS[1], unpack(slice))
    redis.call('HDEL', KEYS[2], unpack(slice))
    redis.call('ZREM', KEYS[3], unpack(slice))
  end
  return #ids
end

local dropped = drop(redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[6]))

redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])

local excess = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[5])
if excess > 0 then
  dropped = dropped + drop(redis.call('ZRANGE', KEYS[3], 0, excess - 1))
end

local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
local lifetime = math.ceil(tonumber(last[2]) - tonumber(ARGV[6]))
if lifetime > 0 then
  for index = 1, 3 do
    redis.call('PEXPIRE', KEYS[index], lifetime)
  end
end
return dropped

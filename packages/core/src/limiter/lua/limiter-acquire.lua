--[[
  Admission: refills and checks up to two token-bucket pairs (the model's and, when set, the
  tenant's share of the model) and, only if every bucket has room, takes from all of them.
  One round trip, atomic, on Redis's clock so workers on many machines agree.

  Each bucket hash holds r (request tokens), t (token tokens), ts (ms of the last refill) and,
  on the model bucket, blocked (ms until which a provider 429 stops all admissions).
  A missing hash is a full bucket.

  KEYS[1]  model bucket          llmq:{rl:<provider/model>}:bucket
  KEYS[2]  tenant bucket         llmq:{rl:<provider/model>}:tenant:<tenant> (same hash tag)
  ARGV[1]  requests wanted (usually 1)
  ARGV[2]  tokens wanted (the reservation: prompt estimate + maximum output)
  ARGV[3..6]   model:  request capacity, request refill per ms, token capacity, token refill per ms
  ARGV[7..10]  tenant: the same; capacity 0 = no tenant limit
  ARGV[11] key expiry, ms (a bucket idle this long is full again anyway)

  Capacity 0 means the dimension is unlimited. A want larger than a capacity is admitted when
  the bucket is full and leaves it in debt, so an oversized request is slow, never stuck.

  Returns {1, 0} when admitted, {0, wait_ms} when not: the earliest time every bucket has room.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local want = { tonumber(ARGV[1]), tonumber(ARGV[2]) }
local expiry = tonumber(ARGV[11])

local buckets = {}
for index = 1, 2 do
  local base = 3 + (index - 1) * 4
  local rcap, rrate = tonumber(ARGV[base]), tonumber(ARGV[base + 1])
  local tcap, trate = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  if (rcap > 0 or tcap > 0) and KEYS[index] then
    local state = redis.call('HMGET', KEYS[index], 'r', 't', 'ts', 'blocked')
    local elapsed = math.max(0, now - (tonumber(state[3]) or now))
    local r = math.min(rcap, (tonumber(state[1]) or rcap) + elapsed * rrate)
    local t = math.min(tcap, (tonumber(state[2]) or tcap) + elapsed * trate)
    buckets[#buckets + 1] = {
      key = KEYS[index], r = r, t = t, caps = { rcap, tcap }, rates = { rrate, trate },
      blocked = tonumber(state[4]) or 0,
    }
  end
end

local wait = 0
for _, bucket in ipairs(buckets) do
  wait = math.max(wait, bucket.blocked - now)
  local levels = { bucket.r, bucket.t }
  for dimension = 1, 2 do
    local cap = bucket.caps[dimension]
    if cap > 0 then
      local need = math.min(want[dimension], cap)
      if levels[dimension] < need then
        wait = math.max(wait, (need - levels[dimension]) / bucket.rates[dimension])
      end
    end
  end
end

local admitted = wait <= 0
for _, bucket in ipairs(buckets) do
  if admitted then
    if bucket.caps[1] > 0 then bucket.r = bucket.r - want[1] end
    if bucket.caps[2] > 0 then bucket.t = bucket.t - want[2] end
  end
  redis.call('HSET', bucket.key, 'r', tostring(bucket.r), 't', tostring(bucket.t), 'ts', tostring(now))
  redis.call('PEXPIRE', bucket.key, expiry)
end

if admitted then
  return { 1, 0 }
end
return { 0, math.ceil(wait) }

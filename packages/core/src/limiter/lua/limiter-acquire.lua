--[[
  Admission for one provider call, in one round trip, on Redis's clock so workers on many
  machines agree. Refills and checks up to two token-bucket pairs (the model's and, when set,
  the tenant's share of the model); requests and tokens are taken from all of them or none.

  A call that does not fit now is scheduled instead: its want is taken anyway, leaving the
  buckets in debt, and the reply names the time at which the debt will have been refilled. The
  caller parks the job until then and comes back with that time as its reservation, which is
  honoured without taking again, unless it comes back late (it might then bunch up with later
  calls) or the model was blocked meanwhile, in which case it is given back and the call queues
  anew. Waiting jobs therefore form a queue in the bucket itself: no polling, no herd.

  Each bucket hash holds r (request tokens), t (token tokens), ts (ms of the last refill) and,
  on the model bucket, blocked (ms until which a provider 429 stops every admission).
  A missing hash is a full bucket.

  KEYS[1]  model bucket          llmq:{rl:<provider/model>}:bucket
  KEYS[2]  tenant bucket         llmq:{rl:<provider/model>}:tenant:<tenant> (same hash tag)
  ARGV[1]  requests wanted (usually 1)
  ARGV[2]  tokens wanted (the reservation: prompt estimate + maximum output)
  ARGV[3..6]   model:  request capacity, request refill per ms, token capacity, token refill per ms
  ARGV[7..10]  tenant: the same; capacity 0 = no tenant limit
  ARGV[11] key expiry, ms
  ARGV[12] reservation: the ms time this call was scheduled for, 0 when it has none
  ARGV[13] lateness tolerated on a reservation, ms

  Capacity 0 means the dimension is unlimited. A want larger than a capacity needs a full bucket.

  Returns {1, 0, 0} when the call may go now, or {0, wait_ms, reservation} when it is scheduled
  for `reservation` (ms on Redis's clock, wait_ms from now; its want is already taken: come back
  then with the reservation). A reservation that comes back early is told to wait again.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local want = { tonumber(ARGV[1]), tonumber(ARGV[2]) }
local expiry = tonumber(ARGV[11])
local reservation = tonumber(ARGV[12])
local tolerance = tonumber(ARGV[13])

local buckets = {}
local blocked = 0
for index = 1, 2 do
  local base = 3 + (index - 1) * 4
  local caps = { tonumber(ARGV[base]), tonumber(ARGV[base + 2]) }
  local rates = { tonumber(ARGV[base + 1]), tonumber(ARGV[base + 3]) }
  if caps[1] > 0 or caps[2] > 0 then
    local state = redis.call('HMGET', KEYS[index], 'r', 't', 'ts', 'blocked', 'exp')
    local elapsed = math.max(0, now - (tonumber(state[3]) or now))
    local levels = {}
    for dimension = 1, 2 do
      local stored = tonumber(state[dimension]) or caps[dimension]
      levels[dimension] = math.min(caps[dimension], stored + elapsed * rates[dimension])
    end
    blocked = math.max(blocked, tonumber(state[4]) or 0)
    buckets[#buckets + 1] = { key = KEYS[index], levels = levels, caps = caps, rates = rates, exp = tonumber(state[5]) or 0 }
  end
end

-- The key's expiry is renewed only once less than half of it is left (kept in its `exp` field),
-- so a busy bucket costs no PEXPIRE per call and an idle one still outlives its refill.
local function save()
  for _, bucket in ipairs(buckets) do
    if bucket.exp - now < expiry / 2 then
      redis.call('HSET', bucket.key, 'r', tostring(bucket.levels[1]), 't', tostring(bucket.levels[2]), 'ts', tostring(now), 'exp', tostring(now + expiry))
      redis.call('PEXPIRE', bucket.key, expiry)
    else
      redis.call('HSET', bucket.key, 'r', tostring(bucket.levels[1]), 't', tostring(bucket.levels[2]), 'ts', tostring(now))
    end
  end
end

if reservation > 0 then
  if now < reservation then
    return { 0, math.ceil(reservation - now), tostring(reservation) }
  end
  if now - reservation <= tolerance and blocked <= now then
    return { 1, 0, 0 }
  end
  -- Late or blocked: give the reservation back and queue again.
  for _, bucket in ipairs(buckets) do
    for dimension = 1, 2 do
      if bucket.caps[dimension] > 0 then
        bucket.levels[dimension] = math.min(bucket.caps[dimension], bucket.levels[dimension] + want[dimension])
      end
    end
  end
end

-- The earliest time every bucket has room for the want (and any 429 block has passed).
local wait = math.max(0, blocked - now)
for _, bucket in ipairs(buckets) do
  for dimension = 1, 2 do
    local cap = bucket.caps[dimension]
    if cap > 0 then
      local need = math.min(want[dimension], cap)
      if bucket.levels[dimension] < need then
        wait = math.max(wait, (need - bucket.levels[dimension]) / bucket.rates[dimension])
      end
    end
  end
end

for _, bucket in ipairs(buckets) do
  for dimension = 1, 2 do
    if bucket.caps[dimension] > 0 then
      bucket.levels[dimension] = bucket.levels[dimension] - want[dimension]
    end
  end
end
save()

if wait <= 0 then
  return { 1, 0, 0 }
end
return { 0, math.ceil(wait), tostring(now + wait) }

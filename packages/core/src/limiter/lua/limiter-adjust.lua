--[[
  After a provider call: settles the reservation against the reported usage, applies a 429's
  retry-after to every worker, and lowers the buckets to what the provider says remains.

  KEYS[1]  model bucket          llmq:{rl:<provider/model>}:bucket
  KEYS[2]  tenant bucket (same hash tag), may be absent
  ARGV[1]  token correction: used - reserved (negative refunds, positive charges extra)
  ARGV[2]  request correction, the same way (-1 gives back a reservation never used)
  ARGV[3]  block admissions for this many ms (a provider 429); 0 for none
  ARGV[4]  requests the provider says remain in its window; -1 when unknown
  ARGV[5]  tokens the provider says remain in its window; -1 when unknown
  ARGV[6..9]   model:  request capacity, request refill per ms, token capacity, token refill per ms
  ARGV[10..13] tenant: the same; capacity 0 = no tenant limit
  ARGV[14] key expiry, ms

  Levels never rise above capacity.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local correction = { tonumber(ARGV[2]), tonumber(ARGV[1]) }
local block = tonumber(ARGV[3])
local remaining = { tonumber(ARGV[4]), tonumber(ARGV[5]) }
local expiry = tonumber(ARGV[14])

for index = 1, 2 do
  local base = 6 + (index - 1) * 4
  local rcap, rrate = tonumber(ARGV[base]), tonumber(ARGV[base + 1])
  local tcap, trate = tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  if (rcap > 0 or tcap > 0) and KEYS[index] then
    local key = KEYS[index]
    local state = redis.call('HMGET', key, 'r', 't', 'ts', 'blocked', 'exp')
    local elapsed = math.max(0, now - (tonumber(state[3]) or now))
    local r = math.min(rcap, (tonumber(state[1]) or rcap) + elapsed * rrate)
    local t = math.min(tcap, (tonumber(state[2]) or tcap) + elapsed * trate)
    -- Debt stays: it is the queue of scheduled calls. Only the cap bounds a refund.
    if rcap > 0 then r = math.min(rcap, r - correction[1]) end
    if tcap > 0 then t = math.min(tcap, t - correction[2]) end
    -- The provider's own view only ever lowers ours: it also sees traffic from outside llmq.
    if index == 1 then
      if remaining[1] >= 0 and rcap > 0 then r = math.min(r, remaining[1]) end
      if remaining[2] >= 0 and tcap > 0 then t = math.min(t, remaining[2]) end
      if block > 0 then
        local blocked = math.max(tonumber(state[4]) or 0, now + block)
        redis.call('HSET', key, 'blocked', tostring(blocked))
        if rcap > 0 then r = math.min(r, 0) end
      end
    end
    -- Renewed once less than half of the expiry is left (see limiter-acquire.lua), or to outlive a block.
    local lasting = math.max(expiry, block + expiry)
    if (tonumber(state[5]) or 0) - now < lasting - expiry / 2 then
      redis.call('HSET', key, 'r', tostring(r), 't', tostring(t), 'ts', tostring(now), 'exp', tostring(now + lasting))
      redis.call('PEXPIRE', key, lasting)
    else
      redis.call('HSET', key, 'r', tostring(r), 't', tostring(t), 'ts', tostring(now))
    end
  end
end
return 1

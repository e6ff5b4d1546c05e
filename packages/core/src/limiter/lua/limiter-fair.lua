--[[
  The limiter with fair share (weighted start-time fair queuing) for one model, in one round
  trip on Redis's clock.

  A call goes now when the buckets have room for it and either no call of any tenant waits or
  its tenant's turn has come (none of the tenant's calls waits and its virtual start tag is the
  smallest). While nobody waits, a call may also be scheduled within the horizon (0 by default),
  as in limiter-acquire.lua. Any other call joins the model's fair queue and its job parks
  without a time. Whenever this script runs (a call arriving, a call given back, a dispatcher's
  tick) it grants queued calls their slots: the tenant with the smallest virtual start tag goes
  first, its best call (priority, then arrival) takes the slot, and the tenant's tag grows by
  the call's cost (ms of the model's capacity) over its weight. A tenant alone gets all of the
  capacity; one that arrives starts at the current virtual time, so it waits one turn, not
  behind the backlog. With no horizon, grants leave a reserve in the bucket (a quarter of its
  capacity, or what a call leaves of it): the first call of a tenant whose turn it is takes it
  and goes at once instead of waiting for the next refill. Nothing is booked past the horizon, so no backlog
  locks the future. The ids of the calls granted are returned, so the caller wakes their jobs.

  Per-tenant caps: a tenant holding `cap` slots (granted or running calls) is passed over until
  one ends. A hold not ended within its lease (a worker died) lapses.

  KEYS[1]  model bucket          llmq:{rl:<model>}:bucket (r, t, ts, blocked; see limiter-acquire.lua)
  KEYS[2]  tenant bucket         llmq:{rl:<model>}:tenant:<tenant> (the caller's tenant)
  KEYS[3]  fair state hash       v (virtual time), seq, and per tenant (hex name h): f:h finish tag,
                                 q:h calls queued, n:h slots held, w:h weight, c:h cap
  KEYS[4]  tenants               zset: hex tenant -> start tag of its next call (tenants with calls queued)
  KEYS[5]  calls                 zset, all scores 0: "<hex tenant>:<rank 2 digits>:<seq 12 digits>:<call id>"
  KEYS[6]  wants                 hash: call id -> "tenant hex|rank|seq|requests|tokens|tenant earliest|tenant taken"
  KEYS[7]  holds                 hash: call id -> "tenant hex|reservation|requests|tokens|state" (granted, running)
  KEYS[8]  leases                zset: call id -> ms at which its hold lapses

  ARGV[1]  op: acquire, release (give a call's place back), tick (dispatch only)
  ARGV[2]  call id ('' for a call that has no job to park: admitted now or refused)
  ARGV[3]  tenant
  ARGV[4]  requests wanted
  ARGV[5]  tokens wanted
  ARGV[6]  rank within the tenant (0-99, lower first)
  ARGV[7]  the tenant's weight
  ARGV[8]  the tenant's cap of slots held at once on this model (0 = none)
  ARGV[9..12]   model bucket: request capacity, request refill per ms, token capacity, token refill per ms
  ARGV[13..16]  tenant bucket: the same; capacity 0 = none
  ARGV[17] bucket key expiry, ms
  ARGV[18] lateness tolerated on a reservation, ms
  ARGV[19] horizon, ms
  ARGV[20] lease of a running call, ms
  ARGV[21] lease of a granted call not yet come back, ms past its reservation
  ARGV[22] expiry of the fair keys, ms
  ARGV[23] release: 1 = give the want back to the buckets (never used), 0 = the call ran
  ARGV[24] dispatch: 1 = grant queued calls in this run, 0 = leave it to the next tick

  Returns {status, wait_ms, reservation, granted call ids...}: status 1 = go now (reservation 1
  when the call holds a slot, to end with a release after the call, 0 when it holds none); 0 = scheduled
  for `reservation` (come back then); 2 = queued for its fair turn (its job is woken when
  granted; wait_ms: the soonest that can be, from the buckets alone); 3 = refused (call id '' and no room now); 4 = tick, wait_ms = tenants still queued.
]]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
local op = ARGV[1]
local call = ARGV[2]
local tenant = string.gsub(ARGV[3], '.', function(c) return string.format('%02x', string.byte(c)) end)
local want = { tonumber(ARGV[4]), tonumber(ARGV[5]) }
local rank = tonumber(ARGV[6])
local weight = tonumber(ARGV[7])
local cap = tonumber(ARGV[8])
local bucketExpiry = tonumber(ARGV[17])
local tolerance = tonumber(ARGV[18])
local horizon = tonumber(ARGV[19])
local runLease = tonumber(ARGV[20])
local grantLease = tonumber(ARGV[21])
local fairExpiry = tonumber(ARGV[22])

local STATE, TENANTS, CALLS, WANTS, HOLDS, LEASES = KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local MAX_GRANTS = 64
local RESERVE = 0.25
-- The fair keys (by KEYS index) this run wrote: only they have their expiry renewed.
local touched = {}
local function touch(...)
  for _, index in ipairs({ ... }) do touched[index] = true end
end

-- The buckets, refilled to now. [1] is the model's, [2] the caller's tenant's (absent when none).
local buckets = {}
local blocked = 0
for index = 1, 2 do
  local base = 9 + (index - 1) * 4
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
    if index == 1 then blocked = tonumber(state[4]) or 0 end
    buckets[index] = {
      key = KEYS[index], levels = levels, caps = caps, rates = rates, changed = false, exp = tonumber(state[5]) or 0,
    }
  end
end

local function split(text)
  local parts = {}
  for part in string.gmatch(text, '[^|]+') do parts[#parts + 1] = part end
  return parts
end

-- ms until the bucket has room for the want (0 now); a want past a capacity needs a full bucket.
local function waitFor(bucket, wanted)
  if bucket == nil then return 0 end
  local wait = 0
  for dimension = 1, 2 do
    local capacity = bucket.caps[dimension]
    if capacity > 0 then
      local need = math.min(wanted[dimension], capacity)
      if bucket.levels[dimension] < need then
        wait = math.max(wait, (need - bucket.levels[dimension]) / bucket.rates[dimension])
      end
    end
  end
  return wait
end

local function take(bucket, wanted, sign)
  if bucket == nil then return end
  for dimension = 1, 2 do
    if bucket.caps[dimension] > 0 then
      bucket.levels[dimension] = math.min(bucket.caps[dimension], bucket.levels[dimension] - sign * wanted[dimension])
    end
  end
  bucket.changed = true
end

-- A call's cost in ms of the model's capacity: what its fair share is counted in.
local function costOf(wanted)
  local model = buckets[1]
  local cost = 0
  if model then
    for dimension = 1, 2 do
      if model.caps[dimension] > 0 then cost = math.max(cost, wanted[dimension] / model.rates[dimension]) end
    end
  end
  return cost > 0 and cost or 1
end

local function count(field, delta)
  local value = redis.call('HINCRBY', STATE, field, delta)
  if value <= 0 then redis.call('HDEL', STATE, field) end
  touch(3)
  return value
end

local function dropHold(id, hold)
  redis.call('HDEL', HOLDS, id)
  redis.call('ZREM', LEASES, id)
  count('n:' .. hold[1], -1)
  touch(7, 8)
end

-- Holds whose worker died (or whose grant was never come back for) lapse: looked for when a
-- call ends and at every tick (every 20 ms while calls wait), not on the admission path.
local function lapse()
  local lapsed = redis.call('ZRANGEBYSCORE', LEASES, '-inf', now, 'LIMIT', 0, 64)
  for _, id in ipairs(lapsed) do
    local held = redis.call('HGET', HOLDS, id)
    if held then dropHold(id, split(held)) else redis.call('ZREM', LEASES, id) end
  end
end

local function hold(id, owner, reservation, wanted, state, lease)
  redis.call('HSET', HOLDS, id, owner .. '|' .. reservation .. '|' .. wanted[1] .. '|' .. wanted[2] .. '|' .. state)
  redis.call('ZADD', LEASES, lease, id)
  touch(7, 8)
end

local function enqueue(owner, callRank, seq, id, wanted, tenantEarliest, tenantTaken)
  local member = owner .. ':' .. string.format('%02d', callRank) .. ':' .. string.format('%012d', seq) .. ':' .. id
  redis.call('ZADD', CALLS, 0, member)
  redis.call('HSET', WANTS, id,
    owner .. '|' .. callRank .. '|' .. seq .. '|' .. wanted[1] .. '|' .. wanted[2] .. '|' .. tenantEarliest .. '|' .. tenantTaken)
  count('q:' .. owner, 1)
  if not redis.call('ZSCORE', TENANTS, owner) then
    local virtual = tonumber(redis.call('HGET', STATE, 'v')) or 0
    local finish = tonumber(redis.call('HGET', STATE, 'f:' .. owner)) or 0
    redis.call('ZADD', TENANTS, math.max(virtual, finish), owner)
  end
  touch(4, 5, 6)
end

local function dequeue(id, parts)
  local member = parts[1] .. ':' .. string.format('%02d', tonumber(parts[2])) .. ':' .. string.format('%012d', tonumber(parts[3])) .. ':' .. id
  redis.call('ZREM', CALLS, member)
  redis.call('HDEL', WANTS, id)
  if count('q:' .. parts[1], -1) <= 0 then redis.call('ZREM', TENANTS, parts[1]) end
  touch(4, 5, 6)
end

-- The want and the reserve a grant leaves for a tenant whose turn comes (see the top).
local function withReserve(bucket, wanted)
  -- With a horizon, calls are booked ahead and no reserve can be kept at the front.
  if bucket == nil or horizon > 0 then return wanted end
  local total = {}
  for dimension = 1, 2 do
    local capacity = bucket.caps[dimension]
    local reserve = math.max(0, math.min(capacity * RESERVE, capacity - wanted[dimension]))
    total[dimension] = wanted[dimension] + reserve
  end
  return total
end

-- The tenant's virtual start tag for its next call.
local function startTag(owner)
  local virtual = tonumber(redis.call('HGET', STATE, 'v')) or 0
  return math.max(virtual, tonumber(redis.call('HGET', STATE, 'f:' .. owner)) or 0)
end

-- Grants queued calls slots within the horizon, in fair order; returns their ids.
local function dispatch()
  local granted = {}
  local model = buckets[1]
  local virtual
  for _ = 1, MAX_GRANTS do
    local heads = redis.call('ZRANGE', TENANTS, 0, 15, 'WITHSCORES')
    if #heads == 0 then break end
    virtual = virtual or tonumber(redis.call('HGET', STATE, 'v')) or 0
    local owner, tag
    for index = 1, #heads, 2 do
      local candidate = heads[index]
      local limit = tonumber(redis.call('HGET', STATE, 'c:' .. candidate)) or 0
      if limit == 0 or (tonumber(redis.call('HGET', STATE, 'n:' .. candidate)) or 0) < limit then
        owner, tag = candidate, tonumber(heads[index + 1])
        break
      end
    end
    if owner == nil then break end
    local first = redis.call('ZRANGEBYLEX', CALLS, '[' .. owner .. ':', '[' .. owner .. ';', 'LIMIT', 0, 1)
    if #first == 0 then
      -- Nothing of the tenant's is queued after all: it leaves the order.
      redis.call('ZREM', TENANTS, owner)
      redis.call('HDEL', STATE, 'q:' .. owner)
    else
      local id = string.match(first[1], '^[^:]*:[^:]*:[^:]*:(.*)$')
      local want_text = redis.call('HGET', WANTS, id)
      if not want_text then
        -- A member without its want (never written by this script, but a partial restore could
        -- leave one): it is dropped rather than granted as a phantom or failing every admission.
        redis.call('ZREM', CALLS, first[1])
        if count('q:' .. owner, -1) <= 0 then redis.call('ZREM', TENANTS, owner) end
        touch(4, 5)
      end
      if want_text then
        local parts = split(want_text)
        local wanted = { tonumber(parts[4]) or 1, tonumber(parts[5]) or 0 }
        local wait = math.max(waitFor(model, withReserve(model, wanted)), blocked - now)
        if wait > horizon then break end
        take(model, wanted, 1)
        local reservation = now + math.max(wait, (tonumber(parts[6]) or 0) - now, 0)
        dequeue(id, parts)
        count('n:' .. owner, 1)
        hold(id, owner, reservation, wanted, 'granted', reservation + grantLease)
        local nextTag = tag + costOf(wanted) / (tonumber(redis.call('HGET', STATE, 'w:' .. owner)) or 1)
        virtual = tag
        redis.call('HSET', STATE, 'f:' .. owner, nextTag)
        if redis.call('ZSCORE', TENANTS, owner) then redis.call('ZADD', TENANTS, nextTag, owner) end
        granted[#granted + 1] = id
      end
    end
  end
  if #granted > 0 then
    redis.call('HSET', STATE, 'v', virtual)
    touch(3)
  end
  return granted
end

local function finish(reply)
  for _, bucket in pairs(buckets) do
    if bucket.changed then
      -- Renewed once less than half of the expiry is left (see limiter-acquire.lua).
      if bucket.exp - now < bucketExpiry / 2 then
        redis.call('HSET', bucket.key, 'r', tostring(bucket.levels[1]), 't', tostring(bucket.levels[2]), 'ts', tostring(now), 'exp', tostring(now + bucketExpiry))
        redis.call('PEXPIRE', bucket.key, bucketExpiry)
      else
        redis.call('HSET', bucket.key, 'r', tostring(bucket.levels[1]), 't', tostring(bucket.levels[2]), 'ts', tostring(now))
      end
    end
  end
  for index in pairs(touched) do redis.call('PEXPIRE', KEYS[index], fairExpiry) end
  return reply
end

-- Queued: no sooner than the buckets have room for the want (what a deadline is checked against).
local function queued(granted)
  local soonest = math.max(waitFor(buckets[1], want), waitFor(buckets[2], want), blocked - now, 0)
  local reply = { 2, math.ceil(soonest), 0 }
  for _, id in ipairs(granted) do
    if id ~= call then reply[#reply + 1] = id end
  end
  return reply
end

local function withGranted(reply, granted)
  for _, id in ipairs(granted) do
    if id ~= call then reply[#reply + 1] = id end
  end
  return reply
end

-- The caller's answer once a dispatch ran: its call granted (now, or for later) or still queued.
local function afterDispatch(granted)
  local mine = redis.call('HGET', HOLDS, call)
  if not mine then return queued(granted) end
  local parts = split(mine)
  local reservation = tonumber(parts[2])
  if reservation - now < 1 then
    hold(call, parts[1], reservation, { tonumber(parts[3]), tonumber(parts[4]) }, 'running', now + runLease)
    return withGranted({ 1, 0, 1 }, granted)
  end
  return withGranted({ 0, math.ceil(reservation - now), tostring(reservation) }, granted)
end

if op == 'tick' then
  lapse()
  local granted = dispatch()
  return finish(withGranted({ 4, redis.call('ZCARD', TENANTS), 0 }, granted))
end

if op == 'release' then
  lapse()
  local refund = ARGV[23] == '1'
  local held = redis.call('HGET', HOLDS, call)
  if held then
    local parts = split(held)
    if refund then
      local wanted = { tonumber(parts[3]), tonumber(parts[4]) }
      take(buckets[1], wanted, -1)
      take(buckets[2], wanted, -1)
    end
    dropHold(call, parts)
  else
    local queued = redis.call('HGET', WANTS, call)
    if queued then
      local parts = split(queued)
      if parts[7] == '1' then take(buckets[2], { tonumber(parts[4]), tonumber(parts[5]) }, -1) end
      dequeue(call, parts)
    end
  end
  local granted = ARGV[24] == '1' and dispatch() or {}
  return finish(withGranted({ 1, 0, 0 }, granted))
end

-- acquire
local held = redis.call('HGET', HOLDS, call)
local requeue = nil
if call ~= '' and held then
  local parts = split(held)
  local reservation = tonumber(parts[2])
  if parts[5] == 'granted' then
    if now < reservation then
      return finish({ 0, math.ceil(reservation - now), tostring(reservation) })
    end
    if now - reservation <= tolerance and blocked <= now then
      hold(call, parts[1], reservation, { tonumber(parts[3]), tonumber(parts[4]) }, 'running', now + runLease)
      return finish({ 1, 0, 1 })
    end
    -- Came back late, or the model was blocked: the slot goes back and the call queues again,
    -- first among its tenant's calls.
    take(buckets[1], { tonumber(parts[3]), tonumber(parts[4]) }, -1)
    requeue = true
  end
  -- A running hold asked again is a run that died before it ended the hold: it lapses now.
  dropHold(call, parts)
end

if call ~= '' and not requeue and redis.call('HEXISTS', WANTS, call) == 1 then
  return finish(afterDispatch(dispatch()))
end

local under_cap = cap == 0 or (tonumber(redis.call('HGET', STATE, 'n:' .. tenant)) or 0) < cap
local head = redis.call('ZRANGE', TENANTS, 0, 0, 'WITHSCORES')
local nobody_waits = #head == 0
-- Its turn: none of its calls waits and no waiting tenant's tag is smaller.
local tag = nil
local my_turn = nobody_waits
if not nobody_waits and redis.call('ZSCORE', TENANTS, tenant) == false then
  tag = startTag(tenant)
  my_turn = tag <= tonumber(head[2])
end
if under_cap and my_turn and not requeue then
  local wait = math.max(waitFor(buckets[1], want), waitFor(buckets[2], want), blocked - now)
  if wait <= 0 or (call ~= '' and nobody_waits and wait <= horizon) then
    take(buckets[1], want, 1)
    take(buckets[2], want, 1)
    -- Taking a waiting tenant's turn: the tag moves on by the call's cost, as if granted from the
    -- queue. While nobody waits, tags do not matter (an idle queue starts everyone afresh).
    if tag then
      redis.call('HSET', STATE, 'f:' .. tenant, tag + costOf(want) / weight, 'v', tag)
      touch(3)
    end
    -- A hold only where something needs it: a cap to count, or a call to come back later.
    if call ~= '' and (cap > 0 or wait > 0) then
      count('n:' .. tenant, 1)
      if wait <= 0 then
        hold(call, tenant, now, want, 'running', now + runLease)
      else
        hold(call, tenant, now + wait, want, 'granted', now + wait + grantLease)
      end
      if wait <= 0 then return finish({ 1, 0, 1 }) end
    end
    if wait <= 0 then return finish({ 1, 0, 0 }) end
    return finish({ 0, math.ceil(wait), tostring(now + wait) })
  end
end
if call == '' then return finish({ 3, 0, 0 }) end

-- Into the fair queue. The tenant's own limit is taken now: its earliest start is when that has room.
local tenantEarliest = 0
local tenantTaken = 0
if buckets[2] and not requeue then
  tenantEarliest = now + waitFor(buckets[2], want)
  take(buckets[2], want, 1)
  tenantTaken = 1
end
redis.call('HSET', STATE, 'w:' .. tenant, weight, 'c:' .. tenant, cap)
if cap == 0 then redis.call('HDEL', STATE, 'c:' .. tenant) end
local seq = requeue and 0 or redis.call('HINCRBY', STATE, 'seq', 1)
enqueue(tenant, rank, seq, call, want, tenantEarliest, tenantTaken)
return finish(afterDispatch(dispatch()))

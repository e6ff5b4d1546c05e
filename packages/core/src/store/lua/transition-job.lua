--[[
  Moves a job record to a new status, keeping the per-tenant status indexes in step, and
  announces the change. Atomic, so a worker finishing a job and a client canceling it cannot
  both win.

  KEYS[1]  job record hash                   llmq:{t:<tenant>}:job:<id>
  KEYS[2]  the tenant's outbox stream        llmq:{t:<tenant>}:outbox
           a move to an ended status adds {id, status, ...} to it, atomically with the move:
           the end is announced once, drained by the workers' dispatcher (cache, webhook, metrics)
  KEYS[3]  the index of the new status       llmq:{t:<tenant>}:jobs:<status> (same hash tag)
  KEYS[4..3+n] the indexes of the n statuses in ARGV[2], in that order (same hash tag): the job
           leaves the one of its current status
  KEYS[4+n..] counter hashes of the same tenant (same hash tag): usage totals, budget
  ARGV[1]  new status
  ARGV[2]  comma-separated statuses the job may move from
  ARGV[3]  retention in milliseconds; > 0 makes the record expire (ended jobs)
  ARGV[4]  pub/sub channel for the change ('' for none)
  ARGV[5]  '1' to return the record's fields after the change
  ARGV[6]  the run that must own the job (its `run` field), '' for any: a run that lost its
           BullMQ lock to another worker can no longer write the record
  ARGV[7..] field/value pairs; a field named '+name' is incremented by the value,
            '?name' is set only when absent, '-name' is deleted (value ignored),
            '>name' appends the value (JSON) to the JSON array in the field,
            '^<n>:name' increments field name of KEYS[n] by the value, where a value '$f'
            ('-$f') is the record's numeric field f (0 when absent), negated; 0 changes nothing,
            '~<n>' makes KEYS[n] expire in the value's milliseconds,
            '@name' adds name=value to the outbox entry (only a move to an ended status writes one),
            '&name' adds name=<the record's field named by the value> to it (nothing when absent)

  Returns {'ok', field, value, ...}, {'missing'}, {'conflict', <current status>} or
  {'superseded', <current status>}.
]]
local record = KEYS[1]
-- What every transition reads, and the fields its operations read (counters, lists, copies), in
-- one command; id and tenant never change.
local wanted = { 'status', 'run', 'id', 'tenant' }
for index = 7, #ARGV, 2 do
  local field = ARGV[index]
  local op = string.sub(field, 1, 1)
  if op == '+' or op == '>' then
    wanted[#wanted + 1] = string.sub(field, 2)
  elseif op == '&' then
    wanted[#wanted + 1] = ARGV[index + 1]
  elseif op == '^' then
    local source = string.match(ARGV[index + 1], '^%-?%$(.+)$')
    if source then wanted[#wanted + 1] = source end
  end
end
local head = redis.call('HMGET', record, unpack(wanted))
local known = {}
for index = 5, #wanted do
  known[wanted[index]] = head[index] or false
end
local current = head[1]
if not current then
  return {'missing'}
end

-- The position in KEYS of the current status's index, when the job may move from it.
local leaving = nil
local at = 3
for status in string.gmatch(ARGV[2], '[^,]+') do
  at = at + 1
  if status == current then
    leaving = at
  end
end
if not leaving then
  return {'conflict', current}
end
if ARGV[6] ~= '' and head[2] ~= ARGV[6] then
  return {'superseded', current}
end

local target = ARGV[1]
local notice = {}
-- Plain field writes are gathered and made in one HSET at the end; reads of a field written
-- earlier in this call see the gathered value, as they would have seen the write.
local pending = {}
local order = {}
local function read(name)
  if pending[name] ~= nil then
    return pending[name]
  end
  if known[name] ~= nil then
    return known[name]
  end
  return redis.call('HGET', record, name)
end
local function write(name, value)
  if pending[name] == nil then
    order[#order + 1] = name
  end
  pending[name] = value
end
for index = 7, #ARGV, 2 do
  local field = ARGV[index]
  local value = ARGV[index + 1]
  local op = string.sub(field, 1, 1)
  if op == '+' then
    -- Read with the head: the sum joins the one HSET below.
    local name = string.sub(field, 2)
    write(name, string.format('%d', (tonumber(read(name)) or 0) + tonumber(value)))
  elseif op == '?' then
    local name = string.sub(field, 2)
    -- A field written in this call is set already; one deleted in it is absent.
    if not pending[name] then
      redis.call('HSETNX', record, name, value)
    end
  elseif op == '-' then
    local name = string.sub(field, 2)
    if pending[name] ~= nil then
      pending[name] = false
    end
    known[name] = false
    redis.call('HDEL', record, name)
  elseif op == '>' then
    local name = string.sub(field, 2)
    local list = read(name)
    local items = list and cjson.decode(list) or {}
    items[#items + 1] = cjson.decode(value)
    write(name, cjson.encode(items))
  elseif op == '^' then
    local position, name = string.match(field, '^%^(%d+):(.+)$')
    local amount = value
    local negate, source = string.match(value, '^(%-?)%$(.+)$')
    if source then
      amount = tonumber(read(source) or '0') or 0
      if negate == '-' then
        amount = -amount
      end
      -- Spelled out: Lua's own number-to-string would write large integers with an exponent.
      amount = string.format('%d', amount)
    end
    if tonumber(amount) ~= 0 then
      redis.call('HINCRBY', KEYS[tonumber(position)], name, amount)
    end
  elseif op == '~' then
    redis.call('PEXPIRE', KEYS[tonumber(string.sub(field, 2))], value)
  elseif op == '@' then
    notice[#notice + 1] = string.sub(field, 2)
    notice[#notice + 1] = value
  elseif op == '&' then
    local copied = read(value)
    if copied then
      notice[#notice + 1] = string.sub(field, 2)
      notice[#notice + 1] = copied
    end
  else
    write(field, value)
  end
end
local writes = { 'status', target }
for _, name in ipairs(order) do
  -- false: deleted after it was written in this call.
  if pending[name] then
    writes[#writes + 1] = name
    writes[#writes + 1] = pending[name]
  end
end
redis.call('HSET', record, unpack(writes))

local id = head[3]
if current ~= target then
  redis.call('ZREM', KEYS[leaving], id)
  redis.call('ZADD', KEYS[3], 0, id)
end

local retention = tonumber(ARGV[3])
if retention > 0 then
  redis.call('PEXPIRE', record, retention)
end
local ends = target == 'succeeded' or target == 'failed' or target == 'canceled'
if ends and current ~= target then
  redis.call('XADD', KEYS[2], '*', 'id', id, 'status', target, unpack(notice))
end

if ARGV[4] ~= '' then
  redis.call('PUBLISH', ARGV[4], cjson.encode({
    id = id,
    tenant = head[4],
    status = target,
    previous = current,
  }))
end

if ARGV[5] == '1' then
  local reply = redis.call('HGETALL', record)
  table.insert(reply, 1, 'ok')
  return reply
end
return {'ok'}

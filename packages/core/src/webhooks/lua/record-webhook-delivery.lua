--[[
  Writes a delivery attempt and the webhook status on a job record. Touches only a record that
  exists, so a delivery that outlives its job's retention cannot leave a stray hash behind.

  KEYS[1]  job record hash                   llmq:{t:<tenant>}:job:<id>
  ARGV[1]  webhook status: pending | delivered | failed | gone
  ARGV[2]  the attempt as JSON, appended to the 'webhook_deliveries' array ('' for none)
  ARGV[3]  most attempts kept (the oldest go first)
  ARGV[4]  '1' to start a redelivery: increments 'webhook_sequence'

  Returns the record's 'webhook_sequence' (0 before any redelivery), or -1 when the record is gone.
]]
local record = KEYS[1]
if redis.call('EXISTS', record) == 0 then
  return -1
end

if ARGV[2] ~= '' then
  local stored = redis.call('HGET', record, 'webhook_deliveries')
  local deliveries = {}
  if stored then
    deliveries = cjson.decode(stored)
  end
  table.insert(deliveries, cjson.decode(ARGV[2]))
  while #deliveries > tonumber(ARGV[3]) do
    table.remove(deliveries, 1)
  end
  redis.call('HSET', record, 'webhook_deliveries', cjson.encode(deliveries))
end
redis.call('HSET', record, 'webhook_status', ARGV[1])

if ARGV[4] == '1' then
  return redis.call('HINCRBY', record, 'webhook_sequence', 1)
end
return tonumber(redis.call('HGET', record, 'webhook_sequence') or '0')

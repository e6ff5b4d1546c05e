--[[
  Reserves the estimated cost of jobs being submitted against the tenant's monthly budget, or
  refuses them all. Atomic, so concurrent submits can never hold more than the budget between
  them: the only overspend left is a job whose real cost exceeds its estimate.

  KEYS[1]  budget hash      llmq:{t:<tenant>}:budget   (fields: reserved, spent:<YYYY-MM>)
  ARGV[1]  the budget, nano-dollars
  ARGV[2]  the amount to reserve, nano-dollars
  ARGV[3]  this month's spent field, 'spent:<YYYY-MM>'

  Returns {1, spent, reserved} after reserving, or {0, spent, reserved} when refused; spent
  and reserved as they are after the call.
]]
local spent = tonumber(redis.call('HGET', KEYS[1], ARGV[3]) or '0')
local reserved = tonumber(redis.call('HGET', KEYS[1], 'reserved') or '0')
local amount = tonumber(ARGV[2])
if spent + reserved + amount > tonumber(ARGV[1]) then
  return {0, spent, reserved}
end
if amount > 0 then
  reserved = redis.call('HINCRBY', KEYS[1], 'reserved', amount)
end
return {1, spent, reserved}

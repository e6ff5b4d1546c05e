--[[
  Writes a new job record and adds it to the tenant's indexes, unless the id exists.

  KEYS[1]  job record hash                   llmq:{t:<tenant>}:job:<id>
  ARGV[1]  index key prefix, same hash tag   llmq:{t:<tenant>}:jobs
  ARGV[2]  job id
  ARGV[3]  initial status
  ARGV[4..] field/value pairs of the record

  Returns 1 when created, 0 when the id was taken.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local fields = {}
for index = 4, #ARGV do
  fields[#fields + 1] = ARGV[index]
end
redis.call('HSET', KEYS[1], 'id', ARGV[2], 'status', ARGV[3], unpack(fields))
redis.call('ZADD', ARGV[1], 0, ARGV[2])
redis.call('ZADD', ARGV[1] .. ':' .. ARGV[3], 0, ARGV[2])
return 1

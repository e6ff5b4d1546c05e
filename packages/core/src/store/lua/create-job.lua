--[[
  Writes a new job record and adds it to the tenant's indexes, unless the id exists.

  KEYS[1]  job record hash                   llmq:{t:<tenant>}:job:<id>
  KEYS[2]  the tenant's index of all jobs    llmq:{t:<tenant>}:jobs (same hash tag)
  KEYS[3]  the index of the initial status   llmq:{t:<tenant>}:jobs:<status> (same hash tag)
  ARGV[1]  job id
  ARGV[2]  initial status
  ARGV[3..] field/value pairs of the record

  Returns 1 when created, 0 when the id was taken.
]]
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local fields = {}
for index = 3, #ARGV do
  fields[#fields + 1] = ARGV[index]
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'status', ARGV[2], unpack(fields))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
return 1

--[[
  Counts one job of a batch as ended, once: the first caller to see the end moves it out of the
  pending set and adds to the counts; later callers change nothing.

  KEYS[1]  the batch's pending job ids (set)    llmq:{t:<tenant>}:batch:<id>:pending
  KEYS[2]  the batch's counts (hash)            llmq:{t:<tenant>}:batch:<id>:counts
  ARGV[1]  job id
  ARGV[2]  outcome: the counts field to add 1 to (completed | failed)
  ARGV[3..] field/increment pairs (tokens of a completed line) added to the counts hash

  Returns 1 when this call settled the job, 0 when it was not pending.
]]
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
for index = 3, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[2], ARGV[index], ARGV[index + 1])
end
return 1

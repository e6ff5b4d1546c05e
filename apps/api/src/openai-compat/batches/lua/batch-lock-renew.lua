--[[
  Extends a batch's work lock for its holder. A lock that expired while its holder was slow and
  that nobody took since is taken back; one another holder took is not.

  KEYS[1]  the batch's lock       llmq:{t:<tenant>}:batch:<id>:lock
  ARGV[1]  the holder's token
  ARGV[2]  new time to live, ms

  Returns 1 when extended, 0 when another holder has the lock.
]]
local holder = redis.call('GET', KEYS[1])
if holder ~= false and holder ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1

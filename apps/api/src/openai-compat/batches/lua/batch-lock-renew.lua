--[[
  Extends a batch's work lock, only for its holder.

  KEYS[1]  the batch's lock       llmq:{t:<tenant>}:batch:<id>:lock
  ARGV[1]  the holder's token
  ARGV[2]  new time to live, ms

  Returns 1 when extended, 0 when the token no longer holds the lock.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1

--[[
  Releases a batch's work lock, only for its holder (an expired lock may have a new holder).

  KEYS[1]  the batch's lock       llmq:{t:<tenant>}:batch:<id>:lock
  ARGV[1]  the holder's token

  Returns 1 when released, 0 when the token did not hold the lock.
]]
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
return 1

--[[
  One Idempotency-Key of one tenant: claimed by the first request, completed once its job is
  queued, released if the job could not be created. Atomic, so of many concurrent requests with
  the same key exactly one claims it.

  KEYS[1]  the key's hash     llmq:{t:<tenant>}:idempotency:<sha256 of the header value>
  ARGV[1]  operation          'claim' | 'complete' | 'release'
  ARGV[2]  job id             claim: the id the claimer will create; complete, release: the id it holds
  ARGV[3]  body hash          hex SHA-256 of the canonical request body (claim; '' otherwise)
  ARGV[4]  time to live, ms   claim: of a pending claim; complete: of the finished key

  claim    -> {'claimed'} when the key was free, else {'existing', job id, body hash, state}
              where state is 'pending' (the job is being created) or 'done'
  complete -> 1 when the claim held this job id and is now 'done', else 0
  release  -> 1 when the claim held this job id and is now gone, else 0
]]
local operation = ARGV[1]
local job_id = ARGV[2]

if operation == 'claim' then
  if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('HSET', KEYS[1], 'job_id', job_id, 'body_hash', ARGV[3], 'state', 'pending')
    redis.call('PEXPIRE', KEYS[1], ARGV[4])
    return {'claimed'}
  end
  local fields = redis.call('HMGET', KEYS[1], 'job_id', 'body_hash', 'state')
  return {'existing', fields[1] or '', fields[2] or '', fields[3] or 'pending'}
end

if redis.call('HGET', KEYS[1], 'job_id') ~= job_id then
  return 0
end
if operation == 'complete' then
  redis.call('HSET', KEYS[1], 'state', 'done')
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return 1
end
if operation == 'release' then
  redis.call('DEL', KEYS[1])
  return 1
end
return redis.error_reply('unknown operation ' .. tostring(operation))

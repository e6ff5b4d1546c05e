--[[
  Stops a rotated-out secret from signing before its grace period ends.

  KEYS[1]  the tenant's secrets (JSON)        llmq:{t:<tenant>}:webhook-secrets
  ARGV[1]  id of the secret to delete

  Returns 'deleted', 'current' (the current secret cannot be deleted: rotate instead) or 'missing'.
]]
local stored = redis.call('GET', KEYS[1])
if not stored then
  return 'missing'
end
local secrets = cjson.decode(stored).secrets
for index, entry in ipairs(secrets) do
  if entry.id == ARGV[1] then
    if entry.expires_at == nil then
      return 'current'
    end
    table.remove(secrets, index)
    redis.call('SET', KEYS[1], cjson.encode({ secrets = secrets }))
    return 'deleted'
  end
end
return 'missing'

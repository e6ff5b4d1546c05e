--[[
  Makes a new secret the tenant's current one. The old current secret keeps signing until
  its grace period ends (none: it stops at once); secrets whose grace has ended are dropped.

  KEYS[1]  the tenant's secrets (JSON)        llmq:{t:<tenant>}:webhook-secrets
  ARGV[1]  the new secret's id
  ARGV[2]  the new secret ('whsec_...')
  ARGV[3]  now, ms since the epoch
  ARGV[4]  grace of the old current secret, ms (0: drop it)
  ARGV[5]  most secrets kept at once, the new one included

  Returns the stored JSON: {"secrets": [{id, secret, created_at, expires_at?}, ...]}, newest first.
]]
local now = tonumber(ARGV[3])
local grace = tonumber(ARGV[4])
local keep = tonumber(ARGV[5])

local secrets = { { id = ARGV[1], secret = ARGV[2], created_at = now } }
local stored = redis.call('GET', KEYS[1])
if stored then
  for _, entry in ipairs(cjson.decode(stored).secrets) do
    if entry.expires_at == nil then
      if grace > 0 then
        entry.expires_at = now + grace
        table.insert(secrets, entry)
      end
    elseif entry.expires_at > now then
      table.insert(secrets, entry)
    end
  end
end
while #secrets > keep do
  table.remove(secrets)
end

local encoded = cjson.encode({ secrets = secrets })
redis.call('SET', KEYS[1], encoded)
return encoded

--[[
  A circuit breaker per provider/model, shared by every worker. One script, three calls:
  `check` before a call, `success` and `failure` after it.

  closed    calls go through; failures are counted (consecutive, and per window)
  open      calls are refused until open_until; jobs go to their fallback
  half_open after open_until: one caller at a time gets a probe lease; its success closes the
            circuit, its failure opens it again

  KEYS[1]  circuit hash       llmq:{rl:<provider/model>}:circuit
  ARGV[1]  'check' | 'success' | 'failure'
  ARGV[2]  consecutive failures that open the circuit
  ARGV[3]  failure rate (0..1) that opens it, once the window has ARGV[4] calls
  ARGV[4]  minimum calls in the window before the rate counts
  ARGV[5]  window length, ms
  ARGV[6]  how long the circuit stays open, ms
  ARGV[7]  probe lease, ms (how long other callers wait for the probe's verdict)
  ARGV[8]  how many calls this record stands for (successes are reported in batches; a failure
           counted as many as open the circuit trips it at once); default 1

  Returns {allowed (1/0), state, wait_ms}: wait_ms is how long until a call may be tried.
]]
local key = KEYS[1]
local mode = ARGV[1]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local fields = redis.call('HMGET', key, 'state', 'consecutive', 'window_start', 'calls', 'failures', 'open_until', 'probe_until')
local state = fields[1] or 'closed'
local consecutive = tonumber(fields[2]) or 0
local window_start = tonumber(fields[3]) or now
local calls = tonumber(fields[4]) or 0
local failures = tonumber(fields[5]) or 0
local open_until = tonumber(fields[6]) or 0
local probe_until = tonumber(fields[7]) or 0
local window = tonumber(ARGV[5])

if now - window_start >= window then
  window_start, calls, failures = now, 0, 0
end

local function save()
  redis.call('HSET', key, 'state', state, 'consecutive', consecutive, 'window_start', window_start,
    'calls', calls, 'failures', failures, 'open_until', open_until, 'probe_until', probe_until)
  redis.call('PEXPIRE', key, math.max(window, open_until - now) + window)
end

local function open()
  state = 'open'
  open_until = now + tonumber(ARGV[6])
  probe_until = 0
end

if mode == 'check' then
  if state == 'open' then
    if now < open_until then
      return { 0, 'open', open_until - now }
    end
    state = 'half_open'
  end
  if state == 'half_open' then
    if now < probe_until then
      save()
      return { 0, 'half_open', probe_until - now }
    end
    probe_until = now + tonumber(ARGV[7])
    save()
    return { 1, 'half_open', 0 }
  end
  return { 1, 'closed', 0 }
end

local count = tonumber(ARGV[8]) or 1
calls = calls + count
if mode == 'success' then
  consecutive = 0
  -- Only the probe's verdict closes it; a call that started before it opened proves nothing.
  if state == 'half_open' then
    state, probe_until, window_start, calls, failures = 'closed', 0, now, 0, 0
  end
else
  consecutive = consecutive + count
  failures = failures + count
  if state == 'half_open' then
    open()
  elseif consecutive >= tonumber(ARGV[2])
      or (calls >= tonumber(ARGV[4]) and failures / calls >= tonumber(ARGV[3])) then
    open()
  end
end
save()
return { 1, state, 0 }

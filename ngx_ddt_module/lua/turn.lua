-- turn.lua: the atomic write of one turn (SPEC 8, 9.4, 9.7).  Loaded once
-- per connection with SCRIPT LOAD, called with EVALSHA (EVAL again after a
-- NOSCRIPT).  All keys share the session's shard hash tag, so the script
-- touches one cluster slot.
--
-- KEYS[1] ddt:{shard}:s:<id>        session hash: ver, status, state
-- KEYS[2] ddt:{shard}:t:<id>        turnId -> ver of the turn that used it
-- KEYS[3] ddt:{shard}:snapshots     snapshot stream
-- KEYS[4] ddt:{shard}:outbox        actions for the outside world
-- ARGV    expected ver (0: create), new ver, status, state JSON, ttl ms,
--         session id, critical (0|1), turn JSON {"input","response","at"},
--         stream cap (0: none, a persister trims), turnId (or ""),
--         response JSON
--
-- Returns 1 written, 0 the version read is stale (or, creating, the id
-- exists), -1 the session is gone.  Nothing is written unless 1.

local expected = ARGV[1]
local cur = redis.call('HGET', KEYS[1], 'ver')

if expected == '0' then
    if cur then
        return 0
    end
elseif not cur then
    return -1
elseif cur ~= expected then
    return 0
end

-- XADD with the approximate cap, or none (0: the persister trims)
local function xadd(key, ...)
    if ARGV[9] == '0' then
        return redis.call('XADD', key, '*', ...)
    end
    return redis.call('XADD', key, 'MAXLEN', '~', ARGV[9], '*', ...)
end

local ver = ARGV[2]
local ttl = ARGV[5]

redis.call('HSET', KEYS[1], 'ver', ver, 'status', ARGV[3], 'state', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ttl)

if ARGV[10] ~= '' then
    redis.call('HSET', KEYS[2], ARGV[10], ver)
    if redis.call('HLEN', KEYS[2]) > 32 then
        -- keep the turnIds of the last 16 versions, as the state does
        local all = redis.call('HGETALL', KEYS[2])
        local low = tonumber(ver) - 16
        for i = 1, #all, 2 do
            if tonumber(all[i + 1]) <= low then
                redis.call('HDEL', KEYS[2], all[i])
            end
        end
    end
end
redis.call('PEXPIRE', KEYS[2], ttl)

xadd(KEYS[3], 'sid', ARGV[6], 'ver', ver, 'critical', ARGV[7],
     'state', ARGV[4], 'turn', ARGV[8])

-- the outbox: sendEmail, sendSMS and custom actions of this turn
local resp = ARGV[11]
if string.find(resp, '"actions":[{', 1, true) then
    local ok, doc = pcall(cjson.decode, resp)
    if ok and type(doc) == 'table' and type(doc.actions) == 'table' then
        for _, a in ipairs(doc.actions) do
            local t = type(a) == 'table' and a.type
            if t == 'sendEmail' or t == 'sendSMS' or t == 'custom' then
                xadd(KEYS[4], 'sid', ARGV[6], 'ver', ver, 'type', t,
                     'action', cjson.encode(a))
            end
        end
    end
end

return 1

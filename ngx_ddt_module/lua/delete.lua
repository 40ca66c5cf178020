-- delete.lua: DELETE /v1/sessions/{id} (SPEC 9.4): drop the session and its
-- turnIds and append a `deleted` snapshot, so that no restore brings the
-- session back.  One atomic step.
--
-- KEYS[1] ddt:{shard}:s:<id>   KEYS[2] ddt:{shard}:t:<id>
-- KEYS[3] ddt:{shard}:snapshots
-- ARGV    session id, stream cap (0: none), turn JSON of the deletion
--
-- Returns 1 deleted, 0 no such session.

local s = redis.call('HMGET', KEYS[1], 'ver', 'state')
if not s[1] then
    return 0
end

redis.call('DEL', KEYS[1], KEYS[2])
if ARGV[2] == '0' then
    redis.call('XADD', KEYS[3], '*',
               'sid', ARGV[1], 'ver', s[1], 'critical', '1',
               'state', s[2], 'turn', ARGV[3], 'deleted', '1')
else
    redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], '*',
               'sid', ARGV[1], 'ver', s[1], 'critical', '1',
               'state', s[2], 'turn', ARGV[3], 'deleted', '1')
end
return 1

-- bench/turn.lua: the turn loop.  Each wrk thread first creates its own
-- sessions (bench-<thread>-<n>, BENCH_SESSIONS split between threads), keeps
-- its connections busy with GET /v1/health until every create has been
-- answered, then sends POST /v1/sessions/{id}/turns round-robin over them.
-- A thread has many more sessions than connections, so two turns almost
-- never target one session at once (a collision would be a 409, counted as
-- an error).  The few setup requests are a fraction of a percent of a run.
local common = dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local counter = 1

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
end

local per_thread, issued, answered, n = 0, 0, 0, 0
local json = { ["Content-Type"] = "application/json" }
local turn_body = '{"text": "hello there"}'

function init(args)
    local sessions = tonumber(os.getenv("BENCH_SESSIONS") or "1024")
    local threads = tonumber(os.getenv("BENCH_THREADS") or "2")
    per_thread = math.max(1, math.floor(sessions / threads))
end

local function sid(i)
    return string.format("bench-%d-%06d", tid, i)
end

function request()
    if issued < per_thread then
        issued = issued + 1
        return wrk.format("POST", "/v1/sessions", json,
            '{"project": "bench", "sessionId": "' .. sid(issued - 1) .. '"}')
    end
    if answered < per_thread then
        return wrk.format("GET", "/v1/health")
    end
    local i = n % per_thread
    n = n + 1
    return wrk.format("POST", "/v1/sessions/" .. sid(i) .. "/turns", json,
                      turn_body)
end

-- while setting up, every answer that is not a health 200 is a create's
function response(status, headers, body)
    if answered < per_thread and status ~= 200 then
        answered = answered + 1
        if status ~= 201 then
            io.stderr:write("bench: create failed: " .. status .. " " .. body .. "\n")
        end
    end
end

done = common.done("turn")

-- bench/turn.lua: POST /v1/sessions/{id}/turns round-robin over sessions
-- that run.sh created beforehand (bench-000000 .. bench-N-1, the ids
-- being at least 8 characters).  Each wrk thread
-- takes its own slice of sessions, at least as many as its connections, so
-- two turns never target one session at once (no 409 by construction).
local common = dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local sessions = tonumber(os.getenv("BENCH_SESSIONS") or "1024")
local threads = {}
local counter = 1

function setup(thread)
    thread:set("id", counter)
    table.insert(threads, thread)
    counter = counter + 1
end

local first, span, n = 0, 1, 0

function init(args)
    local nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
    span = math.floor(sessions / nthreads)
    first = (id - 1) * span
end

local body = '{"text": "hello there"}'
local headers = { ["Content-Type"] = "application/json" }

function request()
    local sid = first + (n % span)
    n = n + 1
    return wrk.format("POST", string.format("/v1/sessions/bench-%06d/turns", sid),
                      headers, body)
end

done = common.done("turn")

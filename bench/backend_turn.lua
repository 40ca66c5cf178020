-- bench/backend_turn.lua: the turn loop of bench/backend.sh: POST
-- /v1/sessions/{id}/turns round-robin over sessions backend.sh created
-- beforehand (<BENCH_PREFIX>-000000 .. BENCH_SESSIONS-1).  Each wrk thread
-- turns its own slice, many more sessions than connections, so two turns
-- almost never target one session at once (a 409 would count as an error).
local common = dofile(os.getenv("BENCH_DIR") .. "/common.lua")

local counter = 1

function setup(thread)
    thread:set("tid", counter)
    counter = counter + 1
end

local first, span, n = 0, 1, 0
local prefix = os.getenv("BENCH_PREFIX") or "bench"
local json = { ["Content-Type"] = "application/json" }
local body = '{"text": "hello there"}'

function init(args)
    local sessions = tonumber(os.getenv("BENCH_SESSIONS") or "1024")
    local threads = tonumber(os.getenv("BENCH_THREADS") or "2")
    span = math.max(1, math.floor(sessions / threads))
    first = (tid - 1) * span
end

function request()
    local i = first + (n % span)
    n = n + 1
    return wrk.format("POST", string.format("/v1/sessions/%s-%06d/turns",
                                            prefix, i), json, body)
end

done = common.done("turn")

-- bench/create.lua: POST /v1/sessions with a generated id: session creation
-- runs the flow to its first prompt and stores the session in the zone.
local common = dofile(os.getenv("BENCH_DIR") .. "/common.lua")

wrk.method = "POST"
wrk.path = "/v1/sessions"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"project": "bench"}'

done = common.done("create")

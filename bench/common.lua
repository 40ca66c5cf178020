-- bench/common.lua: what every scenario shares: one RESULT line per run
-- (wrk counts non-2xx answers as status errors) that run.sh turns into the
-- table.
local M = {}

function M.done(name)
    return function(summary, latency, requests)
        local secs = summary.duration / 1e6
        local e = summary.errors
        local errors = e.connect + e.read + e.write + e.status + e.timeout
        io.write(string.format(
            "RESULT %s rps=%.0f p50_ms=%.3f p99_ms=%.3f requests=%d errors=%d\n",
            name, summary.requests / secs,
            latency:percentile(50) / 1000, latency:percentile(99) / 1000,
            summary.requests, errors))
    end
end

return M

-- bearer.lua at a fixed pace: each connection waits $BENCH_DELAY_MS after each answer, so the
-- offered load is about connections / (delay + latency), the same for every server measured.
-- The tail at a load every contender can carry, not at saturation (where latency is only
-- connections / throughput, Little's law).
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")
local pause = tonumber(os.getenv("BENCH_DELAY_MS"))

function delay()
   return pause
end

function bench_ok(status, headers, body)
   return status == 200
end

-- Appended to every benchmark script: per-thread status counts, and one JSON summary line.
-- A script may define bench_ok(status, headers, body) -> bool (what counts as a success) and
-- bench_after() (called after each counted response); with bench_list set, a 404 is an idle
-- request sent after the thread's list ran out, and is not counted.
local bench_threads = {}

function setup(thread)
   table.insert(bench_threads, thread)
   thread:set("id", #bench_threads)
end

-- This thread's share of the lines of $BENCH_LIST, split between $BENCH_THREADS threads.
function bench_share()
   local nthreads, mine, i = tonumber(os.getenv("BENCH_THREADS")), {}, 0
   for line in io.lines(os.getenv("BENCH_LIST")) do
      if i % nthreads == id - 1 then table.insert(mine, line) end
      i = i + 1
   end
   return mine
end

statuses = {}
counted = 0
oks = 0

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
   if bench_list and status == 404 then return end
   counted = counted + 1
   if bench_ok == nil or bench_ok(status, headers, body) then oks = oks + 1 end
   if bench_after then bench_after() end
end

function done(summary, latency, requests)
   local merged, n, ok = {}, 0, 0
   for _, t in ipairs(bench_threads) do
      for k, v in pairs(t:get("statuses")) do
         merged[tostring(k)] = (merged[tostring(k)] or 0) + v
      end
      n = n + t:get("counted")
      ok = ok + t:get("oks")
   end
   local parts = {}
   for k, v in pairs(merged) do table.insert(parts, string.format('"%s": %d', k, v)) end
   local e = summary.errors
   io.write(string.format(
      'BENCH_JSON {"requests": %d, "counted": %d, "ok": %d, "duration_us": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}, ' ..
      '"statuses": {%s}}\n',
      summary.requests, n, ok, summary.duration, e.connect, e.read, e.write, e.status,
      e.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, latency.mean, table.concat(parts, ", ")))
end

-- Send each line of $BENCH_LIST once, split between the threads ($BENCH_THREADS of them):
-- GET lines as paths (with `Cookie: $BENCH_COOKIE`), or POST them as form bodies to
-- $BENCH_PATH. A thread stops when every one of its lines is answered; connections with
-- nothing left to send ask for /__bench_idle (a 404, not counted) meanwhile.
-- Success: status $BENCH_STATUS and, when set, $BENCH_EXPECT in the Location header or body.
bench_list = true
local items = {}
local sent = 0
local verifying = false  -- wrk calls the first thread's request() once to check it: not a send
local method = os.getenv("BENCH_METHOD") or "GET"
local post_path = os.getenv("BENCH_PATH")
local want_status = tonumber(os.getenv("BENCH_STATUS") or "200")
local expect = os.getenv("BENCH_EXPECT")
if os.getenv("BENCH_COOKIE") then wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE") end

function init(args)
   items = bench_share()
   verifying = (id == 1)
end

function delay()
   if sent >= #items then return 100 end  -- nothing left: idle requests only now and then
   return 0
end

function request()
   if verifying then
      verifying = false
      return wrk.format("GET", "/__bench_idle", {})
   end
   sent = sent + 1
   local item = items[sent]
   if item == nil then return wrk.format("GET", "/__bench_idle", {}) end
   if method == "GET" then return wrk.format("GET", item) end
   return wrk.format("POST", post_path,
                     {["Content-Type"] = "application/x-www-form-urlencoded",
                      ["Cache-Control"] = "no-cache"}, item)
end

function bench_ok(status, headers, body)
   if status ~= want_status then return false end
   if expect == nil then return true end
   local where = headers["Location"] or headers["location"] or body or ""
   return string.find(where, expect, 1, true) ~= nil
end

function bench_after()
   if counted == #items then
      io.write("BENCH_THREAD_DONE\n")  -- the runner interrupts wrk once every thread is done
      io.flush()
      wrk.thread:stop()
   end
end

-- POST /auth/refresh with refresh cookies that rotate, as browsers do. Each thread holds a pool
-- of sessions (the lines of $BENCH_LIST, cookie values, split between $BENCH_THREADS threads): a
-- request takes one, and its answer's Set-Cookie puts the rotated value back, so no cookie is
-- ever presented twice. A failed refresh loses its session; the next request that finds the
-- pool empty goes without a cookie and is counted as a failure.
local pool = {}
local verifying = false  -- wrk calls the first thread's request() once to check it: not a send
local origin = os.getenv("BENCH_ORIGIN")
local name = "broker_refresh"

function init(args)
   pool = bench_share()
   verifying = (id == 1)
end

function request()
   local headers = {Origin = origin, ["Content-Length"] = "0"}
   if verifying then
      verifying = false
      return wrk.format("POST", "/auth/refresh", headers)
   end
   local cookie = table.remove(pool)
   if cookie then headers["Cookie"] = name .. "=" .. cookie end
   return wrk.format("POST", "/auth/refresh", headers)
end

function bench_ok(status, headers, body)
   local set = headers["Set-Cookie"] or headers["set-cookie"] or ""
   local value = string.match(set, name .. "=([^;]+)")
   if status ~= 200 or value == nil then return false end
   table.insert(pool, value)
   return string.find(body, '"access_token"', 1, true) ~= nil
end

-- GET the URL with `Authorization: Bearer $BENCH_TOKEN` (a broker JWT from a real login).
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_TOKEN")

function bench_ok(status, headers, body)
   return status == 200
end

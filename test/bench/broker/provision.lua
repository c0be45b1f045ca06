-- wrk script: service instance provision (+ deprovision) on the broker's
-- synchronous plan.  Part of test/bench/broker (see run.sh).
--
--   wrk ... -s provision.lua URL -- MODE TAG [QUOTA MARKER_PREFIX]
--
-- MODE "cycle":  every instance id is used once.  A connection that asks for a
--   request gets a DELETE of an instance whose PUT has already been answered
--   201 (a per-thread queue), otherwise a PUT of a fresh id.  So each id sees
--   exactly PUT then DELETE, never concurrently, whichever connection carries
--   them, and every request gets its own latency sample.  The id travels in
--   X-Broker-API-Request-Identity, which the broker echoes.
-- MODE "create": only PUTs of fresh ids.  With QUOTA (per thread), a thread
--   stops once QUOTA PUTs were answered 201 and creates the file
--   MARKER_PREFIX.<thread> so run.sh knows it is done.
-- TAG makes the ids unique across runs against the same database.

local SERVICE = "5e1d0db0-0000-4000-8000-000000000001"
local PLAN    = "5e1d0db0-0000-4000-8000-000000000011"
local BODY    = string.format(
   '{"service_id":"%s","plan_id":"%s","organization_guid":"bench-org","space_guid":"bench-space"}',
   SERVICE, PLAN)
local QUERY   = string.format("?service_id=%s&plan_id=%s", SERVICE, PLAN)

local threads = {}
local counter = 0

function setup(thread)
   counter = counter + 1
   thread:set("tid", counter)
   table.insert(threads, thread)
end

function init(args)
   -- wrk calls request() once on the first thread's state before the run
   -- to check the script, and throws that request away: that call must not
   -- use up an id (or the id would never be sent, and never deleted).
   verifying = (tid == 1)
   mode   = args[1] or "cycle"
   tag    = args[2] or "x"
   quota  = tonumber(args[3] or "0")
   marker = args[4]
   seq, head, tail = 0, 1, 0
   ready = {}                     -- ids answered 201, not yet deleted
   put, delete, created, non2xx, stopped = 0, 0, 0, 0, false
   hdrs = { ["X-Broker-API-Version"] = "2.17",
            ["Content-Type"] = "application/json" }
end

local function path(id)
   return "/v2/service_instances/" .. id
end

function request()
   if verifying then
      verifying = false
      return wrk.format("GET", "/v2/catalog", hdrs, nil)
   end
   if mode == "cycle" and head <= tail then
      local id = ready[head]
      ready[head] = nil
      head = head + 1
      delete = delete + 1
      hdrs["X-Broker-API-Request-Identity"] = "D " .. id
      return wrk.format("DELETE", path(id) .. QUERY, hdrs, nil)
   end
   local id
   if quota > 0 and seq >= quota then
      -- quota issued, waiting for the last answers: repeat an identical
      -- provision of the last id (idempotent: 200, no state change); these
      -- are not counted as provisions.
      id = string.format("bench-%s-%d-%d", tag, tid, seq)
   else
      seq = seq + 1
      put = put + 1
      id = string.format("bench-%s-%d-%d", tag, tid, seq)
   end
   hdrs["X-Broker-API-Request-Identity"] = "P " .. id
   return wrk.format("PUT", path(id), hdrs, BODY)
end

function response(status, headers, body)
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      return
   end
   if status ~= 201 then return end
   local rid = headers["X-Broker-API-Request-Identity"] or headers["x-broker-api-request-identity"]
   if not rid or rid:sub(1, 2) ~= "P " then return end
   created = created + 1
   if mode == "cycle" then
      tail = tail + 1
      ready[tail] = rid:sub(3)
   elseif quota > 0 and created >= quota and not stopped then
      stopped = true
      if marker then
         local f = io.open(marker .. "." .. tid, "w")
         if f then f:write(created, "\n"); f:close() end
      end
      wrk.thread:stop()
   end
end

function done(summary, latency, requests)
   local p, d, c, n = 0, 0, 0, 0
   for _, t in ipairs(threads) do
      p = p + t:get("put")
      d = d + t:get("delete")
      c = c + t:get("created")
      n = n + t:get("non2xx")
   end
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d sockerr=%d put=%d delete=%d created=%d\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99),
      n, e.connect + e.read + e.write + e.timeout, p, d, c))
end

-- wrk script: service binding bind + unbind on instances that run.sh
-- provisioned beforehand (ids bench-inst-1 .. bench-inst-N).
-- Part of test/bench/broker (see run.sh).
--
--   wrk ... -s bind.lua URL -- TAG NINSTANCES
--
-- Same scheme as provision.lua "cycle": a connection gets an unbind of a
-- binding whose bind was already answered 201 (per-thread queue), otherwise a
-- bind of a fresh binding id on the next instance (round robin).  Instance and
-- binding ids travel in X-Broker-API-Request-Identity, which the broker echoes.

local SERVICE = "5e1d0db0-0000-4000-8000-000000000001"
local PLAN    = "5e1d0db0-0000-4000-8000-000000000011"
local BODY    = string.format('{"service_id":"%s","plan_id":"%s"}', SERVICE, PLAN)
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
   tag   = args[1] or "x"
   ninst = tonumber(args[2] or "64")
   seq, head, tail = 0, 1, 0
   ready = {}
   put, delete, created, non2xx = 0, 0, 0, 0
   hdrs = { ["X-Broker-API-Version"] = "2.17",
            ["Content-Type"] = "application/json" }
end

local function path(inst, b)
   return "/v2/service_instances/" .. inst .. "/service_bindings/" .. b
end

function request()
   if verifying then
      verifying = false
      return wrk.format("GET", "/v2/catalog", hdrs, nil)
   end
   if head <= tail then
      local ib = ready[head]
      ready[head] = nil
      head = head + 1
      delete = delete + 1
      local inst, b = ib:match("^(%S+) (%S+)$")
      hdrs["X-Broker-API-Request-Identity"] = "D " .. ib
      return wrk.format("DELETE", path(inst, b) .. QUERY, hdrs, nil)
   end
   seq = seq + 1
   local inst = "bench-inst-" .. (((seq * 7 + tid) % ninst) + 1)
   local b = string.format("bind-%s-%d-%d", tag, tid, seq)
   put = put + 1
   hdrs["X-Broker-API-Request-Identity"] = "P " .. inst .. " " .. b
   return wrk.format("PUT", path(inst, b), hdrs, BODY)
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
   tail = tail + 1
   ready[tail] = rid:sub(3)
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

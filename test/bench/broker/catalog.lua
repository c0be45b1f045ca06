-- wrk script: GET /v2/catalog with the OSB version header.
-- The request is static (no request()/response() hooks) so wrk spends as
-- little CPU as possible; non-2xx responses are counted by wrk (status > 399)
-- and cross-checked by run.sh against the broker's /metrics.
-- Part of test/bench/broker (see run.sh).

wrk.method = "GET"
wrk.path = "/v2/catalog"
wrk.headers["X-Broker-API-Version"] = "2.17"

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d non2xx=%d sockerr=%d put=0 delete=0\n",
      summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99),
      e.status, e.connect + e.read + e.write + e.timeout))
end

-- kedge.agent.metrics: the agent's Prometheus metrics, in the text
-- exposition format (version 0.0.4), for node_exporter's textfile
-- collector (written atomically) and for GET /metrics.
--
--   kedge_up                                    1 while the agent runs
--   kedge_pass_total{result}                    passes by result
--   kedge_last_pass_timestamp_seconds           when the last pass ended
--   kedge_last_success_timestamp_seconds        when the last good pass ended
--   kedge_pass_duration_seconds                 histogram of pass durations
--   kedge_bundle_info{bundle,chart,version,commit} one per bundle, value 1
--   kedge_drift_corrections_total               objects re-applied after drift
--   kedge_outbox_pending                        reports not delivered yet
--   kedge_sync_failures_total                   ticks that could not reach the repo
--   kedge_consecutive_failures                  failed ticks in a row
--   kedge_next_tick_timestamp_seconds           when the next tick is due
local kos = require "kedge.os"

local M = {}

-- Histogram buckets (seconds): a no-op pass takes about a second, a big
-- site's first install minutes.
M.BUCKETS = {0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600}

M.RESULTS = {"success", "failed", "busy", "undelivered"}

-- hist: {counts = {per bucket}, sum =, count =}; adds one observation.
function M.observe(hist, seconds)
  -- every bucket kept, as a dense list: a sparse one (no tick under the
  -- first bound yet) comes back from agent.json as a map with string keys,
  -- which the next integer key would collide with
  local old, counts = hist.counts or {}, {}
  for i, le in ipairs(M.BUCKETS) do
    counts[i] = math.tointeger(old[i] or old[tostring(i)]) or 0
    if seconds <= le then counts[i] = counts[i] + 1 end
  end
  hist.counts = counts
  hist.sum = (hist.sum or 0) + seconds
  hist.count = (hist.count or 0) + 1
end

-- A label value as the format escapes it: backslash, quote, newline.
local function label(v)
  return (tostring(v):gsub("[\\\"\n]", {["\\"] = "\\\\", ['"'] = '\\"', ["\n"] = "\\n"}))
end

local function num(v)
  if v == nil then return "0" end
  if math.type(v) == "integer" then return tostring(v) end
  if v == math.floor(v) and math.abs(v) < 2 ^ 53 then return string.format("%d", v) end
  return string.format("%.9g", v)
end

local function family(out, name, kind, help)
  out[#out + 1] = "# HELP " .. name .. " " .. help
  out[#out + 1] = "# TYPE " .. name .. " " .. kind
end

local function histogram(out, hist)
  hist = hist or {}
  local counts = hist.counts or {}
  family(out, "kedge_pass_duration_seconds", "histogram", "How long passes took.")
  for i, le in ipairs(M.BUCKETS) do
    out[#out + 1] = string.format('kedge_pass_duration_seconds_bucket{le="%s"} %s', num(le),
      num(counts[i] or counts[tostring(i)] or 0))
  end
  out[#out + 1] = 'kedge_pass_duration_seconds_bucket{le="+Inf"} ' .. num(hist.count or 0)
  out[#out + 1] = "kedge_pass_duration_seconds_sum " .. num(hist.sum or 0)
  out[#out + 1] = "kedge_pass_duration_seconds_count " .. num(hist.count or 0)
end

-- st: the agent's view (kedge.agent's metrics_state) -> the text.
function M.render(st)
  local out = {}
  family(out, "kedge_up", "gauge", "1 while the kedge agent runs.")
  out[#out + 1] = "kedge_up " .. (st.up and "1" or "0")
  family(out, "kedge_pass_total", "counter", "Passes the agent ran, by result.")
  local results, seen = {}, {}
  for _, r in ipairs(M.RESULTS) do results[#results + 1], seen[r] = r, true end
  local extra = {}
  for r in pairs(st.passes or {}) do if not seen[r] then extra[#extra + 1] = r end end
  table.sort(extra)
  for _, r in ipairs(extra) do results[#results + 1] = r end
  for _, r in ipairs(results) do
    out[#out + 1] = string.format('kedge_pass_total{result="%s"} %s', label(r), num((st.passes or {})[r]))
  end
  family(out, "kedge_last_pass_timestamp_seconds", "gauge", "When the last pass ended (Unix time; 0: none yet).")
  out[#out + 1] = "kedge_last_pass_timestamp_seconds " .. num(st.last_pass or 0)
  family(out, "kedge_last_success_timestamp_seconds", "gauge",
    "When the last successful pass ended (Unix time; 0: none yet).")
  out[#out + 1] = "kedge_last_success_timestamp_seconds " .. num(st.last_success or 0)
  histogram(out, st.histogram)
  family(out, "kedge_bundle_info", "gauge", "The bundles the site runs, with chart, version and commit.")
  for _, b in ipairs(st.bundles or {}) do
    out[#out + 1] = string.format('kedge_bundle_info{bundle="%s",chart="%s",version="%s",commit="%s"} 1',
      label(b.bundle), label(b.chart or ""), label(b.version or ""), label(b.commit or ""))
  end
  family(out, "kedge_drift_corrections_total", "counter", "Objects re-applied because someone changed or deleted them.")
  out[#out + 1] = "kedge_drift_corrections_total " .. num(st.drift_corrections)
  family(out, "kedge_outbox_pending", "gauge", "Reports waiting in the outbox to be delivered.")
  out[#out + 1] = "kedge_outbox_pending " .. num(st.outbox_pending)
  family(out, "kedge_sync_failures_total", "counter", "Ticks that could not read the config repo.")
  out[#out + 1] = "kedge_sync_failures_total " .. num(st.sync_failures)
  family(out, "kedge_consecutive_failures", "gauge", "Failed ticks in a row (0 after a success).")
  out[#out + 1] = "kedge_consecutive_failures " .. num(st.consecutive_failures)
  family(out, "kedge_next_tick_timestamp_seconds", "gauge", "When the next tick is due (Unix time).")
  out[#out + 1] = "kedge_next_tick_timestamp_seconds " .. num(math.floor(st.next_tick or 0))
  return table.concat(out, "\n") .. "\n"
end

-- Written whole or not at all (node_exporter reads *.prom at any moment).
function M.write_textfile(path, text)
  return kos.write_atomic(path, text, 420) -- 0644: node_exporter may run as another user
end

-- The whole HTTP/1.1 response to a request head: GET /metrics only.
function M.http_response(head, text)
  local method, target = head:match("^(%u+) (%S+) HTTP/1%.[01]\r?\n")
  local status, body, ctype, extra = "200 OK", text, "text/plain; version=0.0.4; charset=utf-8", ""
  if not method then
    status, body, ctype = "400 Bad Request", "bad request\n", "text/plain"
  elseif method ~= "GET" and method ~= "HEAD" then
    status, body, ctype, extra = "405 Method Not Allowed", "only GET\n", "text/plain", "Allow: GET, HEAD\r\n"
  elseif target:match("^[^?]*") ~= "/metrics" then
    status, body, ctype = "404 Not Found", "kedge serves /metrics only\n", "text/plain"
  end
  local resp = string.format("HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n%s" ..
    "Connection: close\r\n\r\n", status, ctype, #body, extra)
  if method ~= "HEAD" then resp = resp .. body end
  return resp
end

return M

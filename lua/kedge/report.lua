-- kedge.report: the pass's report (step 9 of the pass), its outbox in the
-- state directory, and its delivery upstream. The JSON schema, the outbox
-- and the destinations are described in README.md ("### Reports").
--
--   local report = require "kedge.report"
--   local r = report.new{site = "berlin-01", repo = url, commit = id,
--                        signature = "verified", started = os.time()}
--   report.add_bundle(r, {name = "web", chart = "web", version = "1.2.0",
--     status = "ok", created = 3, updated = 1, unchanged = 7, pruned = 0,
--     budget = row, smoke = results, errors = {}})
--   report.finish(r, "ok")
--   assert(report.outbox_write(state_dir, r))
--   local sum = report.deliver(state_dir, site.report, {git = sync_opts})
--   report.list(state_dir), report.show(state_dir, id)
--
-- Operational failures return nil, err (or are counted in the summary);
-- wrong arguments raise. Every string that goes into a report or a log
-- line passes report.redact first.
local json = require "kedge.json"
local http = require "kedge.http"
local git = require "kedge.git"
local fs = require "kedge.os"
local log = require "kedge.log"
local limits = require "kedge.limits"
local kedge = require "kedge"

local M = {}

M.SCHEMA = 1
M.RESULTS = {ok = true, failed = true, ["budget-refused"] = true,
  ["apply-failed"] = true, ["smoke-failed"] = true, ["images-missing"] = true}
-- The outbox holds at most this many undelivered reports and bytes; the
-- oldest beyond are compacted into one summary record.
M.MAX_REPORTS = limits.outbox_reports
M.MAX_BYTES = limits.outbox_bytes
-- Delivered reports kept in STATE/reports for `report show`.
M.KEEP_SENT = limits.reports_kept
-- Per smoke result, bytes of output kept; per report, summary entries.
M.MAX_OUTPUT = limits.report_output_bytes
M.MAX_SUMMARY_ENTRIES = limits.report_summary_entries
-- The largest report, JUnit or marker file read back: larger ones are
-- quarantined (outbox) or listed as unreadable, never read.
M.MAX_FILE = limits.report_file_bytes
M.MAX_NAMES = 200
-- Seconds outbox_write and deliver wait for another kedge on the outbox.
M.LOCK_TIMEOUT = 120

-- --- secrets ----------------------------------------------------------------

-- Strings known to be secret (tokens and passwords read by this process);
-- they are replaced wherever they appear. Held for the process only.
local secrets = {}

-- Registers a secret so that redact removes it (shorter than 4 bytes is
-- ignored: it would redact ordinary words).
function M.secret(s)
  if type(s) ~= "string" then error("report.secret: a string, not a " .. type(s), 2) end
  s = s:gsub("%s+$", "")
  if #s >= 4 then secrets[s] = true end
end

local function plain(s) return (s:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0")) end

-- Keys whose values are secrets in key=value, key: value and JSON text,
-- as case-insensitive patterns.
local SECRET_KEYS = {}
for _, key in ipairs({"password", "passwd", "token", "secret", "api[_-]?key"}) do
  SECRET_KEYS[#SECRET_KEYS + 1] = key:gsub("%a", function(c) return "[" .. c:lower() .. c:upper() .. "]" end)
end

-- Replaces the user info of every URL in text ("scheme://user:pw@host" →
-- "scheme://[redacted]@host"), in one pass: a pattern would take quadratic
-- time on long runs of letters.
local function strip_userinfo(s)
  if not s:find("://", 1, true) then return s end
  local out, pos = {}, 1
  while true do
    local _, b = s:find("://", pos, true)
    if not b then break end
    local stop = s:find("[/%s\"'<>]", b + 1) or #s + 1
    local at, i = nil, b + 1
    while true do
      local j = s:find("@", i, true)
      if not j or j >= stop then break end
      at, i = j, j + 1
    end
    out[#out + 1] = s:sub(pos, b)
    if at then out[#out + 1] = "[redacted]" end
    pos = at or b + 1
  end
  out[#out + 1] = s:sub(pos)
  return table.concat(out)
end

-- Removes what looks like a credential from text: URL userinfo, bearer and
-- basic tokens, Authorization headers, password=/token=/secret= values,
-- private key blocks, and every registered secret.
function M.redact(s)
  if type(s) ~= "string" then return s end
  for secret in pairs(secrets) do
    s = s:gsub(plain(secret), "[redacted]")
  end
  s = strip_userinfo(s)
  s = s:gsub("([Aa]uthorization%s*[:=]%s*)[^\r\n\"]+", "%1[redacted]")
  s = s:gsub("([Bb]earer%s+)[%w%-%._~%+/]+=*", "%1[redacted]")
  s = s:gsub("([Bb]asic%s+)[%w%+/]+=*", "%1[redacted]")
  for _, key in ipairs(SECRET_KEYS) do
    -- key=value (queries, environments), "key": "value" (JSON), and
    -- key: value where key starts a word ("x.token: No such file" stays)
    s = s:gsub("(" .. key .. "=)[^%s&\"',;}]+", "%1[redacted]")
    s = s:gsub("(" .. key .. "\"%s*:%s*\")[^\"]*", "%1[redacted]")
    s = s:gsub("^(" .. key .. "%s*:%s*)[^%s,;}]+", "%1[redacted]")
    s = s:gsub("([%s{,]" .. key .. "%s*:%s*)[^%s,;}]+", "%1[redacted]")
  end
  s = s:gsub("%-%-%-%-%-BEGIN [%u ]*PRIVATE KEY%-%-%-%-%-.-%-%-%-%-%-END [%u ]*PRIVATE KEY%-%-%-%-%-",
    "[redacted private key]")
  return s
end

-- A URL fit for a report: no userinfo, no query string or fragment (tokens
-- travel there too).
function M.clean_url(url)
  if type(url) ~= "string" then return url end
  url = url:gsub("^(%a[%w+.-]*://)[^/@]*@", "%1")
  url = url:gsub("[?#].*$", "")
  return M.redact(url)
end

-- A deep copy of a value with every string redacted, tables that are lists
-- kept as lists, and anything that JSON cannot carry turned into a string.
local function scrub(v, depth)
  depth = depth or 0
  local t = type(v)
  if t == "string" then return M.redact(v) end
  if t == "number" or t == "boolean" then return v end
  if v == nil or kedge.is_null(v) then return kedge.null end
  if t ~= "table" or depth > 32 then return tostring(v) end
  local n = #v
  local is_list = n > 0 or next(v) == nil and getmetatable(v) ~= nil
  if n > 0 then
    for k in pairs(v) do
      if math.type(k) ~= "integer" or k < 1 or k > n then is_list = false break end
    end
  end
  local out = {}
  if is_list then
    for i = 1, n do out[i] = scrub(v[i], depth + 1) end
    return kedge.list(out)
  end
  for k, x in pairs(v) do out[tostring(k)] = scrub(x, depth + 1) end
  return out
end

-- --- small helpers ----------------------------------------------------------

local function rfc3339(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end

local function parse_time(s)
  local y, mo, d, h, mi, se = s:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)T(%d%d):(%d%d):(%d%d)Z$")
  if not y then return nil end
  -- os.time reads local time; the difference to UTC is measured once
  local t = os.time{year = y, month = mo, day = d, hour = h, min = mi, sec = se}
  local now = os.time()
  local offset = os.time(os.date("!*t", now)) - now
  return t - offset
end

M.parse_time = parse_time

local function random_hex(n)
  local f = io.open("/dev/urandom", "rb")
  local bytes = f and f:read(n)
  if f then f:close() end
  if not bytes or #bytes < n then
    error("cannot read /dev/urandom for a report id")
  end
  return (bytes:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

-- FNV-1a, 32 bits: names a destination's marker file after its target.
local function fnv(s)
  local h = 2166136261
  for i = 1, #s do
    h = ((h ~ s:byte(i)) * 16777619) & 0xffffffff
  end
  return string.format("%08x", h)
end

M.fnv = fnv

local function safe_name(s)
  return (tostring(s):gsub("[^%w%._-]", "_"):sub(1, 64))
end

local function read_file(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, err end
  local data = f:read("a")
  f:close()
  return data
end

-- A file of the outbox or STATE/reports, read only when it is a regular
-- file within M.MAX_FILE: its size is checked first, so a huge or endless
-- file costs no memory (the read itself is bounded too, for a file that
-- grows in between).
local function read_bounded(path)
  local st, err = fs.stat(path)
  if not st then return nil, err end
  if st.type ~= "file" then return nil, path .. " is not a regular file" end
  if st.size > M.MAX_FILE then
    return nil, string.format("%s is %d bytes, over the report file limit of %d bytes (KD_LIMIT_REPORT_FILE_BYTES)",
      path, st.size, M.MAX_FILE)
  end
  return fs.read_file(path, M.MAX_FILE)
end

local function count(v)
  if type(v) == "table" then return #v end
  if math.type(v) == "integer" then return v end
  if type(v) == "number" then return math.floor(v) end
  return 0
end

local function names(v)
  if type(v) ~= "table" then return nil end
  local out = {}
  for i = 1, math.min(#v, M.MAX_NAMES) do
    local o = v[i]
    if type(o) == "table" then
      local md = o.metadata or {}
      o = table.concat({o.kind or "?", "/", md.namespace and (md.namespace .. "/") or "", md.name or o.name or "?"})
    end
    out[#out + 1] = M.redact(tostring(o))
  end
  return kedge.list(out)
end

-- --- the report -------------------------------------------------------------

-- report.new{site, repo, commit, signature, started} → report. started is
-- Unix seconds (default now); signature is the sync's state string
-- ("verified", "not-checked", ...) or its table {state, principal, key}.
function M.new(o)
  if type(o) ~= "table" then error("report.new: a table of fields", 2) end
  if type(o.site) ~= "string" or o.site == "" then error("report.new: site is required", 2) end
  local started = o.started or os.time()
  if math.type(started) ~= "integer" then error("report.new: started is Unix seconds", 2) end
  local sig = o.signature
  if type(sig) == "table" then
    sig = {state = sig.state or "unknown", principal = sig.principal, key = sig.key or sig.fingerprint}
  else
    sig = {state = sig or "unknown"}
  end
  local commit = o.commit or ""
  local id = string.format("%s-%s-%s-%s", safe_name(o.site), os.date("!%Y%m%dT%H%M%SZ", started),
    commit ~= "" and commit:sub(1, 7) or "nocommit", random_hex(4))
  return {
    schema = M.SCHEMA,
    kind = "report",
    id = id,
    -- orders reports started within one second (ids carry a random part)
    created_ns = math.floor(fs.now() * 1e9),
    site = o.site,
    repo = M.clean_url(o.repo),
    ref = o.ref,
    commit = commit ~= "" and commit or nil,
    signature = sig,
    started = rfc3339(started),
    kedge = {version = kedge.version, commit = kedge.commit},
    bundles = kedge.list({}),
    errors = kedge.list({}),
  }
end

-- Adds a bundle's outcome. Counts may be numbers or lists of objects (then
-- their names are kept too, at most MAX_NAMES each).
function M.add_bundle(r, b)
  if type(r) ~= "table" or type(b) ~= "table" or type(b.name) ~= "string" then
    error("report.add_bundle(report, {name = ..., ...})", 2)
  end
  r.bundles[#r.bundles + 1] = b
  return b
end

-- The budget of the whole pass (budget.compute's result).
function M.set_budget(r, result)
  r.budget = result
end

local function norm_smoke(list)
  local out = {}
  for i, s in ipairs(type(list) == "table" and list or {}) do
    local output = s.output
    if type(output) == "string" and #output > M.MAX_OUTPUT then
      output = output:sub(1, M.MAX_OUTPUT) .. string.format("\n[%d more bytes]", #s.output - M.MAX_OUTPUT)
    end
    out[i] = {name = s.name or ("test " .. i), kind = s.kind or "unknown",
      status = s.status or "failed", duration = tonumber(s.duration) or 0,
      message = s.message, output = output}
  end
  return kedge.list(out)
end

local function norm_errors(list)
  local out = {}
  if type(list) == "string" then list = {list} end
  for _, e in ipairs(type(list) == "table" and list or {}) do
    out[#out + 1] = type(e) == "table" and (e.message or tostring(e[1])) or tostring(e)
  end
  return kedge.list(out)
end

-- What the repo's health scripts said of the bundle's objects (the wait's
-- newest answer each), at most MAX_NAMES, those not Healthy first.
local function norm_health(list)
  if type(list) ~= "table" or #list == 0 then return nil end
  local out = {}
  for pass = 1, 2 do
    for _, h in ipairs(list) do
      if #out >= M.MAX_NAMES then break end
      if (h.status ~= "Healthy") == (pass == 1) then
        local msg = type(h.message) == "string" and h.message:sub(1, M.MAX_OUTPUT) or nil
        out[#out + 1] = {apiVersion = h.apiVersion, kind = h.kind, namespace = h.namespace,
          name = h.name, status = h.status, message = msg ~= "" and msg or nil, script = h.script}
      end
    end
  end
  return kedge.list(out)
end

local function norm_bundle(b)
  local objects = {created = names(b.created), updated = names(b.updated), pruned = names(b.pruned)}
  return {
    name = b.name, chart = b.chart, version = b.version, release = b.release,
    namespace = b.namespace, status = b.status or "unknown",
    created = count(b.created), updated = count(b.updated),
    unchanged = count(b.unchanged), pruned = count(b.pruned),
    objects = next(objects) and objects or nil,
    budget = b.budget, smoke = norm_smoke(b.smoke), errors = norm_errors(b.errors),
    drift = b.drift and #b.drift > 0 and b.drift or nil,
    held = b.held and {gate = b.held.gate, reason = b.held.reason,
      ["until"] = tonumber(b.held["until"]) and rfc3339(b.held["until"]) or nil},
    overridden = b.overridden,
    soak = b.soak and {wave = b.soak.wave, every = b.soak.every,
      ["until"] = tonumber(b.soak["until"]) and rfc3339(b.soak["until"]) or nil},
    health = norm_health(b.health),
  }
end

-- Closes the report: its result (one of M.RESULTS) and finish time.
function M.finish(r, result, finished)
  if not M.RESULTS[result] then
    error("report.finish: result must be ok, failed, budget-refused, images-missing, apply-failed or smoke-failed, not "
      .. tostring(result), 2)
  end
  finished = finished or os.time()
  r.result = result
  r.finished = rfc3339(finished)
  local st = parse_time(r.started)
  r.duration = st and math.max(0, finished - st) or nil
  return r
end

-- The report as a plain table in schema form, every string redacted.
function M.document(r)
  local d = {}
  for k, v in pairs(r) do d[k] = v end
  local bundles, smoke_total, smoke_failed = {}, 0, 0
  for i, b in ipairs(r.bundles or {}) do
    bundles[i] = norm_bundle(b)
    for _, s in ipairs(bundles[i].smoke) do
      smoke_total = smoke_total + 1
      if s.status ~= "passed" and s.status ~= "skipped" then smoke_failed = smoke_failed + 1 end
    end
  end
  d.bundles = kedge.list(bundles)
  d.errors = norm_errors(r.errors)
  if d.kind ~= "summary" then d.smoke = {total = smoke_total, failed = smoke_failed} end
  return scrub(d)
end

local function encode(doc)
  return assert(json.encode(doc, {indent = 2, sort_keys = true})) .. "\n"
end

-- The report's JSON text (stable: sorted keys, two-space indent).
function M.json(r)
  return encode(M.document(r))
end

-- --- JUnit XML ----------------------------------------------------------------

local function xml(s)
  s = tostring(s or "")
  -- XML 1.0 has no place for other control characters
  s = s:gsub("[%z\1-\8\11\12\14-\31]", "?")
  return (s:gsub("[&<>\"']", {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ['"'] = "&quot;", ["'"] = "&apos;"}))
end

-- JUnit XML of a document's smoke results (see M.junit).
local function junit_of(doc)
  local suites, total, failures, skipped, time = {}, 0, 0, 0, 0
  for _, b in ipairs(doc.bundles or {}) do
    local smoke = b.smoke or {}
    if #smoke > 0 then
      local cases, f, sk, t = {}, 0, 0, 0
      for _, s in ipairs(smoke) do
        local body = ""
        if s.status == "skipped" then
          sk = sk + 1
          body = string.format('      <skipped message="%s"/>\n', xml(s.message))
        elseif s.status ~= "passed" then
          f = f + 1
          body = string.format('      <failure message="%s" type="%s">%s</failure>\n',
            xml(s.message or "failed"), xml(s.kind), xml(s.output or s.message))
        end
        if s.status == "passed" and type(s.output) == "string" and s.output ~= "" then
          body = body .. string.format("      <system-out>%s</system-out>\n", xml(s.output))
        end
        t = t + (tonumber(s.duration) or 0)
        cases[#cases + 1] = string.format('    <testcase name="%s" classname="%s.%s" time="%.3f">\n%s    </testcase>\n',
          xml(s.name), xml(b.name), xml(s.kind), tonumber(s.duration) or 0, body)
      end
      suites[#suites + 1] = string.format(
        '  <testsuite name="%s" tests="%d" failures="%d" errors="0" skipped="%d" time="%.3f" timestamp="%s" hostname="%s">\n%s  </testsuite>\n',
        xml(b.name), #smoke, f, sk, t, xml(doc.started), xml(doc.site), table.concat(cases))
      total, failures, skipped, time = total + #smoke, failures + f, skipped + sk, time + t
    end
  end
  if #suites == 0 then return nil end
  return string.format('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="kedge %s %s" tests="%d" failures="%d" errors="0" skipped="%d" time="%.3f">\n%s</testsuites>\n',
    xml(doc.site), xml(doc.id), total, failures, skipped, time, table.concat(suites))
end

-- JUnit XML of the report's smoke results: one testsuite per bundle with
-- tests, one testcase per test; nil when no bundle has any.
function M.junit(r)
  return junit_of(M.document(r))
end

-- --- the outbox ---------------------------------------------------------------

local function outbox_dir(state) return state .. "/outbox" end
local function sent_dir(state) return state .. "/reports" end

-- Files of a folder by report id: {[id] = {json=, junit=, markers={[key]=name}}}.
-- keep: leave a dead write's temp files (a folder kedge does not own).
local function scan(dir, keep)
  local list, err, why = fs.read_dir(dir)
  if not list then
    if why == "missing" then return {} end
    return nil, err
  end
  local by = {}
  local function entry(id)
    by[id] = by[id] or {id = id, markers = {}}
    return by[id]
  end
  for _, name in ipairs(list) do
    local id = name:match("^(.+)%.json$")
    if id and not id:find("%.tmp%.") then
      entry(id).json = name
    else
      id = name:match("^(.+)%.junit%.xml$")
      if id then entry(id).junit = name end
      local mid, key = name:match("^(.+)%.done%-(.+)$")
      if mid then entry(mid).markers[key] = name end
      -- a write that died before its rename leaves name.tmp.<pid>; one
      -- whose process still runs is a write in progress
      local pid = name:match("%.tmp%.(%d+)$")
      if pid and not keep and not fs.stat("/proc/" .. pid) then os.remove(dir .. "/" .. name) end
    end
  end
  return by
end

local function load_doc(dir, name)
  local text, err = read_bounded(dir .. "/" .. name)
  if not text then return nil, err end
  local d, derr = json.decode(text, {name = dir .. "/" .. name})
  if not d then return nil, derr end
  if type(d) ~= "table" then return nil, dir .. "/" .. name .. ": not a report (not a JSON object)" end
  return d, text
end

-- The start time in an id (<site>-<YYYYMMDDTHHMMSSZ>-...): ids sort by it
-- without reading their files. A summary's id carries its oldest report's.
local function stamp(id)
  return id:match("%-(%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ)%-") or ""
end

local function oldest_first(a, b)
  local sa, sb = stamp(a.id), stamp(b.id)
  if sa ~= sb then return sa < sb end
  return a.id < b.id
end

-- The outbox's reports, oldest first, by their files only: {{id, entry,
-- bytes}}. Markers and JUnit files whose report is gone (removed by hand,
-- or a crash between removing a report and its markers) are removed.
local function entries(state)
  local dir = outbox_dir(state)
  local by, err = scan(dir)
  if not by then return nil, err end
  local out = {}
  for id, e in pairs(by) do
    if e.json then
      local bytes = 0
      for _, name in ipairs({e.json, e.junit}) do
        local st = fs.stat(dir .. "/" .. name)
        -- a file over the bound is quarantined when read, so it does not
        -- make the rest look like an outbox to compact
        if st and st.size <= M.MAX_FILE then bytes = bytes + st.size end
      end
      out[#out + 1] = {id = id, entry = e, bytes = bytes}
    else
      for _, name in pairs(e.markers) do os.remove(dir .. "/" .. name) end
      if e.junit then os.remove(dir .. "/" .. e.junit) end
    end
  end
  table.sort(out, oldest_first)
  return out
end

-- Moves an outbox file that cannot be read (over M.MAX_FILE, not a file,
-- not JSON) aside as NAME.bad, out of every later scan, so the reports
-- after it are still delivered.
local function quarantine(dir, name, why)
  local ok, rerr = os.rename(dir .. "/" .. name, dir .. "/" .. name .. ".bad")
  log.warn("report outbox: unreadable file moved aside as .bad; the other reports are still delivered " ..
    "(look at it, then remove it)", {file = dir .. "/" .. name, error = why,
    moved = ok and (dir .. "/" .. name .. ".bad") or nil, rename_error = not ok and rerr or nil})
end

-- Reads an entry's report (doc, text, junit); an unreadable one is
-- quarantined and false returned. An unreadable JUnit file is quarantined
-- alone: the report goes without it.
local function load(dir, p)
  local d, text = load_doc(dir, p.entry.json)
  if not d then
    quarantine(dir, p.entry.json, text)
    return false
  end
  p.doc, p.text = d, text
  if p.entry.junit then
    local junit, jerr = read_bounded(dir .. "/" .. p.entry.junit)
    if not junit then
      quarantine(dir, p.entry.junit, jerr)
      p.entry.junit = nil
    end
    p.junit = junit
  end
  return true
end

-- The pending reports, read, oldest first.
local function pending(state)
  local list, err = entries(state)
  if not list then return nil, err end
  local out = {}
  for _, p in ipairs(list) do
    if load(outbox_dir(state), p) then out[#out + 1] = p end
  end
  return out
end

local function remove_report(dir, p)
  os.remove(dir .. "/" .. p.entry.json)
  if p.entry.junit then os.remove(dir .. "/" .. p.entry.junit) end
  for _, name in pairs(p.entry.markers) do os.remove(dir .. "/" .. name) end
end

local function summary_entry(d)
  local bundles = {}
  for i, b in ipairs(d.bundles or {}) do
    bundles[i] = {name = b.name, status = b.status, version = b.version}
  end
  return {id = d.id, started = d.started, finished = d.finished, result = d.result,
    commit = d.commit, smoke = d.smoke, errors = #(d.errors or {}), bundles = kedge.list(bundles)}
end

-- Compacts the oldest pending reports (never the newest one) into one
-- summary record while the outbox is over its bounds.
local function compact(state, opts)
  local max_reports = opts.max_reports or M.MAX_REPORTS
  local max_bytes = opts.max_bytes or M.MAX_BYTES
  local list, err = entries(state)
  if not list then return nil, err end
  local n, bytes = #list, 0
  for _, p in ipairs(list) do bytes = bytes + p.bytes end
  if n <= max_reports and bytes <= max_bytes then return 0 end
  local held = bytes
  local take, items, results, dropped = {}, {}, {}, 0
  local first, last, site
  -- a summary counts as one report, so taking k reports frees k - 1 slots
  local i = 1
  while i < n and (n - #take + 1 > max_reports or bytes > max_bytes) do
    local p = list[i]
    take[#take + 1] = p
    bytes = bytes - p.bytes
    i = i + 1
  end
  local dir = outbox_dir(state)
  local read = {}
  for _, p in ipairs(take) do
    if load(dir, p) then read[#read + 1] = p end
  end
  take = read
  if #take < 2 and not (#take == 1 and take[1].doc.kind ~= "summary") then return 0 end
  for _, p in ipairs(take) do
    local d = p.doc
    site = site or d.site
    first = first or d.started
    last = d.finished or d.started or last
    if d.kind == "summary" then
      -- an older summary folds in whole: its entries and its counts
      for _, e in ipairs(d.reports or {}) do
        if #items < M.MAX_SUMMARY_ENTRIES then items[#items + 1] = e else dropped = dropped + 1 end
      end
      dropped = dropped + (math.tointeger(d.details_dropped) or 0)
      for k, c in pairs(d.results or {}) do results[k] = (results[k] or 0) + (math.tointeger(c) or 0) end
    else
      if #items < M.MAX_SUMMARY_ENTRIES then items[#items + 1] = summary_entry(d) else dropped = dropped + 1 end
      local res = d.result or "unfinished"
      results[res] = (results[res] or 0) + 1
    end
  end
  local total = 0
  for _, c in pairs(results) do total = total + c end
  local now = os.time()
  local s = {
    schema = M.SCHEMA, kind = "summary", site = site or "unknown",
    id = string.format("%s-%s-summary-%s", safe_name(site or "unknown"),
      stamp(take[1].id) ~= "" and stamp(take[1].id) or os.date("!%Y%m%dT%H%M%SZ", now), random_hex(4)),
    started = first, finished = last, compacted_at = rfc3339(now),
    count = total, results = results, details_dropped = dropped,
    reports = kedge.list(items),
    reason = string.format("the outbox held %d undelivered reports (%d bytes), more than its bound of %d reports or %d bytes",
      n, held, max_reports, max_bytes),
  }
  local ok, werr = fs.write_atomic(dir .. "/" .. s.id .. ".json", encode(scrub(s)))
  if not ok then return nil, werr end
  for _, p in ipairs(take) do remove_report(dir, p) end
  fs.sync_dir(dir)
  log.error("report outbox full: compacted undelivered reports into a summary; their details are lost, " ..
    "their ids and results are kept", {count = total, reports = #take, first = take[1].id,
    last = take[#take].id, summary = s.id, outbox = dir})
  return #take
end

-- Writes the report (JSON, and JUnit XML when there are smoke results)
-- into STATE/outbox atomically, then keeps the outbox within its bounds.
-- opts: max_reports, max_bytes, lock_timeout.
function M.outbox_write(state, r, opts)
  if type(state) ~= "string" or type(r) ~= "table" or not r.id then
    error("report.outbox_write(state_dir, report)", 2)
  end
  opts = opts or {}
  if not r.finished then error("report.outbox_write: finish the report first", 2) end
  local dir = outbox_dir(state)
  local ok, err = fs.mkdir(state)
  if ok then ok, err = fs.mkdir(dir) end
  if not ok then return nil, err end
  local lock <close>, lerr = fs.lock(dir .. ".lock", opts.lock_timeout or M.LOCK_TIMEOUT)
  if not lock then return nil, lerr end
  local doc = M.document(r)
  local junit = junit_of(doc)
  if junit then
    ok, err = fs.write_atomic(dir .. "/" .. r.id .. ".junit.xml", junit)
    if not ok then return nil, err end
  end
  ok, err = fs.write_atomic(dir .. "/" .. r.id .. ".json", encode(doc))
  if not ok then return nil, err end
  local c, cerr = compact(state, opts)
  if not c then log.error("report outbox: compaction failed", {error = cerr}) end
  return dir .. "/" .. r.id .. ".json"
end

-- --- destinations -------------------------------------------------------------

local function opt(d, key)
  local v = d[key]
  if v == nil then v = d[key:gsub("-", "_")] end
  return v
end

-- A destination from the site's `report:` list, checked: {type, key,
-- label (for logs and markers: no secrets), spec}.
local function destination(d)
  if type(d) ~= "table" then return nil, "a report destination is a map, not a " .. type(d) end
  if d.webhook then
    if type(d.webhook) ~= "string" or not d.webhook:match("^https?://") then
      return nil, "webhook: an http(s):// URL is needed"
    end
    local label = "webhook " .. M.clean_url(d.webhook)
    return {type = "webhook", label = label, key = "webhook-" .. fnv(d.webhook), spec = d}
  end
  local branch = opt(d, "git-branch")
  if branch ~= nil then
    if branch == true or branch == "" then branch = false end
    if branch ~= false and type(branch) ~= "string" then return nil, "git-branch: a branch name is needed" end
    local repo = d.repo and M.clean_url(d.repo) or "the config repo"
    -- true or "": each report goes to its own site's branch
    return {type = "git-branch", branch = branch, label = "git-branch " .. (branch or "kedge/status/<site>") .. " of " .. repo,
      key = "git-" .. fnv((branch or "") .. " " .. (d.repo or "")), spec = d}
  end
  if d.dir then
    if type(d.dir) ~= "string" or d.dir == "" then return nil, "dir: a folder is needed" end
    return {type = "dir", label = "dir " .. d.dir, key = "dir-" .. fnv(d.dir), spec = d}
  end
  return nil, "a report destination needs webhook:, git-branch: or dir:"
end

local function read_secret(file)
  local text, err = read_file(file)
  if not text then return nil, "cannot read " .. tostring(err) end
  local s = text:match("^([^\r\n]*)")
  if not s or s == "" then return nil, file .. " is empty: it should hold the token on its first line" end
  M.secret(s)
  return s
end

local function deliver_webhook(dest, p, opts)
  local d = dest.spec
  local headers = {
    ["Content-Type"] = "application/json",
    ["Idempotency-Key"] = p.id,
    ["X-Kedge-Report-Id"] = p.id,
    ["User-Agent"] = "kedge/" .. tostring(kedge.version),
  }
  local tf = opt(d, "token-file")
  if tf and not d.webhook:match("^https://") then
    return nil, "a token goes over HTTPS only: use an https:// webhook URL"
  end
  if tf then
    local token, err = read_secret(tf)
    if not token then return nil, err end
    headers["Authorization"] = "Bearer " .. token
  end
  local body = p.text
  if p.junit then
    -- the webhook receives one document: the report plus its JUnit XML
    local doc = assert(json.decode(p.text))
    doc.junit = p.junit
    body = encode(doc)
  end
  local res, err = http.request{method = "POST", url = d.webhook, headers = headers, body = body,
    timeout = tonumber(d.timeout) or opts.timeout or 10, attempts = 1,
    ca_file = opt(d, "ca-file"), max_body = limits.webhook_response_bytes}
  if not res then return nil, err end
  if res.status < 200 or res.status > 299 then
    return nil, string.format("HTTP %d: %s", res.status, (res.body or ""):sub(1, 200))
  end
  return {status = res.status}
end

local function deliver_git(dest, p, state, opts)
  local d = dest.spec
  local g = opts.git or {}
  local repo = d.repo or g.repo
  if not repo then return nil, "git-branch needs repo: (no config repo URL was given)" end
  -- the config repo's own credentials serve its status branch; another
  -- repo takes its own from the destination
  local own = d.repo ~= nil
  local function cred(key)
    if own then return opt(d, key) end
    return opt(d, key) or g[key:gsub("-", "_")]
  end
  for _, k in ipairs({"token-file", "password-file"}) do
    local f = cred(k)
    if f then
      local s, err = read_secret(f)
      if not s then return nil, err end
    end
  end
  local branch = dest.branch or ("kedge/status/" .. safe_name(p.doc.site or "unknown"))
  local files = {["reports/" .. p.id .. ".json"] = p.text}
  if p.junit then files["reports/" .. p.id .. ".junit.xml"] = p.junit end
  local ok, err = fs.mkdir(state .. "/report-git")
  if not ok then return nil, err end
  local res, perr = git.push{
    repo = repo, branch = branch, work = state .. "/report-git/" .. fnv(repo .. " " .. branch) .. ".git",
    files = files,
    message = string.format("kedge report %s: %s %s%s", p.id, tostring(p.doc.site),
      tostring(p.doc.result or p.doc.kind), p.doc.commit and (" at " .. p.doc.commit:sub(1, 12)) or ""),
    author = "kedge", email = "kedge@" .. safe_name(p.doc.site or "site") .. ".invalid",
    ca_file = cred("ca-file"), token_file = cred("token-file"), username = cred("username"),
    password_file = cred("password-file"), ssh_key = cred("ssh-key"),
    known_hosts = cred("known-hosts"), attempts = tonumber(d.attempts) or 5,
  }
  if not res then return nil, perr end
  return {commit = res.commit, attempts = res.attempts, unchanged = res.unchanged}
end

local function deliver_dir(dest, p)
  local base = dest.spec.dir
  local st = fs.stat(base)
  if not st or st.type ~= "dir" then
    return nil, base .. " is not there (is the stick mounted?)"
  end
  local dir = base .. "/kedge-reports"
  local ok, err = fs.mkdir(dir)
  if ok then
    dir = dir .. "/" .. safe_name(p.doc.site or "unknown")
    ok, err = fs.mkdir(dir)
  end
  if not ok then return nil, err end
  if p.junit then
    ok, err = fs.write_atomic(dir .. "/" .. p.id .. ".junit.xml", p.junit)
    if not ok then return nil, err end
  end
  ok, err = fs.write_atomic(dir .. "/" .. p.id .. ".json", p.text)
  if not ok then return nil, err end
  return {path = dir .. "/" .. p.id .. ".json"}
end

local function keep_sent(state, p)
  local from, to = outbox_dir(state), sent_dir(state)
  if not fs.mkdir(to) then remove_report(from, p) return end
  local ok = os.rename(from .. "/" .. p.entry.json, to .. "/" .. p.entry.json)
  if p.entry.junit then
    if ok then os.rename(from .. "/" .. p.entry.junit, to .. "/" .. p.entry.junit)
    else os.remove(from .. "/" .. p.entry.junit) end
  end
  if not ok then os.remove(from .. "/" .. p.entry.json) end
  -- the markers go along: `report list` shows where a report went
  for _, name in pairs(p.entry.markers) do
    if not (ok and os.rename(from .. "/" .. name, to .. "/" .. name)) then os.remove(from .. "/" .. name) end
  end
  fs.sync_dir(from)
  -- the newest KEEP_SENT stay
  local by = scan(to) or {}
  local list = {}
  for id, e in pairs(by) do if e.json then list[#list + 1] = id end end
  if #list <= M.KEEP_SENT then return end
  table.sort(list, function(a, b)
    local ta = a:match("%-(%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ)%-") or ""
    local tb = b:match("%-(%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ)%-") or ""
    if ta ~= tb then return ta < tb end
    return a < b
  end)
  for i = 1, #list - M.KEEP_SENT do
    local e = by[list[i]]
    os.remove(to .. "/" .. e.json)
    if e.junit then os.remove(to .. "/" .. e.junit) end
    for _, name in pairs(e.markers) do os.remove(to .. "/" .. name) end
  end
end

-- The destinations of a site's `report:` list, checked: a list, or nil
-- and why not (naming the entry).
local function destinations_of(list)
  if type(list) ~= "table" then error("report: destinations must be a list", 3) end
  local dests = {}
  for i, d in ipairs(list) do
    local dest, derr = destination(d)
    if not dest then return nil, string.format("report destination %d: %s", i, derr) end
    dests[#dests + 1] = dest
  end
  return dests
end

-- One delivery round: ctx = {state, dir (where the markers go), dests,
-- opts, sum, broken = {[key] = error}}. Delivers the read report p
-- ({id, entry, doc, text, junit}) to every destination its markers lack,
-- writing a marker in dir after each delivery; true when every
-- destination has it. A destination that failed once in the round is not
-- tried again: the rest wait for the next round instead of timing out too.
local function deliver_one(ctx, p)
  local complete, sum = true, ctx.sum
  for _, dest in ipairs(ctx.dests) do
    if not p.entry.markers[dest.key] then
      local res, derr
      if ctx.broken[dest.key] then
        derr = ctx.broken[dest.key]
      elseif dest.type == "webhook" then
        res, derr = deliver_webhook(dest, p, ctx.opts)
      elseif dest.type == "git-branch" then
        res, derr = deliver_git(dest, p, ctx.state, ctx.opts)
      else
        res, derr = deliver_dir(dest, p)
      end
      if res then
        local marker = p.id .. ".done-" .. dest.key
        res.destination = dest.label
        res.delivered = rfc3339(os.time())
        local ok, merr = fs.write_atomic(ctx.dir .. "/" .. marker,
          assert(json.encode(scrub(res), {sort_keys = true})) .. "\n")
        if ok then
          p.entry.markers[dest.key] = marker
          sum.delivered = sum.delivered + 1
          log.info("report delivered", {id = p.id, destination = dest.label})
        else
          -- delivered, but not recorded: it goes again next time (at
          -- least once, same id)
          log.warn("report delivered but its marker could not be written", {id = p.id, error = merr})
          complete = false
        end
      else
        derr = M.redact(tostring(derr))
        ctx.broken[dest.key] = derr
        complete = false
        sum.failed[#sum.failed + 1] = {id = p.id, destination = dest.label, error = derr}
      end
    end
  end
  if not complete then sum.pending = sum.pending + 1 end
  return complete
end

local function warn_broken(ctx, where)
  for key, derr in pairs(ctx.broken) do
    for _, dest in ipairs(ctx.dests) do
      if dest.key == key then
        log.warn("report destination failed; the reports stay " .. where,
          {destination = dest.label, error = derr, pending = ctx.sum.pending})
      end
    end
  end
end

-- Delivers every pending report in STATE/outbox to every destination that
-- has not had it yet. A report goes to STATE/reports once every destination
-- has it. opts: git = the config repo's sync options {repo, ca_file,
-- token_file, username, password_file, ssh_key, known_hosts} for
-- git-branch destinations without their own repo; timeout (webhook
-- seconds); lock_timeout (seconds to wait for another kedge using the
-- outbox). → {delivered = n, failed = {{id, destination, error}},
-- pending = n (reports still in the outbox)} or nil, err.
function M.deliver(state, destinations, opts)
  if type(state) ~= "string" then error("report.deliver(state_dir, destinations [, opts])", 2) end
  opts = opts or {}
  local dests, derr = destinations_of(destinations or {})
  if not dests then return nil, derr end
  local sum = {delivered = 0, failed = kedge.list({}), pending = 0}
  if not fs.stat(outbox_dir(state)) then return sum end
  local lock <close>, lerr = fs.lock(outbox_dir(state) .. ".lock", opts.lock_timeout or M.LOCK_TIMEOUT)
  if not lock then return nil, lerr end
  local list, err = pending(state)
  if not list then return nil, err end
  local ctx = {state = state, dir = outbox_dir(state), dests = dests, opts = opts, sum = sum, broken = {}}
  for _, p in ipairs(list) do
    if deliver_one(ctx, p) then keep_sent(state, p) end
  end
  warn_broken(ctx, "in the outbox for the next pass")
  return sum
end

-- Reads one JSON file of a folder kedge did not write itself (a stick's
-- DIR/reports/SITE/) into p (doc, text, id), checked to be a report of
-- site: true; false when it is JSON but no report at all (bootstrap's
-- bootstrap.json beside them); nil and why it is unusable. A report is
-- known by its id, whatever the file is called (a copy renamed on the
-- stick): the id names its markers, so it must be one kedge makes.
local function read_foreign(dir, site, p)
  local d, text = load_doc(dir, p.file)
  if not d then return nil, text end
  if type(d) ~= "table" or (d.kind == nil and d.id == nil) then return false end
  if d.kind ~= "report" and d.kind ~= "summary" then
    return nil, "not a kedge report: its kind is " .. tostring(d.kind) .. ", not report or summary"
  end
  if type(d.id) ~= "string" or #d.id > 200 or not d.id:match("^[%w][%w._-]*$") or d.id:find("..", 1, true) then
    return nil, "its id is not a kedge report id (letters, digits, '.', '_' and '-')"
  end
  if d.site ~= site then
    return nil, "a report of site " .. tostring(d.site) .. " in the folder of site " .. site
  end
  p.doc, p.text, p.id = d, text, d.id
  return true
end

-- Delivers the reports one site left in dir (a stick's
-- DIR/reports/SITE/: what kedge bootstrap writes, or the outbox's
-- <id>.json and <id>.junit.xml) to its destinations, each once:
-- a marker <id>.done-<destination> beside the report, as in the outbox,
-- says it went, so a second collect finds them and sends nothing (and a
-- report there under two names goes once). Nothing there is renamed or
-- removed; reports are read one at a time. state: the folder for the
-- git-branch work repos and STATE/collect.lock, held while collecting.
-- opts as deliver's. → {reports = n (distinct ids), delivered = n,
-- already = n (every destination had it before), failed = {{id,
-- destination, error}}, pending = n, bad = {{file, error}}, other =
-- {files: JSON that is no report}} or nil, err.
function M.collect(dir, site, destinations, state, opts)
  if type(dir) ~= "string" or type(site) ~= "string" or type(state) ~= "string" then
    error("report.collect(dir, site, destinations, state_dir [, opts])", 2)
  end
  opts = opts or {}
  local dests, derr = destinations_of(destinations or {})
  if not dests then return nil, derr end
  local by, err = scan(dir, true)
  if not by then return nil, err end
  local ok, merr = fs.mkdir(state)
  if not ok then return nil, merr end
  -- two collects of one stick at once would both deliver what it lacks
  local lock <close>, lerr = fs.lock(state .. "/collect.lock", opts.lock_timeout or M.LOCK_TIMEOUT)
  if not lock then return nil, lerr end
  local list = {}
  for stem, e in pairs(by) do
    if e.json then list[#list + 1] = {id = stem, file = e.json, junit_file = e.junit} end
  end
  table.sort(list, oldest_first)
  local sum = {reports = 0, delivered = 0, already = 0, failed = kedge.list({}), pending = 0,
    bad = kedge.list({}), other = kedge.list({})}
  local ctx = {state = state, dir = dir, dests = dests, opts = opts, sum = sum, broken = {}}
  local seen = {}
  for _, p in ipairs(list) do
    local file = dir .. "/" .. p.file
    local is, why = read_foreign(dir, site, p)
    if is == nil then
      sum.bad[#sum.bad + 1] = {file = file, error = M.redact(tostring(why))}
    elseif not is then
      sum.other[#sum.other + 1] = file
    elseif not seen[p.id] then
      seen[p.id] = true
      sum.reports = sum.reports + 1
      -- its markers, by its id (a marker-only entry when the file has another name)
      by[p.id] = by[p.id] or {id = p.id, markers = {}}
      p.entry = {json = p.file, junit = p.junit_file, markers = by[p.id].markers}
      local missing = false
      for _, dest in ipairs(dests) do missing = missing or not p.entry.markers[dest.key] end
      if not missing then
        sum.already = sum.already + 1
      else
        if p.junit_file then
          local junit, jerr = read_bounded(dir .. "/" .. p.junit_file)
          if not junit then
            sum.bad[#sum.bad + 1] = {file = dir .. "/" .. p.junit_file,
              error = tostring(jerr) .. " (the report goes without it)"}
          end
          p.junit = junit
        end
        deliver_one(ctx, p)
      end
    end
    p.doc, p.text, p.junit = nil, nil, nil
  end
  warn_broken(ctx, "on the stick for the next collect")
  return sum
end

-- --- reading ----------------------------------------------------------------

-- Every report kept: {{id, site, kind, started, finished, result, pending,
-- delivered = {labels}, path}}, oldest first.
function M.list(state)
  if type(state) ~= "string" then error("report.list(state_dir)", 2) end
  local out = {}
  for _, where in ipairs({{sent_dir(state), false}, {outbox_dir(state), true}}) do
    local by, err = scan(where[1])
    if not by then return nil, err end
    for id, e in pairs(by) do
      if e.json then
        local d, derr = load_doc(where[1], e.json)
        local delivered = kedge.list({})
        for _, name in pairs(e.markers) do
          local m = load_doc(where[1], name)
          delivered[#delivered + 1] = m and m.destination or name
        end
        table.sort(delivered)
        local path = where[1] .. "/" .. e.json
        if d then
          out[#out + 1] = {id = id, site = d.site, kind = d.kind, started = d.started,
            finished = d.finished, result = d.result or d.kind, pending = where[2],
            delivered = delivered, path = path,
            created_ns = math.type(d.created_ns) == "integer" and d.created_ns or 0,
            junit = e.junit and (where[1] .. "/" .. e.junit) or nil}
        else
          -- listed, not hidden: the next delivery quarantines it (outbox)
          log.warn("report list: unreadable report", {file = path, error = derr})
          out[#out + 1] = {id = id, kind = "unreadable", result = "unreadable", unreadable = derr,
            started = (stamp(id):gsub("^(%d%d%d%d)(%d%d)(%d%d)T(%d%d)(%d%d)(%d%d)Z$", "%1-%2-%3T%4:%5:%6Z")),
            pending = where[2], delivered = delivered, path = path}
        end
      end
    end
  end
  table.sort(out, function(a, b)
    if a.started ~= b.started then return tostring(a.started) < tostring(b.started) end
    local an, bn = a.created_ns or 0, b.created_ns or 0
    if an ~= bn then return an < bn end
    return a.id < b.id
  end)
  return out
end

-- One report by id, by a unique prefix of its id, or the newest when id is
-- nil or "last": the decoded report, its JSON text, and its JUnit XML (or
-- nil), or nil, err.
function M.show(state, id)
  local list, err = M.list(state)
  if not list then return nil, err end
  local hit
  if id == nil or id == "last" then
    hit = list[#list]
    if not hit then return nil, "no reports in " .. state end
  else
    for _, e in ipairs(list) do
      if e.id == id then hit = e break end
      if e.id:sub(1, #id) == id then
        if hit then return nil, "report id " .. id .. " is ambiguous: give more of it" end
        hit = e
      end
    end
    if not hit then return nil, "no report " .. id .. " in " .. state .. " (see report list)" end
  end
  if hit.unreadable then return nil, "report " .. hit.id .. " is unreadable: " .. hit.unreadable end
  local text, rerr = read_bounded(hit.path)
  if not text then return nil, rerr end
  local d, derr = json.decode(text, {name = hit.path})
  if not d then return nil, derr end
  return d, text, hit.junit and read_bounded(hit.junit) or nil
end

return M

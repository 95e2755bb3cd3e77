-- kedge.smoke: a bundle's smoke tests, run after its apply is ready.
--
--   local smoke = require "kedge.smoke"
--   assert(smoke.validate(bundle.smoke, "bundles/web/bundle.yaml"))
--   local results = smoke.run(bundle.smoke, {kube = client, bundle = "web",
--     namespace = "web", release = "web", objects = rendered,
--     allow_exec = site.exec, funcs = {}, log = log.info})
--   local xml = smoke.junit({{name = "web", results = results}})
--
-- validate(tests [, where]) → true, or nil, message listing every problem
--   ("where: smoke[2] 'name': ..."); run() checks each test the same way.
-- run(tests, ctx) → list of results {name=, kind=, status="passed"|"failed",
--   duration= (seconds), message=, output= (the last OUTPUT_BYTES bytes)}.
--   One result per declared test, except helm-test: one per test hook
--   object ("<name>: <kind>/<object name>").
-- failed(results) → the number of failed results.
-- junit(suites) → JUnit XML text; suites = list of {name=, results=}.
--
-- Results never hold secrets: token-file contents and the values of secret
-- headers are never put into a result, and are blanked out of messages and
-- output should a server echo them back.
--
-- Declared test types and their keys (YAML, as under `smoke:` in
-- bundle.yaml; every test has `name` and `type`):
--   http      url, method (GET), status (200), body (RE2 regex), headers
--             (map), secret-headers (names whose values are secret;
--             Authorization, Proxy-Authorization and Cookie always are),
--             token-file (bearer token read at run time), timeout (10),
--             retries (0), backoff (1: seconds before the first retry,
--             doubled each time, at most MAX_BACKOFF), ca-file, insecure
--   tcp       host, port, timeout (5), retries, backoff
--   exec      command (argv list, no shell), timeout (30), status (0)
--   condition apiVersion, kind, namespace (the bundle's) of the object
--             named like the test, or object {apiVersion, kind, name,
--             namespace} for any object; condition (a status condition
--             type; absent: the client's readiness, the repo's health
--             script when one covers the kind), status
--             ("True"), timeout (60)
--   helm-test timeout (300, per test object, as helm test --timeout),
--             logs (true)
--   lua       function (a name in ctx.funcs); it is called as
--             f(ctx, test) and fails by raising or returning false or
--             nil, message
local kube = require "kedge.kube"
local kos = require "kedge.os"
local http = require "kedge.http"
local proc = require "kedge.proc"
local regex = require "kedge.regex"
local json = require "kedge.json"
local log = require "kedge.log"
local limits = require "kedge.limits"

local kedge = require "kedge"
local is_null = kedge.is_null

local M = {}

M.OUTPUT_BYTES = 4096
M.MAX_RETRIES = 10
M.MAX_BACKOFF = 30 -- seconds between two attempts, at most
M.MAX_TIMEOUT = 3600
M.MAX_TESTS = 1000
M.POLL = 1 -- seconds between two reads of an object being waited for
M.LOG_LINES = 500 -- of each helm test container's log

local ALWAYS_SECRET = {authorization = true, ["proxy-authorization"] = true, cookie = true}

-- --- declarations ----------------------------------------------------------------

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = tostring(k) end
  table.sort(ks)
  return ks
end

-- key → checker(value) returning an error text or nil
local function is_string(v)
  if type(v) ~= "string" or v == "" then return "must be a non-empty string" end
end
local function is_seconds(v)
  if math.type(v) == nil or v <= 0 or v > M.MAX_TIMEOUT then
    return "must be a number of seconds above 0 and at most " .. M.MAX_TIMEOUT
  end
end
local function is_count(max)
  return function(v)
    if math.type(v) ~= "integer" or v < 0 or v > max then
      return "must be a whole number from 0 to " .. max
    end
  end
end
local function is_bool(v)
  if type(v) ~= "boolean" then return "must be true or false" end
end
local function is_status(v)
  if math.type(v) ~= "integer" or v < 100 or v > 599 then
    return "must be an HTTP status from 100 to 599"
  end
end
local function is_string_map(v)
  if type(v) ~= "table" or is_null(v) then return "must be a map of names to strings" end
  for k, x in pairs(v) do
    if type(k) ~= "string" or type(x) ~= "string" then return "must be a map of names to strings" end
    if k:find("[^%w%-_]") or x:find("[\r\n]") then
      return "has an invalid header '" .. tostring(k) .. "' (letters, digits, '-' and '_'; no line breaks)"
    end
  end
end
local function is_string_list(v)
  if type(v) ~= "table" or is_null(v) or #v == 0 then return "must be a non-empty list of strings" end
  local n = 0
  for _ in pairs(v) do n = n + 1 end
  if n ~= #v then return "must be a list, not a map" end
  for _, x in ipairs(v) do
    if type(x) ~= "string" then return "must be a list of strings" end
  end
end
local function is_regex(v)
  local e = is_string(v)
  if e then return e end
  local ok, err = regex.match(v, "")
  if ok == nil then return "is not a valid regular expression: " .. err end
end

local COMMON = {name = is_string, type = is_string}
local TYPES = {
  http = {keys = {url = is_string, method = function(v)
      if type(v) ~= "string" or not v:find("^%u+$") then return "must be an upper-case HTTP method such as GET" end
    end, status = is_status, body = is_regex, headers = is_string_map,
    ["secret-headers"] = function(v) return is_string_list(v) end, ["token-file"] = is_string,
    timeout = is_seconds, retries = is_count(M.MAX_RETRIES), backoff = is_seconds,
    ["ca-file"] = is_string, insecure = is_bool},
    required = {"url"}},
  tcp = {keys = {host = is_string, port = function(v)
      if math.type(v) ~= "integer" or v < 1 or v > 65535 then return "must be a port from 1 to 65535" end
    end, timeout = is_seconds, retries = is_count(M.MAX_RETRIES), backoff = is_seconds},
    required = {"host", "port"}},
  exec = {keys = {command = is_string_list, timeout = is_seconds, status = is_count(255)},
    required = {"command"}},
  condition = {keys = {object = function(v)
      if type(v) ~= "table" or is_null(v) then return "must be a map with apiVersion, kind, name and namespace" end
      for _, k in ipairs(sorted_keys(v)) do
        if k ~= "apiVersion" and k ~= "kind" and k ~= "name" and k ~= "namespace" then
          return "has an unknown key '" .. k .. "' (known: apiVersion, kind, name, namespace)"
        end
        if is_string(v[k]) then return k .. " " .. is_string(v[k]) end
      end
      for _, k in ipairs({"apiVersion", "kind", "name"}) do
        if v[k] == nil then return "needs " .. k end
      end
    end, condition = is_string, status = function(v)
      if v ~= "True" and v ~= "False" and v ~= "Unknown" then
        return "must be \"True\", \"False\" or \"Unknown\" (quoted in YAML)"
      end
    end, timeout = is_seconds, apiVersion = is_string, kind = is_string, namespace = is_string},
    required = {}},
  ["helm-test"] = {keys = {timeout = is_seconds, logs = is_bool}, required = {}},
  lua = {keys = {["function"] = is_string}, required = {"function"}},
}
local TYPE_NAMES = "http, tcp, exec, condition, helm-test or lua"

-- The problems of one declared test: a list of texts (empty when fine).
local function check(t)
  local errs = {}
  if type(t) ~= "table" or is_null(t) then return {"must be a map with name and type"} end
  local e = is_string(t.name)
  if e then errs[#errs + 1] = "name " .. e end
  local spec = TYPES[t.type]
  if not spec then
    errs[#errs + 1] = "type must be one of " .. TYPE_NAMES .. (t.type and ", not '" .. tostring(t.type) .. "'" or "")
    return errs
  end
  for _, k in ipairs(sorted_keys(t)) do
    local checker = spec.keys[k]
    if not checker and not COMMON[k] then
      local known = sorted_keys(spec.keys)
      errs[#errs + 1] = string.format("unknown key '%s' for type %s (known: name, type, %s)",
        k, t.type, table.concat(known, ", "))
    elseif checker then
      local ce = checker(t[k])
      if ce then errs[#errs + 1] = k .. " " .. ce end
    end
  end
  for _, k in ipairs(spec.required) do
    if t[k] == nil then errs[#errs + 1] = "type " .. t.type .. " needs " .. k end
  end
  if t.type == "http" and type(t.url) == "string" and not t.url:find("^https?://") then
    errs[#errs + 1] = "url must start with http:// or https://"
  end
  if t.type == "condition" then
    -- two forms: object {apiVersion, kind, name, namespace}, or the flat
    -- one where the test's name is the object's name
    if t.object ~= nil and (t.apiVersion ~= nil or t.kind ~= nil or t.namespace ~= nil) then
      errs[#errs + 1] = "give the object either as object {apiVersion, kind, name, namespace} or with apiVersion and kind beside the name, not both"
    elseif t.object == nil and (t.apiVersion == nil or t.kind == nil) then
      errs[#errs + 1] = "type condition needs apiVersion and kind (the object is the one named like the test), or object {apiVersion, kind, name}"
    end
  end
  return errs
end

local function label(i, t)
  local n = type(t) == "table" and type(t.name) == "string" and (" '" .. t.name .. "'") or ""
  return string.format("smoke[%d]%s", i, n)
end

function M.validate(tests, where)
  local prefix = where and (where .. ": ") or ""
  if tests == nil or is_null(tests) then return true end
  if type(tests) ~= "table" then return nil, prefix .. "smoke must be a list of tests" end
  if #tests > M.MAX_TESTS then
    return nil, prefix .. "smoke lists more than " .. M.MAX_TESTS .. " tests"
  end
  local out, names = {}, {}
  for i, t in ipairs(tests) do
    for _, e in ipairs(check(t)) do out[#out + 1] = prefix .. label(i, t) .. ": " .. e end
    if type(t) == "table" and type(t.name) == "string" then
      if names[t.name] then
        out[#out + 1] = string.format("%s%s: the name is used by smoke[%d] too; names must differ",
          prefix, label(i, t), names[t.name])
      end
      names[t.name] = names[t.name] or i
    end
  end
  if #out > 0 then return nil, table.concat(out, "\n") end
  return true
end

-- --- results ---------------------------------------------------------------------

-- The last n bytes of s, starting on a UTF-8 character boundary.
local function tail(s, n)
  if s == nil then return "" end
  s = tostring(s)
  if #s <= n then return s end
  local i = #s - n + 1
  local stop = i + 3
  while i <= stop and (s:byte(i) or 0) >= 0x80 and (s:byte(i) or 0) < 0xC0 do i = i + 1 end
  return s:sub(i)
end

-- Blanks out every secret in text.
local function redact(text, secrets)
  if type(text) ~= "string" then return text end
  for _, s in ipairs(secrets) do
    if #s >= 4 then
      local from = 1
      while true do
        local a, b = text:find(s, from, true)
        if not a then break end
        text = text:sub(1, a - 1) .. "[redacted]" .. text:sub(b + 1)
        from = a + 10
      end
    end
  end
  return text
end

-- Completes a result: duration, secrets blanked out, output cut to its
-- tail with a note saying how much was left out (dropped: bytes a kind
-- already left out before).
local function finish(res, started, secrets, dropped)
  res.duration = math.floor((kos.monotonic() - started) * 1000 + 0.5) / 1000
  res.message = redact(res.message or "", secrets)
  local out, lost = redact(res.output or "", secrets), dropped or 0
  if #out > M.OUTPUT_BYTES then
    local kept = tail(out, M.OUTPUT_BYTES - 64) -- room for the note
    lost = lost + #out - #kept
    out = kept
  end
  if lost > 0 then out = string.format("[%d earlier bytes of output left out]\n", lost) .. out end
  res.output = out
  return res
end

-- --- retries ---------------------------------------------------------------------

-- Runs attempt() up to retries+1 times with exponential backoff; returns
-- the last attempt's ok, message and output.
local function with_retries(t, attempt, say, secrets)
  local retries, wait = t.retries or 0, t.backoff or 1
  local ok, msg, out
  for n = 1, retries + 1 do
    ok, msg, out = attempt()
    if ok then return ok, msg, out end
    if n <= retries then
      say("smoke attempt failed, retrying", {test = t.name, attempt = n, wait = wait,
        why = redact(msg, secrets or {})})
      kos.sleep(math.min(wait, M.MAX_BACKOFF))
      wait = math.min(wait * 2, M.MAX_BACKOFF)
    end
  end
  if retries > 0 then msg = msg .. string.format(" (after %d attempts)", retries + 1) end
  return ok, msg, out
end

-- --- kinds -------------------------------------------------------------------------

local run_kind = {}

function run_kind.http(t, ctx, secrets)
  local headers, secret_names = {}, {}
  for k in pairs(ALWAYS_SECRET) do secret_names[k] = true end
  for _, h in ipairs(t["secret-headers"] or {}) do secret_names[h:lower()] = true end
  for k, v in pairs(t.headers or {}) do
    headers[k] = v
    if secret_names[k:lower()] then secrets[#secrets + 1] = v end
  end
  if t["token-file"] then
    local f, err = io.open(t["token-file"], "r")
    if not f then return false, "cannot read token-file: " .. err end
    local token = (f:read("a") or ""):gsub("%s+$", "")
    f:close()
    if token == "" then return false, "token-file " .. t["token-file"] .. " is empty" end
    secrets[#secrets + 1] = token
    headers.Authorization = "Bearer " .. token
  end
  local want = t.status or 200
  local method = t.method or "GET"
  return with_retries(t, function()
    local r, err = http.request{method = method, url = t.url, headers = headers,
      timeout = t.timeout or 10, attempts = 1, ca_file = t["ca-file"], insecure = t.insecure,
      max_body = limits.smoke_body_bytes}
    if not r then return false, err end
    local got = string.format("%s %s: status %d", method, t.url, r.status)
    if r.status ~= want then
      return false, got .. ", expected " .. want, r.body
    end
    if t.body then
      local m, rerr = regex.match(t.body, r.body)
      if m == nil then return false, "body check: " .. rerr, r.body end
      if not m then return false, got .. ", but the body does not match /" .. t.body .. "/", r.body end
      return true, got .. ", body matches /" .. t.body .. "/", r.body
    end
    return true, got, r.body
  end, ctx.say, secrets)
end

function run_kind.tcp(t, ctx)
  return with_retries(t, function()
    local ok, err = proc.tcp_connect(t.host, t.port, t.timeout or 5)
    if not ok then return false, err end
    return true, string.format("connected to %s:%d", t.host, t.port)
  end, ctx.say)
end

function run_kind.exec(t, ctx)
  if not ctx.allow_exec then
    return false, "exec tests are off for this site: set `exec: true` in its site file to allow them"
  end
  local r, err = proc.run{argv = t.command, timeout = t.timeout or 30}
  if not r then return false, err end
  local want = t.status or 0
  local what = table.concat(t.command, " ")
  if #what > 200 then what = what:sub(1, 200) .. "..." end
  local out, dropped = r.output, r.total - #r.output
  if r.timed_out then
    return false, string.format("%s: timed out after %gs and was killed", what, t.timeout or 30), out, dropped
  end
  if not r.exited then
    return false, string.format("%s: killed by signal %d", what, r.signal), out, dropped
  end
  if r.status ~= want then
    return false, string.format("%s: exit status %d, expected %d", what, r.status, want), out, dropped
  end
  return true, string.format("%s: exit status %d", what, r.status), out, dropped
end

-- Polls get() until judge(obj) says done (or fatal); returns ok, message
-- and the object last read.
local function wait_for(ctx, timeout, get, judge)
  local deadline = kos.monotonic() + timeout
  local last, seen = "not checked yet", nil
  while true do
    local obj, err = get()
    if obj then
      seen = obj
      local ok, why, fatal = judge(obj)
      if ok then return true, why, obj end
      last = why
      if fatal then return false, why, obj end
    else
      last = err
    end
    local left = deadline - kos.monotonic()
    if left <= 0 then return false, string.format("%s (gave up after %gs)", last, timeout), seen end
    kos.sleep(math.min(M.POLL, left))
  end
end

local function conditions_of(obj)
  local st = obj.status
  if type(st) ~= "table" or is_null(st) or type(st.conditions) ~= "table" then return {} end
  return st.conditions
end

function run_kind.condition(t, ctx)
  if not ctx.kube then return false, "no Kubernetes client: condition tests need the cluster" end
  local o = t.object or {apiVersion = t.apiVersion, kind = t.kind, name = t.name, namespace = t.namespace}
  local ns = o.namespace or ctx.namespace
  local what = string.format("%s %s/%s", o.kind, ns or "", o.name)
  local want = t.status or "True"
  local ok, msg, obj = wait_for(ctx, t.timeout or 60, function()
    local live, err = ctx.kube:get(o.apiVersion, o.kind, ns, o.name)
    if not live then return nil, what .. ": " .. err end
    return live
  end, function(live)
    if not t.condition then
      local r, why, fatal = ctx.kube:ready(live)
      return r, what .. ": " .. why, fatal
    end
    for _, c in ipairs(conditions_of(live)) do
      if c.type == t.condition then
        local detail = (c.reason and c.reason ~= "" and (" (" .. c.reason .. ")") or "")
        if c.status == want then
          return true, string.format("%s: %s is %s%s", what, t.condition, c.status, detail)
        end
        return false, string.format("%s: %s is %s%s, waiting for %s%s", what, t.condition,
          tostring(c.status), detail, want, c.message and (": " .. c.message) or "")
      end
    end
    return false, string.format("%s: no %s condition yet", what, t.condition)
  end)
  local out = obj and obj.status and not is_null(obj.status) and json.encode(obj.status) or ""
  return ok, msg, out
end

function run_kind.lua(t, ctx)
  local f = type(ctx.funcs) == "table" and ctx.funcs[t["function"]]
  if type(f) ~= "function" then
    return false, "no Lua function '" .. t["function"] .. "' in the recipe's smoke functions"
  end
  local r = table.pack(pcall(f, ctx, t))
  if not r[1] then return false, "raised: " .. tostring(r[2]) end
  if r.n >= 2 and (r[2] == false or (r[2] == nil and r[3] ~= nil)) then
    return false, r[3] ~= nil and tostring(r[3]) or "returned false"
  end
  return true, r[3] ~= nil and tostring(r[3]) or (type(r[2]) == "string" and r[2]) or "passed"
end

-- --- helm test hooks ---------------------------------------------------------------

local TEST_EVENTS = {test = true, ["test-success"] = true}

local function annotations(obj)
  local m = obj.metadata
  if type(m) ~= "table" or is_null(m) or type(m.annotations) ~= "table" or is_null(m.annotations) then
    return {}
  end
  return m.annotations
end

local function csv(s)
  local out = {}
  for part in tostring(s or ""):gmatch("[^,]+") do
    part = part:match("^%s*(.-)%s*$")
    if part ~= "" then out[#out + 1] = part end
  end
  return out
end

-- The test hook objects of a render, in Helm's order: weight, then kind
-- in install order, then name.
function M.test_hooks(objects)
  local hooks = {}
  for _, o in ipairs(objects or {}) do
    local obj = o
    if type(o) == "table" and type(o.value) == "table" and o.source ~= nil then obj = o.value end
    if type(obj) == "table" and not is_null(obj) then
      local a = annotations(obj)
      for _, e in ipairs(csv(a["helm.sh/hook"])) do
        if TEST_EVENTS[e] then
          local policies = {}
          for _, p in ipairs(csv(a["helm.sh/hook-delete-policy"])) do policies[p] = true end
          if next(policies) == nil then policies["before-hook-creation"] = true end
          hooks[#hooks + 1] = {obj = obj, weight = tonumber(a["helm.sh/hook-weight"]) or 0,
            policies = policies, name = obj.metadata.name, kind = obj.kind}
          break
        end
      end
    end
  end
  local rank = {}
  for i, k in ipairs(kube.INSTALL_ORDER) do rank[k] = i end
  table.sort(hooks, function(a, b)
    if a.weight ~= b.weight then return a.weight < b.weight end
    local ra, rb = rank[a.kind], rank[b.kind]
    if ra ~= rb then
      if not ra then return false end
      if not rb then return true end
      return ra < rb
    end
    if a.kind ~= b.kind then return a.kind < b.kind end
    return a.name < b.name
  end)
  return hooks
end

-- Deletes a hook object and waits until it is gone (as Helm does, so the
-- next create does not collide). CRDs are never deleted.
local function delete_hook(ctx, h, timeout)
  if h.kind == "CustomResourceDefinition" then return true end
  local ok, err = ctx.kube:delete(h.obj)
  if not ok then return nil, err end
  local gone, why = wait_for(ctx, timeout, function()
    local o, gerr, status = ctx.kube:get(h.obj)
    if o then return o end
    if status == 404 then return {gone = true} end
    return nil, gerr
  end, function(o)
    if o.gone then return true, "deleted" end
    return false, "still being deleted"
  end)
  if not gone then return nil, string.format("deleting %s/%s: %s", h.kind, h.name, why) end
  return true
end

local function pod_logs(ctx, h)
  local out = {}
  local spec = h.obj.spec or {}
  local ns = h.obj.metadata.namespace
  for _, c in ipairs(spec.containers or {}) do
    -- the tail is what explains a failure; the result keeps 4 KiB anyway
    local p = string.format("/api/v1/namespaces/%s/pods/%s/log?container=%s&tailLines=%d",
      ns, h.name, c.name, M.LOG_LINES)
    local st, body, resp = ctx.kube:call("GET", p)
    if st == 200 and resp then
      out[#out + 1] = string.format("--- %s/%s\n%s", h.name, c.name, resp.body)
    elseif st == 204 then
      -- what the API server answers for a pod no node has run
      out[#out + 1] = string.format("--- %s/%s: no logs (the pod has not run on a node)", h.name, c.name)
    else
      local why = not st and body
        or (type(body) == "table" and body.message)
        or ("status " .. tostring(st))
      out[#out + 1] = string.format("--- %s/%s: no logs: %s", h.name, c.name, why)
    end
  end
  return table.concat(out, "\n")
end

local function hook_done(h)
  return function(o)
    if h.kind == "Pod" then
      local phase = type(o.status) == "table" and not is_null(o.status) and o.status.phase or nil
      if phase == "Succeeded" then return true, "pod succeeded" end
      if phase == "Failed" then
        local _, why = kube.ready(o)
        return false, "pod " .. why, "failed"
      end
      return false, "pod phase " .. tostring(phase or "Pending")
    elseif h.kind == "Job" then
      local r, why, fatal = kube.ready(o)
      return r, "job " .. why, fatal
    end
    return true, "created"
  end
end

-- Runs the test hooks as `helm test` does: for each in order, delete a
-- leftover (before-hook-creation), create, wait until it succeeded; the
-- first failure stops the rest and deletes that one if hook-failed; when
-- all passed, those with hook-succeeded are deleted, last first. Logs are
-- read before any deletion. Returns a list of results.
local function run_helm_tests(t, ctx, secrets)
  local results = {}
  local function result(name, ok, msg, out, started)
    results[#results + 1] = finish({name = name, kind = "helm-test",
      status = ok and "passed" or "failed", message = msg, output = out}, started, secrets)
  end
  local started = kos.monotonic()
  if not ctx.kube then
    result(t.name, false, "no Kubernetes client: helm-test needs the cluster", "", started)
    return results
  end
  local hooks = M.test_hooks(ctx.objects)
  if #hooks == 0 then
    result(t.name, true, "the chart has no helm.sh/hook: test objects", "", started)
    return results
  end
  local timeout = t.timeout or 300
  local created = {}
  for i, h in ipairs(hooks) do
    local hstart = kos.monotonic()
    local name = string.format("%s: %s/%s", t.name, h.kind, h.name)
    h.obj = kube.copy(h.obj)
    h.obj.metadata.namespace = h.obj.metadata.namespace or ctx.namespace or ctx.kube.namespace
    local ok, msg, out = true, nil, ""
    if h.policies["before-hook-creation"] then
      local dok, derr = delete_hook(ctx, h, timeout)
      if not dok then ok, msg = false, "before-hook-creation: " .. derr end
    end
    if ok then
      local p, perr = ctx.kube:path(h.obj.apiVersion, h.kind, h.obj.metadata.namespace)
      if not p then
        ok, msg = false, perr
      else
        local st, body = ctx.kube:call("POST", p .. "?fieldManager=" .. ctx.kube.field_manager, h.obj)
        if st ~= 201 and st ~= 200 then
          local why = not st and body or (type(body) == "table" and body.message) or ("status " .. tostring(st))
          ok, msg = false, "creating it failed: " .. why
        end
      end
    end
    if ok then
      created[#created + 1] = h
      ok, msg = wait_for(ctx, timeout, function() return ctx.kube:get(h.obj) end, hook_done(h))
      if h.kind == "Pod" and t.logs ~= false then out = pod_logs(ctx, h) end
    end
    ctx.say(ok and "helm test passed" or "helm test failed", {test = name, why = msg})
    if not ok then
      if h.policies["hook-failed"] and created[#created] == h then
        local dok, derr = delete_hook(ctx, h, timeout)
        if not dok then msg = msg .. "; hook-failed deletion: " .. derr end
      end
      result(name, false, msg, out, hstart)
      for j = i + 1, #hooks do
        result(string.format("%s: %s/%s", t.name, hooks[j].kind, hooks[j].name), false,
          "not run: an earlier test failed (helm test stops at the first failure)", "", kos.monotonic())
      end
      return results
    end
    result(name, true, msg, out, hstart)
  end
  for i = #created, 1, -1 do
    local h = created[i]
    if h.policies["hook-succeeded"] then
      local dok, derr = delete_hook(ctx, h, timeout)
      if not dok then
        local r = results[i]
        r.status, r.message = "failed", r.message .. "; hook-succeeded deletion: " .. derr
      end
    end
  end
  return results
end

-- --- running -----------------------------------------------------------------------

function M.run(tests, ctx)
  assert(type(ctx) == "table", "smoke.run: ctx must be a table")
  local results = {}
  if tests == nil or is_null(tests) then return results end
  assert(type(tests) == "table", "smoke.run: tests must be a list")
  local blog = log.with({bundle = ctx.bundle})
  local say = ctx.log or blog.info
  local rctx = setmetatable({say = say}, {__index = ctx})
  for i, t in ipairs(tests) do
    local started = kos.monotonic()
    local secrets = {}
    local errs = check(t)
    local name = type(t) == "table" and type(t.name) == "string" and t.name or ("smoke[" .. i .. "]")
    local kind = type(t) == "table" and tostring(t.type) or "?"
    if #errs > 0 then
      results[#results + 1] = finish({name = name, kind = kind, status = "failed",
        message = "invalid test: " .. table.concat(errs, "; ")}, started, secrets)
    elseif t.type == "helm-test" then
      for _, r in ipairs(run_helm_tests(t, rctx, secrets)) do results[#results + 1] = r end
    else
      local ok, msg, out, dropped
      local pok, perr = pcall(function() ok, msg, out, dropped = run_kind[t.type](t, rctx, secrets) end)
      if not pok then ok, msg = false, "internal error: " .. tostring(perr) end
      local r = finish({name = name, kind = t.type, status = ok and "passed" or "failed",
        message = msg, output = out}, started, secrets, dropped)
      say(ok and "smoke test passed" or "smoke test failed",
        {test = name, kind = t.type, duration = r.duration, why = (not ok) and r.message or nil})
      results[#results + 1] = r
    end
  end
  return results
end

function M.failed(results)
  local n = 0
  for _, r in ipairs(results or {}) do
    if r.status ~= "passed" then n = n + 1 end
  end
  return n
end

-- --- JUnit XML ---------------------------------------------------------------------

-- Valid UTF-8 with every malformed byte replaced by U+FFFD, and without
-- the control characters XML 1.0 forbids.
local function clean_text(s)
  s = tostring(s or "")
  if not utf8.len(s) then
    local out, i = {}, 1
    while i <= #s do
      local ok = utf8.len(s, i, i)
      if ok then
        local j = utf8.offset(s, 2, i) or (#s + 1)
        out[#out + 1] = s:sub(i, j - 1)
        i = j
      else
        out[#out + 1] = "\u{FFFD}"
        i = i + 1
      end
    end
    s = table.concat(out)
  end
  return (s:gsub("[\0-\8\11\12\14-\31]", "\u{FFFD}"):gsub("\u{FFFE}", "\u{FFFD}"):gsub("\u{FFFF}", "\u{FFFD}"))
end

local XML_ESC = {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&apos;"}
local function xml(s)
  return (clean_text(s):gsub("[&<>\"']", XML_ESC))
end

local function seconds(d)
  return string.format("%.3f", tonumber(d) or 0)
end

function M.junit(suites)
  assert(type(suites) == "table", "smoke.junit: suites must be a list of {name=, results=}")
  local out = {'<?xml version="1.0" encoding="UTF-8"?>'}
  local all_tests, all_failed, all_time = 0, 0, 0
  local body = {}
  for _, s in ipairs(suites) do
    local results = s.results or {}
    local failed, time = M.failed(results), 0
    for _, r in ipairs(results) do time = time + (tonumber(r.duration) or 0) end
    all_tests, all_failed, all_time = all_tests + #results, all_failed + failed, all_time + time
    body[#body + 1] = string.format('  <testsuite name="%s" tests="%d" failures="%d" errors="0" skipped="0" time="%s">',
      xml(s.name), #results, failed, seconds(time))
    for _, r in ipairs(results) do
      body[#body + 1] = string.format('    <testcase name="%s" classname="%s.%s" time="%s">',
        xml(r.name), xml(s.name), xml(r.kind), seconds(r.duration))
      if r.status ~= "passed" then
        body[#body + 1] = string.format('      <failure message="%s" type="%s">%s</failure>',
          xml(r.message), xml(r.kind), xml(r.message))
      end
      if r.output and r.output ~= "" then
        body[#body + 1] = "      <system-out>" .. xml(r.output) .. "</system-out>"
      end
      body[#body + 1] = "    </testcase>"
    end
    body[#body + 1] = "  </testsuite>"
  end
  out[#out + 1] = string.format('<testsuites name="kedge smoke" tests="%d" failures="%d" errors="0" time="%s">',
    all_tests, all_failed, seconds(all_time))
  for _, l in ipairs(body) do out[#out + 1] = l end
  out[#out + 1] = "</testsuites>"
  return table.concat(out, "\n") .. "\n"
end

return M

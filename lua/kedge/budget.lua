-- kedge.budget: what the rendered workloads of a site's bundles request and
-- are limited to, summed by Kubernetes' own rules and held against the
-- site's capacity minus its reserve.
--
--   local budget = require "kedge.budget"
--   budget.quantity("1.5Gi", "memory")   --> 1610612736 (bytes)
--   budget.quantity("100m")              --> 100 (milli-units, the default)
--   budget.format(1500, "cpu")           --> "1500m"
--   local r = budget.compute(site, {{bundle = "web", objects = manifests}})
--   print(budget.table(r))               -- r.fits, r.shortfall, r.warnings ...
--
-- Units: cpu in millicores, memory, ephemeral-storage and storage in bytes,
-- pods as a count; always exact integers (Lua 5.4's 64-bit integers).
--
-- quantity(v [, dim]) → integer, or nil, err: v as resource.Quantity reads
--   it (a string, or a YAML number); dim "cpu" (and the default) gives
--   MilliValue(), any other dimension (and "nodes") Value(). Both round
--   away from zero.
-- format(n, dim) → the shortest exact Kubernetes spelling of n (in dim's
--   unit), which quantity() reads back.
-- compute(site, rendered) → result (see README "Resource budgets").
-- table(result) → printable text.
--
-- Operational problems (a bad quantity in a manifest or the site, a refused
-- container) land in result.errors; wrong argument types raise.
local kedge = require "kedge"

local M = {}

local is_null = kedge.is_null
local MAXINT = math.maxinteger
local MAXINT_DIGITS = tostring(MAXINT)

M.DIMENSIONS = {"cpu", "memory", "ephemeral-storage", "storage", "pods"}
M.UNITS = {cpu = "millicores", memory = "bytes", ["ephemeral-storage"] = "bytes",
           storage = "bytes", pods = "pods", nodes = "nodes"}
-- The dimensions a container declares; storage comes from claims, pods
-- from workload counts.
local CONTAINER_DIMS = {"cpu", "memory", "ephemeral-storage"}
-- Row keys, flat so a row encodes as one JSON object.
local REQ_KEY = {cpu = "cpu_req", memory = "memory_req",
                 ["ephemeral-storage"] = "ephemeral_storage_req",
                 storage = "storage_req", pods = "pods"}
local LIM_KEY = {cpu = "cpu_lim", memory = "memory_lim",
                 ["ephemeral-storage"] = "ephemeral_storage_lim"}
M.REQ_KEY, M.LIM_KEY = REQ_KEY, LIM_KEY

-- --- quantities -------------------------------------------------------------

-- Suffix → base, exponent (resource.Quantity's table; no case folding).
local SUFFIX = {
  [""] = {10, 0}, n = {10, -9}, u = {10, -6}, m = {10, -3}, k = {10, 3},
  M = {10, 6}, G = {10, 9}, T = {10, 12}, P = {10, 15}, E = {10, 18},
  Ki = {2, 10}, Mi = {2, 20}, Gi = {2, 30}, Ti = {2, 40}, Pi = {2, 50}, Ei = {2, 60},
}

-- Splits a quantity the way resource.Quantity's scanner does: sign,
-- integer digits (leading zeros dropped), fraction digits, suffix text.
local function scan(s)
  local n = #s
  local pos, positive = 1, true
  local c = s:sub(1, 1)
  if c == "-" then positive, pos = false, 2 elseif c == "+" then pos = 2 end
  while pos <= n and s:byte(pos) == 48 do pos = pos + 1 end
  if pos > n then return positive, "0", "", "" end
  local _, e = s:find("^%d*", pos)
  local num = s:sub(pos, e)
  pos = e + 1
  if num == "" then num = "0" end
  local denom = ""
  if pos <= n and s:byte(pos) == 46 then
    _, e = s:find("^%d*", pos + 1)
    denom = s:sub(pos + 1, e)
    pos = e + 1
  end
  local start = pos
  _, e = s:find("^[eEinumkKMGTP]*", pos)
  pos = e + 1
  if pos <= n and (s:byte(pos) == 43 or s:byte(pos) == 45) then pos = pos + 1 end
  _, e = s:find("^%d*", pos)
  if e < n then return nil end
  return positive, num, denom, s:sub(start)
end

-- Decimal digit strings without leading zeros stand in for big integers.
local function strip(d) return (d:gsub("^0+", "")) end

local function times_small(d, k)
  local out, carry = {}, 0
  for i = #d, 1, -1 do
    local v = (d:byte(i) - 48) * k + carry
    out[#out + 1] = v % 10
    carry = v // 10
  end
  while carry > 0 do out[#out + 1] = carry % 10; carry = carry // 10 end
  for i = 1, #out // 2 do out[i], out[#out + 1 - i] = out[#out + 1 - i], out[i] end
  return strip(table.concat(out))
end

local function plus_one(d)
  local i = #d
  while i >= 1 and d:byte(i) == 57 do i = i - 1 end
  if i == 0 then return "1" .. string.rep("0", #d) end
  return d:sub(1, i - 1) .. string.char(d:byte(i) + 1) .. string.rep("0", #d - i)
end

local function greater(a, b)
  if #a ~= #b then return #a > #b end
  return a > b
end

-- Splits d at 10^places: quotient digits and whether the rest is non-zero.
local function divide_pow10(d, places)
  if places <= 0 then return d .. string.rep("0", -places), false end
  if places >= #d then return "", d ~= "" end
  return d:sub(1, #d - places), d:sub(#d - places + 1):find("[1-9]") ~= nil
end

-- Go's strconv 'g' shortest form, which is what a YAML number becomes on
-- its way to the API server (YAML → JSON → Quantity.UnmarshalJSON).
local function number_text(v)
  if math.type(v) == "integer" then return tostring(v) end
  if v ~= v or v == math.huge or v == -math.huge then return nil end
  for p = 1, 17 do
    local s = string.format("%." .. p .. "g", v)
    if tonumber(s) == v then return s end
  end
  return string.format("%.17g", v)
end

-- The magnitude rounded up to nano-units (what ParseQuantity keeps), as a
-- digit string; "huge" when it is far beyond int64 anyway.
local function nano_digits(num, denom, base, exp)
  local d = strip(num .. denom)
  if d == "" then return "" end
  local e10, e2
  if base == 10 then e10, e2 = exp - #denom, 0 else e10, e2 = -#denom, exp end
  local shift = e10 + 9
  if #d + shift > 48 then return "huge" end
  for _ = 1, e2 // 10 do d = times_small(d, 1024) end
  local q, rest = divide_pow10(d, -shift)
  if q == "" then q = "0" end
  if rest then q = plus_one(q) end
  return strip(q)
end

local NANO_CAP = MAXINT_DIGITS .. "000000000"

-- Quantity.UnmarshalJSON trims what Go's unicode.IsSpace calls space from
-- the raw JSON string, before any unescaping: the ASCII controls (tab,
-- newline, ...) reach it escaped ("\n") and make the quantity invalid, so
-- only the space and the non-ASCII spaces are trimmed.
local SPACES = {" ", "\u{85}", "\u{a0}", "\u{1680}", "\u{2028}", "\u{2029}", "\u{202f}",
                "\u{205f}", "\u{3000}"}
for c = 0x2000, 0x200a do SPACES[#SPACES + 1] = utf8.char(c) end

local function trim(s)
  for _ = 1, #s do
    local before = s
    for _, sp in ipairs(SPACES) do
      if s:sub(1, #sp) == sp then s = s:sub(#sp + 1) end
      if #s >= #sp and s:sub(-#sp) == sp then s = s:sub(1, -#sp - 1) end
    end
    if s == before then break end
  end
  return s
end

local function parse(v, scale)
  local s
  if type(v) == "number" then
    s = number_text(v)
    if not s then return nil, "quantity " .. tostring(v) .. " is not a finite number" end
  elseif type(v) == "string" then
    s = trim(v)
  else
    return nil, "quantity must be a string or a number, not " .. (is_null(v) and "null" or type(v))
  end
  local function bad(why)
    return nil, string.format("invalid quantity %q: %s", tostring(v), why)
  end
  if s == "" then return bad("empty") end
  if s == "0" then return 0 end
  local positive, num, denom, suf = scan(s)
  if positive == nil then
    return bad("expected digits, an optional fraction and one of the suffixes " ..
               "n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent like e3")
  end
  local base, exp
  local entry = SUFFIX[suf]
  if entry then
    base, exp = entry[1], entry[2]
  elseif #suf > 1 and (suf:sub(1, 1) == "e" or suf:sub(1, 1) == "E")
      and suf:find("^.[+-]?%d+$") then
    exp = math.tointeger(tonumber(suf:sub(2)))
    -- Kubernetes narrows the exponent to 32 bits and wraps; kedge refuses.
    if not exp or exp > 0x7fffffff or exp < -0x80000000 then
      return bad("exponent out of range")
    end
    base = 10
  else
    return bad("unknown suffix \"" .. suf .. "\" (use n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or e<N>)")
  end
  local nano = nano_digits(num, denom, base, exp)
  if nano == "" then return 0 end
  if base == 2 and (nano == "huge" or greater(nano, NANO_CAP)) then
    nano = NANO_CAP  -- ParseQuantity caps binary-suffixed values at 2^63-1
  elseif nano == "huge" then
    return bad("too large")
  end
  local q, rest = divide_pow10(nano, 9 - scale)
  if q == "" then q = "0" end
  -- Away from zero, as int64Amount's scaling does for the usual inputs.
  if rest then q = plus_one(q) end
  q = strip(q)
  if q == "" then return 0 end
  if greater(q, MAXINT_DIGITS) then return bad("too large") end
  local n = math.tointeger(q)
  return positive and n or -n
end

local function scale_of(dim)
  if dim == nil or dim == "cpu" then return 3 end
  if M.UNITS[dim] then return 0 end
  error("budget: unknown dimension " .. tostring(dim), 3)
end

function M.quantity(v, dim)
  return parse(v, scale_of(dim))
end

local BIN = {{"Ei", 60}, {"Pi", 50}, {"Ti", 40}, {"Gi", 30}, {"Mi", 20}, {"Ki", 10}}
local DEC = {{"E", 18}, {"P", 15}, {"T", 12}, {"G", 9}, {"M", 6}, {"k", 3}}

function M.format(n, dim)
  if math.type(n) ~= "integer" then error("budget.format: integer expected, got " .. type(n), 2) end
  local scale = scale_of(dim)
  if n == 0 then return "0" end
  local sign, a = "", n
  if n < 0 then
    if n == math.mininteger then return tostring(n) .. (scale == 3 and "m" or "") end
    sign, a = "-", -n
  end
  -- cpu in whole cores or in millicores, counts as they are
  if scale == 3 then return sign .. (a % 1000 == 0 and tostring(a // 1000) or a .. "m") end
  if dim == "pods" or dim == "nodes" then return sign .. a end
  for _, b in ipairs(BIN) do
    local unit = 1 << b[2]
    if a % unit == 0 then return sign .. (a // unit) .. b[1] end
  end
  for _, d in ipairs(DEC) do
    local unit = math.tointeger(10 ^ d[2])
    if a % unit == 0 then return sign .. (a // unit) .. d[1] end
  end
  return sign .. a
end

-- --- arithmetic that refuses to wrap -----------------------------------------

local Overflow = {}

local function add(a, b)
  if b > 0 and a > MAXINT - b then error(Overflow) end
  return a + b
end

local function mul(a, k)
  if k ~= 0 and a > MAXINT // k then error(Overflow) end
  return a * k
end

-- --- pods -------------------------------------------------------------------

local function tbl(v)
  if type(v) == "table" and not is_null(v) then return v end
  return nil
end

local function field(t, ...)
  for _, k in ipairs({...}) do
    t = tbl(t)
    if not t then return nil end
    t = t[k]
  end
  if is_null(t) then return nil end
  return t
end

local function group_of(api_version)
  if type(api_version) ~= "string" then return nil end
  local g = api_version:match("^(.*)/[^/]*$")
  return g or ""
end

-- A non-negative whole count (replicas, parallelism) or nil, err.
local function count_of(v, what, default)
  if v == nil then return default end
  -- The API takes integers only: "3" is refused there, so here too.
  local n = type(v) == "number" and math.tointeger(v)
  if not n or n < 0 then
    return nil, string.format("%s must be a whole number of at least 0, not %s", what, tostring(v))
  end
  return n
end

-- Context of one computation: the site's rules plus where results go.
local Ctx = {}
Ctx.__index = Ctx

function Ctx:err(msg) self.errors[#self.errors + 1] = msg end
function Ctx:warn(msg) self.warnings[#self.warnings + 1] = msg end
function Ctx:note(msg) self.notes[#self.notes + 1] = msg end

-- Reads a resource list (requests, limits, overhead) into dim → integer;
-- only the dimensions kedge budgets, other keys (GPUs, hugepages) are left.
function Ctx:resources(list, where)
  local out = {}
  list = tbl(list)
  if not list then return out end
  for _, dim in ipairs(CONTAINER_DIMS) do
    local v = list[dim]
    if v ~= nil and not is_null(v) then
      local n, err = M.quantity(v, dim)
      if not n then
        self:err(where .. "." .. dim .. ": " .. err)
      elseif n < 0 then
        self:err(string.format("%s.%s: %s is negative", where, dim, tostring(v)))
      else
        out[dim] = n
      end
    end
  end
  return out
end

-- A container's requests and limits after the API's defaulting (a missing
-- request takes the limit), the LimitRanges of its namespace (LimitRanger
-- admission fills what is still missing) and the site's missing-requests
-- policy.
function Ctx:container(c, who, where, pod_level, ranges)
  local res = tbl(c.resources) or {}
  local req = self:resources(res.requests, where .. ".resources.requests")
  local lim = self:resources(res.limits, where .. ".resources.limits")
  local missing = {}
  for _, dim in ipairs(CONTAINER_DIMS) do
    if req[dim] == nil and lim[dim] ~= nil then req[dim] = lim[dim] end
    for _, range in ipairs(ranges) do
      if lim[dim] == nil then lim[dim] = range.default[dim] end
      if req[dim] == nil then req[dim] = range.request[dim] end
    end
    if req[dim] == nil and not pod_level[dim] then
      local default = self.defaults and self.defaults[dim]
      if default then
        req[dim] = default
      elseif dim ~= "ephemeral-storage" then
        missing[#missing + 1] = dim
      end
    end
  end
  if #missing > 0 then
    local msg = string.format("%s has no %s request", who, table.concat(missing, " or "))
    if self.mode == "refuse" then
      self:err(msg .. " (site policy missing-requests: refuse)")
    elseif self.mode ~= "count-as-zero" then
      self:warn(msg .. "; counted as 0")
    end
  end
  return req, lim
end

local function sum_into(acc, list)
  for dim, n in pairs(list) do acc[dim] = add(acc[dim] or 0, n) end
end

local function max_into(acc, list)
  for dim, n in pairs(list) do
    if acc[dim] == nil or n > acc[dim] then acc[dim] = n end
  end
end

-- Kubernetes' aggregation (component-helpers resource.PodRequests and
-- PodLimits, sidecar KEP 753): the sum of the containers plus the
-- restartable init containers (sidecars), or the largest init container
-- together with the sidecars started before it, whichever is larger.
local function aggregate(lists, inits, restartable)
  local result, sidecars, init_peak = {}, {}, {}
  for _, l in ipairs(lists) do sum_into(result, l) end
  for i, l in ipairs(inits) do
    if restartable[i] then
      sum_into(result, l)
      sum_into(sidecars, l)
      max_into(init_peak, sidecars)
    else
      local combined = {}
      sum_into(combined, l)
      sum_into(combined, sidecars)
      max_into(init_peak, combined)
    end
  end
  max_into(result, init_peak)
  return result
end

-- One pod's requests, limits and the dims where a container sets no limit.
function Ctx:pod(spec, label, ranges)
  spec = tbl(spec) or {}
  local pod_res = tbl(spec.resources) or {}
  local pod_req = self:resources(pod_res.requests, label .. " spec.resources.requests")
  local pod_lim = self:resources(pod_res.limits, label .. " spec.resources.limits")
  local pod_level = {}
  for _, dim in ipairs({"cpu", "memory"}) do
    if pod_req[dim] == nil and pod_lim[dim] ~= nil then pod_req[dim] = pod_lim[dim] end
    pod_level[dim] = pod_req[dim] ~= nil
  end
  local reqs, lims, ireqs, ilims, restartable = {}, {}, {}, {}, {}
  local unbounded = {}
  local function walk(list, key, rq, lm)
    list = tbl(list) or {}
    for i, c in ipairs(list) do
      c = tbl(c) or {}
      local name = type(c.name) == "string" and c.name or ("#" .. i)
      local kind = key == "initContainers" and "init container" or "container"
      local who = string.format("%s %s %s", label, kind, name)
      local where = string.format("%s spec.%s[%s]", label, key, name)
      local r, l = self:container(c, who, where, pod_level, ranges)
      rq[#rq + 1], lm[#lm + 1] = r, l
      if key == "initContainers" then restartable[#rq] = c.restartPolicy == "Always" end
      for _, dim in ipairs(CONTAINER_DIMS) do
        if l[dim] == nil then unbounded[dim] = true end
      end
    end
  end
  walk(spec.containers, "containers", reqs, lims)
  walk(spec.initContainers, "initContainers", ireqs, ilims)
  local req = aggregate(reqs, ireqs, restartable)
  local lim = aggregate(lims, ilims, restartable)
  for dim, n in pairs(pod_req) do if dim == "cpu" or dim == "memory" then req[dim] = n end end
  for _, dim in ipairs({"cpu", "memory"}) do
    if pod_lim[dim] then lim[dim], unbounded[dim] = pod_lim[dim], nil end
  end
  -- The RuntimeClass admission plugin copies the class's overhead into
  -- pods that name it.
  local overhead = spec.overhead
  if overhead == nil or is_null(overhead) then
    overhead = self.runtime_classes[spec.runtimeClassName] or {}
  else
    overhead = self:resources(overhead, label .. " spec.overhead")
  end
  for dim, n in pairs(overhead) do
    req[dim] = add(req[dim] or 0, n)
    if (lim[dim] or 0) ~= 0 then lim[dim] = add(lim[dim], n) end
  end
  -- Generic ephemeral volumes: one claim per pod.
  local storage = 0
  for i, vol in ipairs(tbl(spec.volumes) or {}) do
    local tmpl = field(vol, "ephemeral", "volumeClaimTemplate")
    if tmpl then
      local name = field(vol, "name") or ("#" .. i)
      storage = add(storage, self:claim(tmpl, string.format("%s volume %s", label, name)))
    end
  end
  return req, lim, unbounded, storage
end

-- The storage request of a claim (a PVC or a claim template).
function Ctx:claim(obj, label)
  local v = field(obj, "spec", "resources", "requests", "storage")
  if v == nil then return 0 end
  local n, err = M.quantity(v, "storage")
  if not n then self:err(label .. " spec.resources.requests.storage: " .. err); return 0 end
  if n < 0 then self:err(label .. " storage request is negative"); return 0 end
  return n
end

-- --- workloads --------------------------------------------------------------

local REPLICATED = {Deployment = true, ReplicaSet = true, StatefulSet = true,
                    ReplicationController = true}
local GROUPS = {
  Pod = {[""] = true}, ReplicationController = {[""] = true},
  PersistentVolumeClaim = {[""] = true},
  Deployment = {apps = true, extensions = true}, ReplicaSet = {apps = true, extensions = true},
  DaemonSet = {apps = true, extensions = true}, StatefulSet = {apps = true},
  Job = {batch = true}, CronJob = {batch = true},
  HorizontalPodAutoscaler = {autoscaling = true}, LimitRange = {[""] = true},
  RuntimeClass = {["node.k8s.io"] = true},
}

local function object_of(m)
  m = tbl(m)
  if not m then return nil end
  -- kedge.chart's render() entries carry the object under .value.
  if m.apiVersion == nil and tbl(m.value) then return m.value end
  return m
end

-- Helm hooks that only run when a release is deleted or rolled back never
-- run in a pass; install, upgrade and test hooks do, next to the workloads.
local IDLE_HOOKS = {["pre-delete"] = true, ["post-delete"] = true,
                    ["pre-rollback"] = true, ["post-rollback"] = true}

local function idle_hook(obj)
  local hook = field(obj, "metadata", "annotations", "helm.sh/hook")
  if type(hook) ~= "string" then return false end
  for event in hook:gmatch("[^,%s]+") do
    if not IDLE_HOOKS[event] then return false end
  end
  return true
end

local function kind_of(obj)
  if idle_hook(obj) then return nil end
  local kind = obj.kind
  if type(kind) ~= "string" or not GROUPS[kind] then return nil end
  if not GROUPS[kind][group_of(obj.apiVersion)] then return nil end
  return kind
end

-- Job pods running at once: parallelism (default 1), no more than
-- completions when that is set.
local function job_pods(spec, label)
  local par, err = count_of(field(spec, "parallelism"), label .. " spec.parallelism", 1)
  if not par then return nil, err end
  local comp
  comp, err = count_of(field(spec, "completions"), label .. " spec.completions", nil)
  if err then return nil, err end
  if comp and comp < par then par = comp end
  return par
end

local function new_row(bundle)
  local row = {bundle = bundle, pods = 0, storage_req = 0, workloads = kedge.list({}),
               unbounded = kedge.list({})}
  for _, dim in ipairs(CONTAINER_DIMS) do row[REQ_KEY[dim]], row[LIM_KEY[dim]] = 0, 0 end
  return row
end

function Ctx:workload(row, obj, kind, hpas)
  local meta = tbl(obj.metadata) or {}
  local name = type(meta.name) == "string" and meta.name or "?"
  local label = string.format("%s/%s/%s", row.bundle, kind, name)
  local spec = tbl(obj.spec) or {}
  if kind == "PersistentVolumeClaim" then
    local n = self:claim(obj, label)
    row.storage_req = add(row.storage_req, n)
    row.workloads[#row.workloads + 1] = {kind = kind, name = name, count = 1, storage = n}
    return
  end
  if kind == "HorizontalPodAutoscaler" or kind == "LimitRange" or kind == "RuntimeClass" then return end
  local pod_spec, count, err
  if kind == "Pod" then
    pod_spec, count = spec, 1
  elseif REPLICATED[kind] then
    pod_spec = field(spec, "template", "spec")
    count, err = count_of(field(spec, "replicas"), label .. " spec.replicas", 1)
    local hpa = hpas[kind .. "/" .. name]
    if count and hpa then
      count = math.max(count, hpa.min)
      self:note(string.format("%s is scaled by HorizontalPodAutoscaler %s: counted %d replicas, up to %s possible",
        label, hpa.name, count, tostring(hpa.max)))
    end
  elseif kind == "DaemonSet" then
    pod_spec, count = field(spec, "template", "spec"), self.nodes
  elseif kind == "Job" then
    pod_spec = field(spec, "template", "spec")
    count, err = job_pods(spec, label)
  elseif kind == "CronJob" then
    local jspec = field(spec, "jobTemplate", "spec")
    pod_spec = field(jspec, "template", "spec")
    count, err = job_pods(jspec, label .. " spec.jobTemplate")
  end
  if not count then self:err(err); return end
  local ranges = self.ranges[field(obj, "metadata", "namespace") or row.namespace] or {}
  local req, lim, unbounded, storage = self:pod(pod_spec, label, ranges)
  local w = {kind = kind, name = name, count = count, requests = {}, limits = {}}
  for _, dim in ipairs(CONTAINER_DIMS) do
    w.requests[dim], w.limits[dim] = req[dim] or 0, lim[dim] or 0
    row[REQ_KEY[dim]] = add(row[REQ_KEY[dim]], mul(req[dim] or 0, count))
    row[LIM_KEY[dim]] = add(row[LIM_KEY[dim]], mul(lim[dim] or 0, count))
    if unbounded[dim] and count > 0 then row.unbounded_set[dim] = true end
  end
  local claims = mul(storage, count)
  if kind == "StatefulSet" then
    for i, t in ipairs(tbl(spec.volumeClaimTemplates) or {}) do
      local tname = field(t, "metadata", "name") or ("#" .. i)
      claims = add(claims, mul(self:claim(t, label .. " volumeClaimTemplate " .. tname), count))
    end
  end
  w.storage = claims
  row.storage_req = add(row.storage_req, claims)
  row.pods = add(row.pods, count)
  row.workloads[#row.workloads + 1] = w
end

-- HorizontalPodAutoscalers of a bundle by target: they decide the replicas.
local function hpa_targets(objects)
  local out = {}
  for _, m in ipairs(objects) do
    local obj = object_of(m)
    if obj and kind_of(obj) == "HorizontalPodAutoscaler" then
      local ref = field(obj, "spec", "scaleTargetRef")
      if tbl(ref) and type(ref.kind) == "string" and type(ref.name) == "string" then
        out[ref.kind .. "/" .. ref.name] = {
          name = field(obj, "metadata", "name") or "?",
          min = count_of(field(obj, "spec", "minReplicas"), "", 1) or 1,
          max = count_of(field(obj, "spec", "maxReplicas"), "", nil),
        }
      end
    end
  end
  return out
end

-- --- the site ---------------------------------------------------------------

local MODES = {["count-as-zero"] = true, warn = true, refuse = true}

function Ctx:policy(site)
  local p = field(site, "policy", "missing-requests")
  self.mode = "warn"
  if p == nil then return end
  if type(p) == "string" then
    if MODES[p] then self.mode = p; return end
    self:err(string.format("site %s: policy.missing-requests is %q; use count-as-zero, warn, refuse or a map of defaults like {cpu: 100m, memory: 128Mi}",
      self.site, p))
    return
  end
  if not tbl(p) then
    self:err("site " .. self.site .. ": policy.missing-requests must be a word or a map")
    return
  end
  self.defaults = {}
  for k, v in pairs(p) do
    local ok = false
    for _, dim in ipairs(CONTAINER_DIMS) do ok = ok or k == dim end
    if not ok then
      self:err(string.format("site %s: policy.missing-requests.%s: only cpu, memory and ephemeral-storage have defaults",
        self.site, tostring(k)))
    else
      local n, err = M.quantity(v, k)
      if not n or n < 0 then
        self:err(string.format("site %s: policy.missing-requests.%s: %s", self.site, k, err or "negative"))
      else
        self.defaults[k] = n
      end
    end
  end
end

function Ctx:capacity(site)
  local cap, res = tbl(field(site, "capacity")) or {}, tbl(field(site, "reserve")) or {}
  local available, unchecked = {}, kedge.list({})
  local function read(t, key, dim, what)
    local v = t[key]
    if v == nil or is_null(v) then return nil end
    local n, err = M.quantity(v, dim)
    if not n then self:err(string.format("site %s: %s.%s: %s", self.site, what, key, err)); return false end
    if n < 0 then self:err(string.format("site %s: %s.%s is negative", self.site, what, key)); return false end
    return n
  end
  for _, part in ipairs({{"capacity", cap}, {"reserve", res}}) do
    local unknown = {}
    for key in pairs(part[2]) do
      if not M.UNITS[key] then unknown[#unknown + 1] = tostring(key) end
    end
    table.sort(unknown)
    for _, key in ipairs(unknown) do
      self:err(string.format("site %s: %s.%s is not something kedge budgets; use cpu, memory, ephemeral-storage, storage, pods or nodes",
        self.site, part[1], key))
    end
  end
  self.nodes = read(cap, "nodes", "nodes", "capacity") or 1
  for _, dim in ipairs(M.DIMENSIONS) do
    local c = read(cap, dim, dim, "capacity")
    local r = read(res, dim, dim, "reserve")
    if c == nil then
      unchecked[#unchecked + 1] = dim
    elseif c then
      available[dim] = math.max(0, c - (r or 0))
    end
  end
  return available, unchecked
end

-- The overhead of every RuntimeClass rendered, by name.
function Ctx:runtime_class_overheads(rendered)
  local out = {}
  for i, entry in ipairs(rendered) do
    for _, m in ipairs(type(entry) == "table" and type(entry.objects) == "table" and entry.objects or {}) do
      local obj = object_of(m)
      local name = obj and kind_of(obj) == "RuntimeClass" and field(obj, "metadata", "name")
      if type(name) == "string" then
        out[name] = self:resources(field(obj, "overhead", "podFixed"), string.format("%s/RuntimeClass/%s overhead.podFixed",
          tostring(entry.bundle or ("#" .. i)), name))
      end
    end
  end
  return out
end

-- The Container defaults of every LimitRange rendered, by namespace (a
-- LimitRange of one bundle applies to the pods of another in the same
-- namespace), completed as the API does: max → default limit, default
-- limit → default request, min → default request.
function Ctx:limit_ranges(rendered)
  local out = {}
  for i, entry in ipairs(rendered) do
    for _, m in ipairs(type(entry) == "table" and type(entry.objects) == "table" and entry.objects or {}) do
      local obj = object_of(m)
      if obj and kind_of(obj) == "LimitRange" then
        local ns = field(obj, "metadata", "namespace") or entry.namespace or ""
        local label = string.format("%s/LimitRange/%s", tostring(entry.bundle or ("#" .. i)),
          tostring(field(obj, "metadata", "name")))
        for j, item in ipairs(tbl(field(obj, "spec", "limits")) or {}) do
          if field(item, "type") == "Container" then
            local at = string.format("%s spec.limits[%d]", label, j)
            local default = self:resources(field(item, "default"), at .. ".default")
            local request = self:resources(field(item, "defaultRequest"), at .. ".defaultRequest")
            local max = self:resources(field(item, "max"), at .. ".max")
            local min = self:resources(field(item, "min"), at .. ".min")
            for _, dim in ipairs(CONTAINER_DIMS) do
              default[dim] = default[dim] or max[dim]
              request[dim] = request[dim] or default[dim] or min[dim]
            end
            out[ns] = out[ns] or {}
            table.insert(out[ns], {default = default, request = request})
          end
        end
      end
    end
  end
  return out
end

function M.compute(site, rendered)
  if type(site) ~= "table" then error("budget.compute: site must be a table", 2) end
  if type(rendered) ~= "table" then error("budget.compute: rendered must be a list", 2) end
  local ctx = setmetatable({errors = kedge.list({}), warnings = kedge.list({}),
                            notes = kedge.list({}),
                            site = type(site.name) == "string" and site.name or "?"}, Ctx)
  ctx:policy(site)
  local available, unchecked = ctx:capacity(site)
  ctx.ranges = ctx:limit_ranges(rendered)
  ctx.runtime_classes = ctx:runtime_class_overheads(rendered)
  local rows, total = kedge.list({}), new_row(nil)
  total.workloads, total.unbounded = nil, kedge.list({})
  local total_unbounded = {}
  for i, entry in ipairs(rendered) do
    if type(entry) ~= "table" or type(entry.objects) ~= "table" then
      error(string.format("budget.compute: rendered[%d] must be {bundle = name, objects = list}", i), 2)
    end
    local row = new_row(tostring(entry.bundle or ("#" .. i)))
    row.namespace = entry.namespace or ""
    row.unbounded_set = {}
    local hpas = hpa_targets(entry.objects)
    for _, m in ipairs(entry.objects) do
      local obj = object_of(m)
      local kind = obj and kind_of(obj)
      if kind then
        local ok, e = pcall(ctx.workload, ctx, row, obj, kind, hpas)
        if not ok then
          if e ~= Overflow then error(e, 0) end
          ctx:err(string.format("%s/%s/%s: the amounts overflow 64-bit integers", row.bundle, kind,
            tostring(field(obj, "metadata", "name"))))
        end
      end
    end
    for _, dim in ipairs(CONTAINER_DIMS) do
      if row.unbounded_set[dim] then
        row.unbounded[#row.unbounded + 1] = dim
        total_unbounded[dim] = true
      end
    end
    row.unbounded_set, row.namespace = nil, nil
    rows[#rows + 1] = row
    local ok = pcall(function()
      for k, v in pairs(row) do
        if math.type(v) == "integer" then total[k] = add(total[k], v) end
      end
    end)
    if not ok then ctx:err("the totals overflow 64-bit integers") end
  end
  for _, dim in ipairs(CONTAINER_DIMS) do
    if total_unbounded[dim] then total.unbounded[#total.unbounded + 1] = dim end
  end
  local shortfall = {}
  for _, dim in ipairs(M.DIMENSIONS) do
    local have, need = available[dim], total[REQ_KEY[dim]]
    if have and need > have then shortfall[dim] = need - have end
  end
  return {
    site = ctx.site,
    fits = next(shortfall) == nil and #ctx.errors == 0,
    rows = rows,
    total = total,
    available = available,
    shortfall = shortfall,
    unchecked = unchecked,
    nodes = ctx.nodes,
    policy = ctx.defaults and "defaults" or ctx.mode,
    units = M.UNITS,
    warnings = ctx.warnings,
    notes = ctx.notes,
    errors = ctx.errors,
  }
end

-- --- the table --------------------------------------------------------------

local COLUMNS = {
  {"cpu req", "cpu_req", "cpu"}, {"cpu lim", "cpu_lim", "cpu"},
  {"mem req", "memory_req", "memory"}, {"mem lim", "memory_lim", "memory"},
  {"eph req", "ephemeral_storage_req", "ephemeral-storage"},
  {"eph lim", "ephemeral_storage_lim", "ephemeral-storage"},
  {"storage", "storage_req", "storage"}, {"pods", "pods", "pods"},
}
local LIMIT_COL = {cpu_lim = "cpu", memory_lim = "memory", ephemeral_storage_lim = "ephemeral-storage"}

local function contains(list, v)
  for _, x in ipairs(list or {}) do if x == v then return true end end
  return false
end

function M.table(r)
  if type(r) ~= "table" or type(r.rows) ~= "table" then
    error("budget.table: a result of budget.compute expected", 2)
  end
  local lines = {}
  local function cells(label, get)
    local out = {label}
    for _, col in ipairs(COLUMNS) do out[#out + 1] = get(col) end
    return out
  end
  local function amounts(row)
    return function(col)
      local v = row[col[2]]
      if v == nil then return "" end
      local s = M.format(v, col[3])
      if LIMIT_COL[col[2]] and contains(row.unbounded, LIMIT_COL[col[2]]) then s = s .. "+" end
      return s
    end
  end
  local body = {cells("bundle", function(col) return col[1] end)}
  for _, row in ipairs(r.rows) do body[#body + 1] = cells(row.bundle, amounts(row)) end
  local sep = #body + 1
  body[#body + 1] = cells("total", amounts(r.total))
  local unchecked = {}
  for _, d in ipairs(r.unchecked or {}) do unchecked[d] = true end
  body[#body + 1] = cells("available", function(col)
    if LIMIT_COL[col[2]] then return "" end
    if unchecked[col[3]] then return "unchecked" end
    local v = r.available[col[3]]
    return v and M.format(v, col[3]) or "?"
  end)
  body[#body + 1] = cells("shortfall", function(col)
    if LIMIT_COL[col[2]] then return "" end
    if unchecked[col[3]] then return "-" end
    local v = r.shortfall[col[3]]
    return v and ("!" .. M.format(v, col[3])) or "ok"
  end)
  local width = {}
  for _, line in ipairs(body) do
    for i, c in ipairs(line) do width[i] = math.max(width[i] or 0, #c) end
  end
  local function render(line)
    local out = {string.format("%-" .. width[1] .. "s", line[1])}
    for i = 2, #line do out[#out + 1] = string.format("%" .. width[i] .. "s", line[i]) end
    return (table.concat(out, "  "):gsub("%s+$", ""))
  end
  for i, line in ipairs(body) do
    if i == sep then
      local total = 0
      for _, w in ipairs(width) do total = total + w + 2 end
      lines[#lines + 1] = string.rep("-", total - 2)
    end
    lines[#lines + 1] = render(line)
  end
  lines[#lines + 1] = ""
  lines[#lines + 1] = "cpu in cores or millicores (m), memory and storage in bytes (Ki Mi Gi ... = 1024^n, k M G = 1000^n)"
  if #(r.total.unbounded or {}) > 0 then
    lines[#lines + 1] = "+ some containers set no limit there: the limit shown is what the others declare"
  end
  if #(r.unchecked or {}) > 0 then
    lines[#lines + 1] = "unchecked: the site declares no capacity for " .. table.concat(r.unchecked, ", ")
  end
  if r.fits then
    lines[#lines + 1] = "FITS: the requests fit the site's capacity minus its reserve"
  else
    local short = {}
    for _, dim in ipairs(M.DIMENSIONS) do
      if r.shortfall[dim] then
        short[#short + 1] = string.format("%s short by %s", dim, M.format(r.shortfall[dim], dim))
      end
    end
    if #r.errors > 0 then short[#short + 1] = #r.errors .. " error(s)" end
    lines[#lines + 1] = "DOES NOT FIT: " .. table.concat(short, "; ")
  end
  for _, e in ipairs(r.errors) do lines[#lines + 1] = "error: " .. e end
  for _, w in ipairs(r.warnings) do lines[#lines + 1] = "warning: " .. w end
  for _, n in ipairs(r.notes or {}) do lines[#lines + 1] = "note: " .. n end
  return table.concat(lines, "\n") .. "\n"
end

return M

-- kedge.health: Argo CD's resource health scripts (health.lua), run as-is.
--
-- A scripts folder holds <group>/<Kind>/health.lua (just <Kind>/ for the
-- core group), as Argo CD's resource_customizations/ does; an "_" in a
-- folder name is a wildcard for any text without "/" (_.crossplane.io/_).
-- The script is picked by the object's own apiVersion and kind: the exact
-- folder first, else the first wildcard folder in sorted order that
-- matches.
--
-- A script runs in a fresh kedge.sandbox environment per object, with the
-- global `obj` (the object as Argo CD's Go engine sees it: nulls dropped,
-- whole numbers as integers so they print "3", not "3.0"), `actionParams`
-- = {}, the Lua 5.1 pieces the scripts use (table.getn, unpack) and only
-- os.time / os.date of os. It returns {status =, message =}; limits:
-- M.LIMITS (instructions, heap, 1 second as in Argo CD).
--
--   health.find(dir, obj)          -> path of the script for obj, or nil
--   health.run(code, obj [, name [, limits]])
--                                  -> {status =, message =}, or
--                                     {status = "Unknown", message = err, error = true}
--   health.check(dir, obj [, limits])
--                                  -> result of run plus script = path,
--                                     or nil when no script fits obj
--   health.key(obj)                -> "<group>/<Kind>" or "<Kind>"
--   health.convert(v)              -> the Lua value a script sees as obj
--   health.STATUSES                -> {"Healthy", ...} and STATUSES.Healthy = true
--   health.open(tree [, folder])   -> scripts (a pass's tree: a kedge.git repo
--                                     or site.dir_tree; folder default
--                                     "health"), or nil, err, "missing"
--   scripts:check(obj)             -> as check, from the tree; nil when no
--                                     script fits or it gave no health ("")
--   health.recorder(holder)        -> function(obj, res, bundle) for
--                                     kube.connect{on_health=}: keeps the
--                                     newest result per object in
--                                     holder(bundle).health (see there)
--   health.ready(res)              -> ready, why, "failed": the readiness a
--                                     result means (see M.ready)
--
-- A script returning nil, nothing, or an empty table gives status "" and
-- message "" (Argo CD's "no health"); a status outside STATUSES gives
-- Unknown "Lua returned an invalid health status"; an error, a stop at a
-- limit, a non-table result or a non-string status/message give Unknown
-- with the error, and error = true.
local sandbox = require "kedge.sandbox"
local kos = require "kedge.os"
local limits = require "kedge.limits"
local core = require "kedge.core"

local M = {}

M.STATUSES = {"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}
for _, s in ipairs(M.STATUSES) do M.STATUSES[s] = true end

M.LIMITS = {instructions = limits.health_instructions, memory = limits.health_heap,
  timeout = limits.health_seconds}

M.INVALID = "Lua returned an invalid health status"

-- ---- the object as gopher-lua holds it ----

-- Argo CD decodes objects into Go maps (float64 numbers, nulls kept as
-- nil, so a field set to null is absent). gopher-lua prints an integral
-- float64 as "3"; Lua 5.4 does that for integers only, so whole numbers
-- become integers (comparisons and arithmetic are the same either way).
local function convert(v)
  local t = type(v)
  if t == "number" then
    return math.tointeger(v) or v
  elseif t == "table" then
    local out = {}
    for k, x in pairs(v) do
      if not core.is_null(x) then out[convert(k)] = convert(x) end
    end
    return out
  elseif core.is_null(v) then
    return nil
  end
  return v
end
M.convert = convert

-- ---- which script ----

function M.key(obj)
  local api = type(obj) == "table" and obj.apiVersion or nil
  local kind = type(obj) == "table" and obj.kind or nil
  if type(kind) ~= "string" or kind == "" then return nil end
  local group = type(api) == "string" and api:match("^(.*)/") or ""
  if group == "" then return kind end
  return group .. "/" .. kind
end

-- A folder's name with "_" as the wildcard, as a Lua pattern.
local function glob_pattern(name)
  return "^" .. name:gsub("[%^%$%(%)%%%.%[%]%*%+%-%?]", "%%%0"):gsub("_", "[^/]*") .. "$"
end

-- The wildcard folders of dir (group/Kind, one of them holding an "_"),
-- sorted, each with its pattern; read once per dir.
local wildcards = {}

local function wildcard_list(dir)
  if wildcards[dir] then return wildcards[dir] end
  local list = {}
  for _, g in ipairs(kos.read_dir(dir) or {}) do
    for _, k in ipairs(kos.read_dir(dir .. "/" .. g) or {}) do
      local rel = g .. "/" .. k
      if rel:find("_", 1, true) then list[#list + 1] = {rel = rel, pattern = glob_pattern(rel)} end
    end
  end
  -- read_dir sorts each folder; sorting the joined paths is Argo's order
  table.sort(list, function(a, b) return a.rel < b.rel end)
  wildcards[dir] = list
  return list
end

local function is_file(path)
  local st = kos.stat(path)
  return st and st.type == "file"
end

function M.find(dir, obj)
  local key = M.key(obj)
  if not key then return nil end
  local exact = dir .. "/" .. key .. "/health.lua"
  if not key:find("_", 1, true) and is_file(exact) then return exact end
  for _, w in ipairs(wildcard_list(dir)) do
    local path = dir .. "/" .. w.rel .. "/health.lua"
    if key:match(w.pattern) and is_file(path) then return path end
  end
  return nil
end

-- ---- the environment ----

-- Days from 1970-01-01 to a proleptic Gregorian date; month may be out of
-- 1..12 and day out of range (they carry over, as Go's time.Date does).
local function days_from_civil(y, m, d)
  y = y + (m - 1) // 12
  m = (m - 1) % 12 + 1
  if m <= 2 then y = y - 1 end
  local era = y // 400
  local yoe = y - era * 400
  local doy = (153 * (m + (m > 2 and -3 or 9)) + 2) // 5 + d - 1
  local doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
  return era * 146097 + doe - 719468
end

-- Argo CD's safe os.time: the current time, or a date from a table whose
-- number fields count and whose other fields take defaults (sec 0, min 0,
-- hour 12, day, month and year -1), in UTC.
local function safe_time(t)
  if t == nil then return os.time() end
  if type(t) ~= "table" then error("bad argument #1 to 'time' (table expected)", 2) end
  local function field(k, default)
    local v = rawget(t, k)
    return math.type(v) and math.floor(v) or default
  end
  local days = days_from_civil(field("year", -1), field("month", -1), field("day", -1))
  return days * 86400 + field("hour", 12) * 3600 + field("min", 0) * 60 + field("sec", 0)
end

local function getn(t)
  if type(t) ~= "table" then error("bad argument #1 to 'getn' (table expected)", 2) end
  return #t
end

-- tostring as gopher-lua's: a number prints as Go's fmt.Sprint of its
-- float64 ("2" for 10/5, the shortest text that reads back otherwise).
-- Only tostring: Lua 5.4's own `..` still writes a float result of
-- arithmetic such as 10/5 as "2.0" (numbers from obj are integers).
local function go_tostring(v)
  if math.type(v) == "float" then
    local i = math.tointeger(v)
    if i then return string.format("%d", i) end
    if v ~= v then return "NaN" end
    if v == math.huge or v == -math.huge then return v > 0 and "+Inf" or "-Inf" end
    for digits = 15, 17 do
      local s = string.format("%." .. digits .. "g", v)
      if tonumber(s) == v or digits == 17 then return s end
    end
  end
  return tostring(v)
end

local function prepare(env, obj)
  env.obj = obj
  env.actionParams = {}
  env.tostring = go_tostring
  env.unpack = table.unpack
  env.table.getn = getn
  env.os = setmetatable({time = safe_time, date = os.date}, {__index = sandbox.absent})
end

-- ---- the result ----

-- What ExecuteHealthLua makes of the chunk's last return value.
local function interpret(v)
  if v == nil or (type(v) == "table" and next(v) == nil) then
    return {status = "", message = ""}
  end
  if type(v) ~= "table" then
    return nil, "expect table output from Lua script, not " .. type(v)
  end
  local status, message = rawget(v, "status"), rawget(v, "message")
  if status ~= nil and type(status) ~= "string" then
    return nil, "health status must be a string, not " .. type(status)
  end
  if message ~= nil and type(message) ~= "string" then
    return nil, "health message must be a string, not " .. type(message)
  end
  if not M.STATUSES[status or ""] then return {status = "Unknown", message = M.INVALID} end
  return {status = status, message = message or ""}
end

local function unknown(err)
  err = tostring(err):gsub("\nstack traceback:.*$", "")
  return {status = "Unknown", message = err, error = true}
end

function M.run(code, obj, name, lim)
  local fn, env = sandbox.load(code, name or "=health.lua")
  if not fn then return unknown(env) end
  prepare(env, convert(obj))
  local res = table.pack(sandbox.call(fn, lim or M.LIMITS))
  if not res[1] then return unknown(res[2]) end
  local out, err = interpret(res.n > 1 and res[res.n] or nil)
  if not out then return unknown(err) end
  return out
end

-- The scripts' text, read once per path.
local texts = {}

function M.check(dir, obj, lim)
  local path = M.find(dir, obj)
  if not path then return nil end
  local code, err = texts[path], nil
  if not code then
    code, err = kos.read_file(path)
    if not code then return {status = "Unknown", message = err, error = true, script = path} end
    texts[path] = code
  end
  local out = M.run(code, obj, "@" .. path, lim)
  out.script = path
  return out
end

-- ---- scripts in a pass's tree ----

local Scripts = {}
Scripts.__index = Scripts

local function entries(tree, dir)
  local out = {}
  for _, e in ipairs(tree:list(dir) or {}) do
    if type(e) == "table" then out[e.name] = e.type else out[e] = "file" end
  end
  return out
end

-- Indexes folder/<group>/<Kind>/health.lua (folder/<Kind>/ for the core
-- group) once, so a wait asks the tree only for the scripts it runs.
function M.open(tree, folder)
  folder = folder or "health"
  local top, name = folder:match("^(.-)/?([^/]+)$")
  if entries(tree, top)[name] ~= "dir" then return nil, folder .. ": no such folder", "missing" end
  local self = setmetatable({tree = tree, exact = {}, wild = {}, codes = {}}, Scripts)
  local keys = {}
  for g, gt in pairs(entries(tree, folder)) do
    if gt == "dir" then
      local kinds = entries(tree, folder .. "/" .. g)
      if kinds["health.lua"] == "file" then keys[#keys + 1] = g end
      for k, kt in pairs(kinds) do
        if kt == "dir" and entries(tree, folder .. "/" .. g .. "/" .. k)["health.lua"] == "file" then
          keys[#keys + 1] = g .. "/" .. k
        end
      end
    end
  end
  table.sort(keys)
  for _, key in ipairs(keys) do
    local path = folder .. "/" .. key .. "/health.lua"
    self.exact[key] = path
    if key:find("_", 1, true) then self.wild[#self.wild + 1] = {pattern = glob_pattern(key), path = path} end
  end
  self.count = #keys
  return self
end

function Scripts:find(obj)
  local key = M.key(obj)
  if not key then return nil end
  if not key:find("_", 1, true) and self.exact[key] then return self.exact[key] end
  for _, w in ipairs(self.wild) do
    if key:match(w.pattern) then return w.path end
  end
  return nil
end

function Scripts:check(obj, lim)
  local path = self:find(obj)
  if not path then return nil end
  local code = self.codes[path]
  if not code then
    local text, err = self.tree:read(path)
    if not text then return {status = "Unknown", message = tostring(err), error = true, script = path} end
    code, self.codes[path] = text, text
  end
  local out = M.run(code, obj, "@" .. path, lim)
  -- "no health" from the script: kedge's own rules decide
  if out.status == "" then return nil end
  out.script = path
  return out
end

-- What a wait's scripts said, for the report: holder(bundle) gives the
-- table (a bundle's result) whose .health lists {apiVersion, kind,
-- namespace, name, status, message, script}, the newest per object, or nil
-- for an object of no bundle the caller knows.
function M.recorder(holder)
  local seen = {}
  return function(obj, res, bundle)
    local h = bundle and holder(bundle)
    if not h then return end
    local m = type(obj.metadata) == "table" and obj.metadata or {}
    local key = table.concat({bundle, tostring(obj.apiVersion), tostring(obj.kind),
      tostring(m.namespace or ""), tostring(m.name)}, "\0")
    local e = seen[key]
    if not e then
      e = {apiVersion = obj.apiVersion, kind = obj.kind, namespace = m.namespace, name = m.name}
      h.health = h.health or {}
      h.health[#h.health + 1] = e
      seen[key] = e
    end
    e.status, e.message, e.script = res.status, res.message, res.script
  end
end

-- Healthy is ready; Suspended is ready too (the caller reports it);
-- Degraded is a failure waiting cannot mend; Progressing, Missing and
-- Unknown (a script that failed) are not ready until the wait times out.
function M.ready(res)
  local why = res.status .. (res.message ~= "" and (": " .. res.message) or "")
  if res.status == "Healthy" or res.status == "Suspended" then return true, why end
  if res.status == "Degraded" then return false, why, "failed" end
  return false, why
end

return M

-- kedge.health: the gopher-lua dialect Argo CD's health scripts rely on,
-- the script lookup, what odd results become, and bad scripts stopped.
local t = dofile("tests/tap.lua")
local health = require "kedge.health"
local yaml = require "kedge.yaml"
local kos = require "kedge.os"
local sandbox = require "kedge.sandbox"

local function run(code, obj, lim)
  return health.run(code, obj or {}, "=test", lim)
end

local function msg(code, obj)
  return run("return {status = 'Healthy', message = " .. code .. "}", obj).message
end

-- ---- numbers as gopher-lua prints them ----

local obj = yaml.decode("status: {ready: 3, size: 3.0, ratio: 3.5, big: 1e3, n: null, l: [1, 2]}")
t.is(msg("obj.status.ready .. '/' .. obj.status.size", obj), "3/3", "whole numbers concatenate as 3, 3.0 too")
t.is(msg("tostring(obj.status.ratio)", obj), "3.5", "3.5 stays 3.5")
t.is(msg("tostring(obj.status.big)", obj), "1000", "1e3 is 1000")
t.is(msg("string.format('%d/%d', obj.status.ready, obj.status.size)", obj), "3/3", "%d takes them")
t.is(msg("tostring(10 / 5) .. ' ' .. tostring(1 / 3) .. ' ' .. tostring(0.1 + 0.2)"),
  "2 0.3333333333333333 0.30000000000000004", "tostring of floats as Go's fmt.Sprint")
t.is(msg("tostring(1/0) .. tostring(-1/0)"), "+Inf-Inf", "infinities as Go spells them")
t.is(msg("tostring(obj.status.n == nil) .. tostring(obj.status.size == 3)", obj), "truetrue",
  "null fields are absent; 3.0 equals 3")
t.is(msg("tostring(table.getn(obj.status.l)) .. tostring(#obj.status.l)", obj), "22", "table.getn is #")
local t2 = health.convert({[1.0] = "a", x = 2.0})
t.ok(t2[1] == "a" and math.type(t2.x) == "integer", "whole-number keys and values become integers")

-- ---- the dialect ----

t.is(msg([[(function()
  local out = {}
  for i = 1, 3 do
    if i == 2 then goto continue end
    out[#out + 1] = i
    ::continue::
  end
  return table.concat(out, ",")
end)()]]), "1,3", "goto continue")
t.ok(not run("return {status = 'Healthy', message = tostring(os.time({year = 'x'}))}").error,
  "safe os.time takes string fields")
t.is(msg("tostring(os.time({year = 1970, month = 1, day = 2, hour = 0}))"), "86400",
  "os.time of a table counts in UTC")
t.is(msg("tostring(os.time({year = 2024, month = 14, day = 1, hour = 0}))"), "1738368000",
  "months past 12 carry over (2025-02-01)")
t.is(msg("type(os.date('%Y'))"), "string", "os.date is there")
t.is(msg("type(actionParams)"), "table", "actionParams is an empty table")

-- ---- results ----

t.same(run("return nil"), {status = "", message = ""}, "nil is no health")
t.same(run(""), {status = "", message = ""}, "no return value is no health")
t.same(run("return {}"), {status = "", message = ""}, "an empty table is no health")
t.same(run("return {status = 'Fine'}"), {status = "Unknown", message = health.INVALID},
  "an unknown status is invalid")
t.same(run("return {message = 'x'}"), {status = "Unknown", message = health.INVALID},
  "no status is invalid")
t.same(run("return {status = 'Degraded', message = 'a', extra = 1}"),
  {status = "Degraded", message = "a"}, "extra fields are ignored")
t.same(run("return 1, {status = 'Healthy'}"), {status = "Healthy", message = ""},
  "the last return value counts")
local r = run("return 'Healthy'")
t.ok(r.error and r.status == "Unknown", "a string result is an error")
t.is(r.message, "expect table output from Lua script, not string", "saying what it got")
r = run("return {status = 1}")
t.ok(r.error and r.message:find("string"), "a non-string status is an error")
r = run("return {status = 'Healthy', message = {}}")
t.ok(r.error and r.message:find("string"), "a non-string message is an error")

-- ---- bad scripts ----

r = run("local x = nil; return {status = x.y}")
t.ok(r.error and r.status == "Unknown", "a runtime error gives Unknown")
t.like(r.message, "attempt to index", "with the error")
t.ok(not r.message:find("stack traceback", 1, true), "without the traceback")
r = run("return {status = ")
t.ok(r.error and r.message:find("test"), "a syntax error gives Unknown with the error")
local started = kos.monotonic()
r = run("while true do end")
t.ok(r.error and r.message:find("instruction limit"), "an endless loop stops at the instruction limit")
t.ok(kos.monotonic() - started < 2, "fast")
started = kos.monotonic()
r = run("while true do end", nil, {instructions = 1e12, memory = 1 << 20, timeout = 0.2})
t.ok(r.error and r.message:find("deadline"), "or at the deadline")
t.ok(kos.monotonic() - started < 1, "which is kept")
r = run("local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(4096) .. i end", nil,
  {instructions = 1e9, memory = 16 << 20, timeout = 60})
t.ok(r.error and r.message:find("memory limit"), "a huge table stops at the memory limit")
r = run("local ok = pcall(function() while true do end end) return {status = 'Healthy'}")
t.ok(r.error, "a script cannot catch its own stop")

for _, name in ipairs({"io", "require", "load", "loadstring", "dofile", "loadfile", "debug",
    "package", "string.dump", "os.execute", "os.getenv", "os.exit", "os.remove", "collectgarbage"}) do
  t.is(msg("tostring(" .. name .. ")"), "nil", name .. " is out of reach")
end
t.is(msg("tostring(('').dump)"), "nil", "(''):dump is out of reach")
t.ok(string.dump, "the host keeps string.dump")
local bytecode = string.dump(function() return {status = "Healthy"} end)
r = run(bytecode)
t.ok(r.error and r.message:find("binary"), "bytecode is refused")
run("obj.x = 1; string.upper = nil; os.time = nil; table.getn = nil; tostring = nil")
t.ok(string.upper and os.time and tostring, "a script cannot change the host's libraries")
t.is(msg("tostring(table.getn({1}))"), "1", "nor the next run's")
t.ok(not sandbox.x, "nothing leaks into the host's modules")

-- ---- the script lookup ----

t.is(health.key({apiVersion = "apps/v1", kind = "Deployment"}), "apps/Deployment", "key of a group")
t.is(health.key({apiVersion = "v1", kind = "Pod"}), "Pod", "key of the core group")
t.is(health.key({apiVersion = "v1"}), nil, "no kind, no key")

local dir = os.tmpname()
os.remove(dir)
local function put(rel, code)
  assert(kos.mkdir(dir .. "/" .. rel:match("^(.*)/")))
  assert(kos.write_atomic(dir .. "/" .. rel, code, 420))
end
put("pkg.crossplane.io/Provider/health.lua", "return {status = 'Degraded', message = 'exact'}")
put("_.crossplane.io/_/health.lua", "return {status = 'Progressing', message = 'wild ' .. obj.kind}")
put("a_b.io/_/health.lua", "return {status = 'Healthy', message = 'underscore'}")
put("Pod/health.lua", "return {status = 'Healthy', message = 'core ' .. obj.metadata.name}")

local function check(api, kind, name)
  local res = health.check(dir, {apiVersion = api, kind = kind, metadata = {name = name or "x"}})
  return res and res.message
end
t.is(check("pkg.crossplane.io/v1", "Provider"), "exact", "an exact folder comes first")
t.is(check("pkg.crossplane.io/v1", "Configuration"), "wild Configuration", "then a wildcard")
t.is(check("aws.crossplane.io/v1", "Bucket"), "wild Bucket", "_ matches any group prefix")
t.is(check("crossplane.io/v1", "Bucket"), nil, "but the dot is literal")
t.is(check("aXb.io/v1", "Bucket"), "underscore", "an _ inside a name is a wildcard too")
t.is(check("a.b/c.crossplane.io/v1", "Bucket"), nil, "a wildcard does not cross /")
t.is(check("v1", "Pod", "p"), "core p", "the core group's folder is just the kind")
t.is(check("v1", "Service"), nil, "no script, nil")
local res = health.check(dir, {apiVersion = "v1", kind = "Pod", metadata = {name = "q"}})
t.is(res.script, dir .. "/Pod/health.lua", "check says which script ran")
os.execute("rm -rf '" .. dir .. "'")

t.done()

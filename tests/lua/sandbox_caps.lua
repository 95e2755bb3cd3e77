-- issue 21, finding 2: a recipe's caps hold in host code too. What a run
-- hands the host crosses as plain data (no __tostring, __pairs, __index of
-- the recipe's runs there), messages become strings under the caps, __gc
-- is refused, and a run cannot rewire the metatables of kedge's tables.
-- (The watchdog ends the process, so tests/e2e/t0348-recipe-caps.sh
-- tests it from outside.)
local t = dofile("tests/tap.lua")
local sandbox = require "kedge.sandbox"
local json = require "kedge.json"
local pass = require "kedge.pass"

local limits = {instructions = 2000000, memory = 4 << 20, timeout = 5}

local function run(code, globals, lim)
  local fn = assert(sandbox.load(code, "=recipe", globals))
  return sandbox.call(fn, lim or limits)
end

-- what a host function got, to look at from outside
local got
local keep = sandbox.host(function(...) got = table.pack(...) return true end)
local text = sandbox.host(function(msg) got = msg return true end, 1)

-- __tostring of a message: recipe code, so capped
local t0 = os.clock()
local ok, msg, kind = run([[text(setmetatable({}, {__tostring = function() while true do end end}))]],
  {text = text})
t.ok(not ok, "a message whose __tostring loops: the run fails")
t.like(msg, "instruction limit of 2000000 exceeded", "stopped by the instruction limit")
t.is(kind, "limit", "as a limit")
t.ok(os.clock() - t0 < 4, "within the deadline")

ok, msg = run([[text(setmetatable({}, {__tostring = function() return ("x"):rep(64 << 20) end}))]],
  {text = text})
t.like(msg, "memory limit of 4194304 bytes exceeded", "a __tostring that allocates: the memory limit")

ok = run([[return text(setmetatable({}, {__tostring = function() return "ready" end}))]], {text = text})
t.ok(ok, "an honest __tostring")
t.is(got, "ready", "gives the message its text")
run([[text(42)]], {text = text})
t.is(got, "42", "a number message becomes a string")

-- __pairs, __index, __len of tables handed to the host: never run there
ok, msg = run([[
  local inner = setmetatable({a = 1}, {__pairs = function() while true do end end,
    __index = function() while true do end end, __len = function() while true do end end,
    __tostring = function() while true do end end})
  return keep({inner = inner, list = {1, 2, 3}})
]], {keep = keep})
t.ok(ok, "a table whose metamethods loop reaches the host")
local arg = got[1]
t.is(getmetatable(arg.inner), nil, "as a plain copy without the recipe's metatable")
t.is(arg.inner.a, 1, "with its raw fields")
t.is(arg.inner.missing, nil, "no __index of the recipe's")
t.like(tostring(arg.inner), "^table: ", "no __tostring")
local n = 0
for _ in pairs(arg.inner) do n = n + 1 end
t.is(n, 1, "no __pairs")
t.is(#arg.list, 3, "lists stay lists")

-- shared and cyclic tables: one copy each, no endless copy
run([[local a = {} a.self = a return keep(a, a)]], {keep = keep})
t.ok(got[1].self == got[1] and got[2] == got[1], "a cycle and a shared table keep their shape")
ok, msg = run([[local a = {} for i = 1, 300 do a = {a} end return keep(a)]], {keep = keep})
t.ok(not ok, "a value past the depth limit is refused")
t.like(msg, "nests deeper than 256 levels", "naming the limit")

-- kedge's own metatables survive the crossing (a list from the host)
run([[return keep(list)]], {keep = keep, list = json.decode("[]")})
t.is(json.encode(got[1]), "[]", "an empty host list stays a list")

-- sandbox.call's results are plain too
local res
ok, res = run([[return setmetatable({x = 1}, {__index = function() while true do end end})]])
t.ok(ok and getmetatable(res) == nil and res.y == nil, "a result's metatable stays in the sandbox")

-- __gc is refused; the metatables of kedge's tables cannot be changed
ok, msg = run([[setmetatable({}, {__gc = function() while true do end end})]])
t.ok(not ok, "a metatable with __gc is refused")
t.like(msg, "__gc is not available in the sandbox", "with the reason")
ok = run([[local mt = {} setmetatable({}, mt) mt.__gc = function() while true do end end
  for i = 1, 1000 do local x = {} end]])
t.ok(ok, "a __gc added afterwards is inert (Lua marks objects only in setmetatable)")
collectgarbage()
collectgarbage()
t.ok(true, "and the collector runs no recipe finalizer")

ok, msg = run([[local x <close> = setmetatable({}, {__close = function() while true do end end})
  error("out")]])
t.like(msg, "instruction limit of 2000000 exceeded", "a __close that loops runs under the caps")

local view = pass.view(pass.new{site = "s1", mode = "plan"}, limits)
ok, res = run([[return getmetatable(pass), getmetatable(_G), getmetatable(string)]], {pass = view})
t.ok(ok and res == nil, "getmetatable hides kedge's metatables")
ok, msg = run([[setmetatable(pass, {__index = function() while true do end end})]], {pass = view})
t.like(msg, "cannot change the metatable of a table kedge made", "and setmetatable cannot replace them")
ok, res = run([[local mt = {} local x = setmetatable({}, mt) return getmetatable(x) == mt]])
t.ok(ok and res, "a recipe's own metatables work as in Lua")
ok, msg = run([[local x = setmetatable({}, {__metatable = "no"}) setmetatable(x, {})]])
t.like(msg, "cannot change a protected metatable", "__metatable protects as in Lua")

-- the pass's view: log, fail and step with hostile values
local P = pass.new{site = "s1", mode = "plan"}
view = pass.view(P, limits)
ok, msg = run([[pass.log(setmetatable({}, {__tostring = function() while true do end end}))]],
  {pass = view})
t.like(msg, "instruction limit of 2000000 exceeded", "pass.log: a looping __tostring is stopped")
ok, msg = run([[pass.log("fields", setmetatable({}, {__pairs = function() while true do end end}))]],
  {pass = view})
t.ok(ok, "pass.log: a looping __pairs in the fields never runs")
ok = run([[pass.fail(setmetatable({}, {__tostring = function() return "custom failure" end}))]],
  {pass = view})
t.is(P.failure and P.failure.message, "custom failure", "pass.fail takes the message's text")
P = pass.new{site = "s1", mode = "plan"}
view = pass.view(P, limits)
ok = run([[return pass.step("evil", function()
  return nil, setmetatable({}, {__tostring = function() while true do end end})
end)]], {pass = view})
t.ok(ok, "a step returning a hostile message ends")
t.like(P.failure and P.failure.message or "", "instruction limit of 2000000 exceeded",
  "its __tostring is stopped by the caps")
P = pass.new{site = "s1", mode = "plan"}
view = pass.view(P, limits)
ok = run([[return pass.step("custom", function()
  return nil, setmetatable({}, {__tostring = function() return "disk too slow" end})
end)]], {pass = view})
t.is(P.failure and P.failure.message, "disk too slow", "a step's message object gives its text")
t.done()

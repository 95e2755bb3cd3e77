-- kedge.sandbox: allow-listed globals, text only, and the three limits.
local t = dofile("tests/tap.lua")
local sandbox = require "kedge.sandbox"

local function run(code, limits, extra)
  local fn, err = sandbox.load(code, "=test", extra)
  if not fn then return false, err end
  return sandbox.call(fn, limits or {})
end

t.same({run("return 1 + 1")}, {true, 2}, "plain code runs")
t.same({run("return string.upper('x'), math.max(1, 2), #table.pack(1, 2)")},
  {true, "X", 2, 2}, "string, math and table are there")

for _, name in ipairs({"io", "load", "loadstring", "dofile", "loadfile", "require",
    "debug", "collectgarbage", "package", "coroutine"}) do
  t.same({run("return " .. name)}, {true, nil}, name .. " is not reachable")
end
t.same({run("return os.execute, os.exit, os.getenv, os.remove")}, {true}, "os has no process or file functions")
t.ok(select(2, run("return os.time()")), "os.time is there")
t.same({run("return string.dump")}, {true, nil}, "string.dump is gone")
t.same({run("return getmetatable('')")}, {true, nil}, "the string metatable is hidden")
-- issue 21, finding 15: the string metatable's __index is not the host's
-- string table, so a string's methods hold no dump either
t.same({run("return ('').dump, ('x').dump")}, {true, nil, nil}, "(\"\").dump is gone too")
t.same({run("local ok, e = pcall(function() return (''):dump() end) return ok")}, {true, false},
  "(\"\"):dump() fails")
t.same({run("return ('ab'):upper(), ('%d'):format(7)")}, {true, "AB", "7"}, "the other string methods stay")
t.is(type(string.dump), "function", "the host keeps string.dump")

run("string.upper = nil; table.insert = nil")
t.ok(string.upper and table.insert, "a sandbox cannot change the host's libraries")

local okay, err = sandbox.load(string.dump(function() return 1 end), "=bytecode")
t.is(okay, nil, "bytecode is refused")
t.like(err, "binary", "with a message about binary chunks")

okay, err = sandbox.load("return (", "@recipes/site.lua")
t.is(okay, nil, "syntax error returns nil")
t.like(err, "^recipes/site%.lua:1:", "with the chunk name and line")

t.same({run("return kedge.answer", nil, {kedge = {answer = 42}})}, {true, 42}, "extra globals are visible")

local ok1, msg = run("local n = 0 while true do n = n + 1 end", {instructions = 100000})
t.is(ok1, false, "an endless loop is stopped")
t.like(msg, "instruction limit of 100000 exceeded", "by the instruction limit")

ok1, msg = run([[
  while true do pcall(function() while true do end end) end
]], {instructions = 100000})
t.is(ok1, false, "pcall cannot swallow the stop")
t.like(msg, "instruction limit", "the stop reason survives pcall")

ok1, msg = run([[
  local ok = xpcall(function() while true do end end, function(e) return e end)
  return "escaped"
]], {instructions = 100000})
t.is(ok1, false, "xpcall cannot swallow the stop either")

ok1, msg = run("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end",
  {memory = 4 * 1024 * 1024, instructions = 1e12})
t.is(ok1, false, "allocation past the memory cap stops the run")
t.like(msg, "memory limit of 4194304 bytes exceeded", "with the memory limit named")
t.ok(pcall(string.rep, "x", 8 * 1024 * 1024), "the host's own heap is back to normal afterwards")

ok1, msg = run("while true do end", {timeout = 0.2, instructions = 1e15})
t.is(ok1, false, "a run past its deadline is stopped")
t.like(msg, "deadline exceeded", "by the deadline")

ok1, msg = run("local x = nil; return x.field")
t.is(ok1, false, "a runtime error fails the call")
t.like(msg, "stack traceback", "with a traceback")

t.same({run("local ok, e = pcall(error, 'x'); return ok, e")}, {true, false, "x"},
  "ordinary errors can still be caught inside")

ok1, msg = sandbox.call(function() return sandbox.call(function() end) end)
t.is(ok1, false, "sandbox.call inside sandbox.call fails")
t.like(msg, "cannot be nested", "because it is not reentrant")
t.done()

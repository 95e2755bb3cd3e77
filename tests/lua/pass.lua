-- kedge.pass without a cluster: sandbox.host (the steps a recipe calls are
-- not counted against its caps; its own code still is), the recipe's view
-- of the pass (plain data only, no client), and the exit codes.
local t = dofile("tests/tap.lua")
local sandbox = require "kedge.sandbox"
local pass = require "kedge.pass"

local limits = {instructions = 2000000, memory = 4 << 20, timeout = 5}

local function run(code, globals)
  local fn = assert(sandbox.load(code, "=recipe", globals))
  return sandbox.call(fn, limits)
end

-- a host step far more expensive than the recipe's caps
local spent = 0
local heavy = sandbox.host(function(n)
  for i = 1, n do spent = spent + i % 7 end
  local keep = {}
  for i = 1, 2000 do keep[i] = string.rep("k", 1000) .. i end
  return #keep
end)
local ok, res = run("return heavy(3000000)", {heavy = heavy})
t.ok(ok, "a host step runs past the recipe's instruction cap")
t.is(res, 2000, "and past its memory cap, returning its result")

ok, res = run("heavy(10) while true do end", {heavy = heavy})
t.ok(not ok, "the recipe's own loop after a host step is still stopped")
t.like(res, "instruction limit of 2000000 exceeded", "by the instruction cap")

ok, res = run("heavy(10) local t = {} for i = 1, 1e7 do t[i] = ('x'):rep(100) .. i end",
  {heavy = heavy})
t.like(res, "memory limit of 4194304 bytes exceeded", "and its own allocations by the memory cap")

local failing = sandbox.host(function() error("host step broke", 0) end)
ok, res = run("return pcall(failing)", {failing = failing})
t.ok(ok, "a host error is an ordinary error for the recipe")
t.ok(not select(1, res), "which pcall catches")

-- a host step calling back into recipe code: that code is capped again
local callback = sandbox.host(function(fn)
  return sandbox.call(fn, {instructions = 100000, memory = 1 << 20, timeout = 5})
end)
ok, res = run("local ok, err = callback(function() while true do end end) return ok, err",
  {callback = callback})
t.ok(ok, "a callback's stop does not stop the recipe that handed it over")

-- the view a sandboxed recipe gets
local P = pass.new{site = "s1", state_dir = "/nonexistent", mode = "plan"}
P.results.web = {name = "web", status = "ok"}
P.bundle_names = {"web"}
P.smoke_funcs = {}
local view = pass.view(P, limits)
for _, name in ipairs({"load", "select", "render", "budget", "plan", "apply", "smoke",
    "record", "report", "step", "fail", "log", "smoke_func", "info"}) do
  t.is(type(view[name]), "function", "the view has " .. name)
end
t.is(view.sync, nil, "but not sync (done before the recipe runs)")
t.is(view.kube_client, nil, "and no cluster client")
local info = view.info()
t.is(info.site, "s1", "info: the site")
t.is(info.bundles[1], "web", "info: the selected bundles")
info.bundles[1] = "changed"
t.is(P.bundle_names[1], "web", "info is a copy")

view.smoke_func("f", assert(sandbox.load("return function(ctx) return ctx.kube, ctx.bundle end", "=f"))())
local f = P.smoke_funcs.f
t.is(type(f), "function", "smoke_func registers a function")
local inherited = setmetatable({}, {__index = {bundle = "web", kube = io.stdout}})
local kube_seen, bundle_seen = f(inherited)
t.is(kube_seen, nil, "a callback gets no userdata (no client)")
t.is(bundle_seen, "web", "but the plain data, inherited fields included")

-- callbacks share one deadline: many of them cannot run for ever
local short = pass.view(P, {instructions = 1e12, memory = 1 << 20, timeout = 0.3})
short.smoke_func("spin", assert(sandbox.load("return function() while true do end end", "=spin"))())
local t0 = os.clock()
local sok, serr = pcall(P.smoke_funcs.spin)
t.ok(not sok, "a callback that loops is stopped")
t.like(serr, "deadline", "by the deadline")
sok, serr = pcall(P.smoke_funcs.spin)
t.like(serr, "the time of its callbacks together", "and the next one finds the time used up")
t.ok(os.clock() - t0 < 2, "within the deadline, not once per call")

-- steps and exit codes
ok, res = P.step("custom", function() return true end)
t.ok(ok, "a custom step that returns true passes")
t.is(P.custom_steps[1].status, "passed", "and is recorded")
ok, res = P.step("window", function() return nil, "closed" end)
t.ok(not ok, "a custom step returning nil, why fails")
t.is(P.failure.step, "window", "the pass failed in that step")
t.is(P.failure.message, "closed", "with the reason")
t.is(pass.exit_code(P), pass.EXIT.failed, "exit 1")
ok, res = P.apply()
t.like(res, "skipped: the pass already failed in window", "later steps are skipped")

local Q = pass.new{site = "s2", mode = "plan"}
t.is(pass.exit_code(Q), 0, "a plan without changes exits 0")
Q.changes = 3
t.is(pass.exit_code(Q), pass.EXIT.changes, "with changes 10")
t.same({pass.EXIT.budget, pass.EXIT.apply, pass.EXIT.smoke, pass.EXIT.undelivered},
  {20, 21, 22, 23}, "the distinct exit codes")

t.done()

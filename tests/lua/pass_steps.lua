-- kedge.pass as a Pass object: the step table, the driver's trail, the
-- status constants, the recipe limits from limits.h, and a site recipe's
-- failures as error values (tests/example-repo, offline, no cluster).
local t = dofile("tests/tap.lua")
local pass = require "kedge.pass"
local site = require "kedge.site"
local errors = require "kedge.errors"
local limits = require "kedge.limits"

local names = {}
for _, step in ipairs(pass.STEPS) do
  names[#names + 1] = step.name
  t.is(type(step.run), "function", "step " .. step.name .. " has a function")
  t.is(type(step.records), "table", "and says what it records")
end
t.same(names, {"sync", "load", "select", "render", "budget", "images", "plan", "apply", "smoke",
  "record", "report"}, "the steps in the pass's order")

t.same({pass.STATUS.OK, pass.STATUS.FAILED, pass.STATUS.PENDING, pass.STATUS.APPLIED,
  pass.STATUS.SKIPPED, pass.STATUS.PASSED, pass.STATUS.HELD},
  {"ok", "failed", "pending", "applied", "skipped", "passed", "held"},
  "the status strings")
t.same({pass.RESULT.OK, pass.RESULT.BUDGET_REFUSED, pass.RESULT.APPLY_FAILED,
  pass.RESULT.SMOKE_FAILED, pass.RESULT.SUCCESS, pass.RESULT.IMAGES_MISSING}, {"ok", "budget-refused",
  "apply-failed", "smoke-failed", "success", "images-missing"}, "the result strings")

t.same(pass.RECIPE_LIMITS, {instructions = limits.recipe_instructions,
  memory = limits.recipe_heap, timeout = limits.recipe_seconds}, "recipe limits come from limits.h")
t.same({limits.recipe_instructions, limits.recipe_heap, limits.recipe_seconds},
  {50000000, 32 << 20, 60}, "and are 50M instructions, 32 MiB, 60 s")

local sandbox = require "kedge.sandbox"
local ok0, msg0 = sandbox.call(assert(sandbox.load(
  "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(4096) .. i end", "=big")))
t.ok(not ok0, "sandbox.call without limits is capped")
t.like(msg0, "memory limit of " .. limits.recipe_heap .. " bytes exceeded", "at the recipe heap limit")

local function new_pass(name)
  return pass.new{tree = site.dir_tree("tests/example-repo"), site = name, mode = "plan",
    offline = true, progress = function() end}
end

-- the driver: a pass's trail lists the steps it ran, in order
local P = new_pass("berlin-01")
t.ok(P.sync() and P.load() and P:select() and P.render() and P.budget(), "steps run with . or :")
t.same(P.trail, {{name = "sync", status = "ok"}, {name = "load", status = "ok"},
  {name = "select", status = "ok"}, {name = "render", status = "ok"},
  {name = "budget", status = "ok"}, {name = "images", status = "ok"}},
  "the trail lists the steps in order (the image preflight right after the budget)")
t.ok(P.reached.render and not P.reached.apply, "reached: the steps called")
local ok, err = P.apply()
t.is(ok, nil, "apply in a plan fails")
t.is(err, "apply in a plan", "saying why")
t.same(P.trail[#P.trail], {name = "apply", status = "failed"}, "and the trail says so")
ok, err = P.smoke()
t.like(err, "^skipped: the pass already failed in apply", "a later step is skipped")
t.same(P.trail[#P.trail], {name = "smoke", status = "skipped"}, "and recorded as skipped")
t.ok(P.record(), "record runs after a failure")
t.same(P.trail[#P.trail], {name = "record", status = "ok"}, "as a step marked always")

local Q = new_pass("berlin-01")
ok, err = Q.select()
t.is(err, "select needs load first", "a step's need is checked")
t.is(Q.failure.step, "select", "and fails the pass in that step")
t.ok(not pcall(function() local R = new_pass("berlin-01"); R.sync(); R.load(); R.select(); R.apply("nope") end),
  "an unselected bundle name raises")

-- a site recipe: failures as values of a kind, with file and line
local fn, e = pass.compile_recipe("return function(pass)\n  local x = = 1\nend", "recipes/bad.lua")
t.is(fn, nil, "a recipe that does not compile")
t.ok(errors.is(e, errors.KIND.RECIPE_SYNTAX), "is a RECIPE_SYNTAX error")
t.is(e.file, "recipes/bad.lua", "with its file")
t.is(e.line, 2, "and line")
t.like(tostring(e), "^recipes/bad%.lua:2: unexpected symbol", "formatted as Lua's message")

fn, e = pass.compile_recipe("error('at load')", "recipes/raise.lua")
t.ok(errors.is(e, errors.KIND.RECIPE_RUNTIME), "a chunk that raises: RECIPE_RUNTIME")
t.is(e.line, 1, "with its line")
fn, e = pass.compile_recipe("while true do end", "recipes/loop.lua",
  {instructions = 100000, memory = 1 << 20, timeout = 5})
t.ok(errors.is(e, errors.KIND.LIMIT), "a chunk stopped by a limit: LIMIT")
fn, e = pass.compile_recipe("return 42", "recipes/num.lua")
t.ok(errors.is(e, errors.KIND.VALIDATION), "a chunk returning no function: VALIDATION")
t.is(tostring(e), "must return a function(pass), not a number", "saying what it returned")

local L = new_pass("berlin-01")
L.sync()
local lim = {instructions = 1000000, memory = 4 << 20, timeout = 5}
fn = assert(pass.compile_recipe("return function(pass) os.execute('x') end", "recipes/os.lua", lim))
ok, e = pass.call_recipe(L, fn, "recipes/os.lua", lim)
t.ok(errors.is(e, errors.KIND.RECIPE_RUNTIME), "a recipe calling what the sandbox lacks fails")
t.is(e.absent, "execute", "naming what it lacked")
fn = assert(pass.compile_recipe("return function(pass) pass.sync() end", "recipes/sync.lua", lim))
ok, e = pass.call_recipe(L, fn, "recipes/sync.lua", lim)
t.is(e.absent, "sync", "a step the view leaves out is named too")
fn = assert(pass.compile_recipe("return function(pass) local x; x.y = 1 end", "recipes/nil.lua", lim))
ok, e = pass.call_recipe(L, fn, "recipes/nil.lua", lim)
t.is(e.absent, nil, "a plain nil error names nothing")
fn = assert(pass.compile_recipe("return function(pass) return pass.load() end", "recipes/ok.lua", lim))
t.ok(pass.call_recipe(L, fn, "recipes/ok.lua", lim), "a recipe that works returns true")
t.is(L.trail[#L.trail].name, "load", "and its steps are in the trail")

-- a gate holds a bundle: it leaves the pass (not rendered, budgeted or
-- planned), its result says which gate, why and until when
local gates = require "kedge.gates"
local asked = {}
gates.add{name = "test-hold-web", check = function(ctx, bd)
  asked[#asked + 1] = bd.name
  t.is(ctx.site_name, "berlin-01", "a gate sees the site")
  if bd.name == "web" then return {reason = "not now", ["until"] = 86400} end
end}
local H = new_pass("berlin-01")
t.ok(H.sync() and H.load() and H.select() and H.render() and H.budget(), "a pass with a held bundle runs")
local all = site.select(H.repo, "berlin-01")
t.is(#asked, #all, "every selected bundle is asked")
t.is(#H.bundles, #all - 1, "the held bundle left the pass's bundles")
t.same(H.info().held, {"web"}, "info lists it as held")
t.ok(not H.rendered.web, "it is not rendered")
for _, n in ipairs(H.bundle_names) do t.ok(n ~= "web", "nor among the names (" .. n .. ")") end
t.same(H.results.web.held, {gate = "test-hold-web", reason = "not now", ["until"] = 86400}, "its result says why")
t.is(H.results.web.status, "held", "with the status held")
local report = require "kedge.report"
local r = report.new{site = "berlin-01"}
report.add_bundle(r, H.results.web)
report.finish(r, "ok")
t.same(report.document(r).bundles[1].held, {gate = "test-hold-web", reason = "not now",
  ["until"] = "1970-01-02T00:00:00Z"}, "the report carries the gate, the reason and the time")
gates.LIST[#gates.LIST] = nil
gates.add{name = "test-broken", check = function() return nil, "no clock" end}
local B = new_pass("berlin-01")
t.ok(B.sync() and B.load(), "loads")
ok, err = B.select()
t.like(err, "gate test%-broken: no clock", "a gate that cannot decide fails the select step, naming itself")
gates.LIST[#gates.LIST] = nil

t.done()

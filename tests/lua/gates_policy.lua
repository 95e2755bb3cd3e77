-- The release policy's own gates (kedge.gates.pause, kedge.gates.downgrade):
-- their decisions, the repo keys behind them (allowDowngrade, paused,
-- reason) and their bad input, the local pause file, the agent's
-- allow-downgrade, the good history state.json keeps for kedge rollback.
-- Offline: a copy of tests/example-repo in a temporary folder.
local t = dofile("tests/tap.lua")
local gates = require "kedge.gates"
local pass = require "kedge.pass"
local site = require "kedge.site"
local json = require "kedge.json"
local limits = require "kedge.limits"
local semver = require "kedge.semver"
local downgrade = require "kedge.gates.downgrade"
local pause = require "kedge.gates.pause"

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir .. " && cp -r tests/example-repo " .. dir .. "/repo"))
local root = dir .. "/repo"
local function write(path, text)
  local f = assert(io.open(root .. "/" .. path, "w"))
  f:write(text)
  f:close()
end
local function read(path)
  local f = assert(io.open(root .. "/" .. path))
  local s = f:read("a")
  f:close()
  return s
end
local web_bundle, berlin = read("bundles/web/bundle.yaml"), read("sites/berlin-01.yaml")

-- Helm's order of versions (Masterminds semver): prereleases before their
-- release, numeric identifiers numerically, build metadata ignored
local order = {"1.9.0", "2.0.0-alpha", "2.0.0-alpha.1", "2.0.0-beta.2", "2.0.0-beta.11", "2.0.0-rc.1",
  "2.0.0", "2.0.1", "2.1.0", "2.10.0", "10.0.0"}
for i = 1, #order - 1 do
  t.is(semver.compare(order[i], order[i + 1]), -1, order[i] .. " < " .. order[i + 1])
end
t.is(semver.compare("2.1.0+build.1", "2.1.0+build.2"), 0, "build metadata does not order versions")
t.is(semver.compare("2.1.0-1", "2.1.0-alpha"), -1, "a numeric prerelease identifier before an alphanumeric one")
t.is(semver.compare("v2.1", "2.1.0"), 0, "read as Helm reads chart versions (v prefix, missing patch)")

t.same(gates.ORDER, {"pause", "window", "downgrade", "wave"}, "the release policy's gates, pause first")
local names = {}
for _, g in ipairs(gates.LIST) do names[#names + 1] = g.name end
t.same(names, {"pause", "window", "downgrade", "wave"}, "all are in the list the select step asks")
t.ok(limits.good_history >= 2, "state.json keeps a few good revisions (limits.good_history)")

local function load()
  local repo, err = site.load(site.dir_tree(root))
  return repo, err
end

-- the downgrade gate
local repo = assert(load())
local bd, s = repo.bundles.web, repo.sites["berlin-01"]
local function ctx(good, opts)
  return {site = s, site_name = "berlin-01", repo = repo, good = good, opts = opts or {}}
end
local held = downgrade.check(ctx{web = {commit = "c1", chart = "web", version = "2.1.0"}}, bd)
t.same(held, {reason = "chart web 2.0.1 < 2.1.0 applied; set allowDowngrade to permit"},
  "a lower chart version than the last good one is held, saying both versions and the fix")
t.is(downgrade.check(ctx{web = {commit = "c1", chart = "web", version = "2.0.1"}}, bd), nil, "the same version moves")
t.is(downgrade.check(ctx{web = {commit = "c1", chart = "web", version = "2.0.1-rc.1"}}, bd), nil,
  "from a prerelease to its release moves")
t.is(downgrade.check(ctx{web = {commit = "c1", chart = "web", version = "2.0.1+old"}}, bd), nil,
  "another build of the same version moves")
t.is(downgrade.check(ctx{web = {commit = "c1", chart = "web", version = "1.9.9"}}, bd), nil, "an upgrade moves")
t.is(downgrade.check(ctx{}, bd), nil, "a bundle never applied moves")
t.is(downgrade.check(ctx{web = {commit = "c1", chart = "other", version = "9.0.0"}}, bd), nil,
  "another chart in the bundle's place is no downgrade")
t.is(downgrade.check(ctx({web = {commit = "c1", chart = "web", version = "2.1.0"}}, {allow_downgrade = true}), bd),
  nil, "--allow-downgrade lets it move")
local _, gerr = downgrade.check(ctx{web = {commit = "c1", chart = "web", version = "not-a-version"}}, bd)
t.like(gerr, 'chart web: invalid version "not%-a%-version"', "a version that cannot be compared fails the gate")

write("bundles/web/bundle.yaml", web_bundle .. "allowDowngrade: true\n")
repo = assert(load())
bd, s = repo.bundles.web, repo.sites["berlin-01"]
t.is(repo.bundles.web.allowDowngrade, true, "allowDowngrade is read from a bundle")
t.is(downgrade.check(ctx{web = {chart = "web", version = "2.1.0"}}, bd), nil, "and lets it move")
write("bundles/web/bundle.yaml", web_bundle .. "allowDowngrade: false\n")
write("sites/berlin-01.yaml", berlin .. "allowDowngrade: true\n")
repo = assert(load())
bd, s = repo.bundles.web, repo.sites["berlin-01"]
t.is(s.allowDowngrade, true, "and from a site")
t.ok(downgrade.check(ctx{web = {chart = "web", version = "2.1.0"}}, bd),
  "a bundle's own allowDowngrade: false wins over its site's true")
write("bundles/web/bundle.yaml", web_bundle)
repo = assert(load())
bd, s = repo.bundles.web, repo.sites["berlin-01"]
t.is(downgrade.check(ctx{web = {chart = "web", version = "2.1.0"}}, bd), nil,
  "a site's allowDowngrade: true lets its bundles move")
write("sites/berlin-01.yaml", berlin)

-- the pass holds the bundle: a state directory whose state.json says 2.1.0
local state = dir .. "/state"
assert(os.execute("mkdir -p " .. state))
local f = assert(io.open(state .. "/state.json", "w"))
f:write(json.encode({sites = {["berlin-01"] = {bundles = {web = {commit = "c1", chart = "web",
  version = "2.1.0"}}}}}))
f:close()
local function new_pass(opts)
  local o = {tree = site.dir_tree(root), site = "berlin-01", mode = "plan", offline = true,
    state_dir = state, progress = function() end}
  for k, v in pairs(opts or {}) do o[k] = v end
  return pass.new(o)
end
local P = new_pass()
t.ok(P.sync() and P.load() and P.select(), "a pass with a downgrade selects")
t.same(P.info().held, {"web"}, "and holds the bundle")
t.same(P.results.web.held, {gate = "downgrade",
  reason = "chart web 2.0.1 < 2.1.0 applied; set allowDowngrade to permit"}, "its result names the gate and why")
P = new_pass{allow_downgrade = true}
t.ok(P.sync() and P.load() and P.select(), "with allow_downgrade")
t.same(P.info().held, {}, "nothing is held")

-- the pause gate: the repo's pauses
write("bundles/web/bundle.yaml", web_bundle .. "paused: true\nreason: INC-42, ask ops\n")
repo = assert(load())
t.same(pause.check({site = repo.sites["berlin-01"], site_name = "berlin-01"}, repo.bundles.web),
  {reason = "paused in the repo: INC-42, ask ops"}, "a bundle paused in the repo is held with its reason")
t.is(pause.check({site = repo.sites["berlin-01"], site_name = "berlin-01"}, repo.bundles.cache), nil,
  "the other bundles move")
write("bundles/web/bundle.yaml", web_bundle)
write("sites/berlin-01.yaml", berlin .. "paused: true\nreason: store refit\n")
repo = assert(load())
t.same(pause.check({site = repo.sites["berlin-01"], site_name = "berlin-01"}, repo.bundles.cache),
  {reason = "paused in the repo: store refit (site berlin-01)"}, "a site paused in the repo holds all its bundles")
write("sites/berlin-01.yaml", berlin .. "paused: false\nreason: was INC-42\n")
t.ok(load(), "paused: false may keep its reason")
write("sites/berlin-01.yaml", berlin)

-- the local pauses (kedge pause / resume)
local p = assert(pause.set(state, "berlin-01", "web", "replacing the switch"))
t.is(p.reason, "replacing the switch", "a local pause keeps its reason")
t.ok(type(p.who) == "string" and p.who ~= "", "who paused (" .. p.who .. ")")
t.like(p.at, "^%d+%-%d+%-%d+T%d+:%d+:%d+Z$", "and when")
local doc = json.decode(assert(io.open(pause.path(state))):read("a"))
t.same(doc.sites["berlin-01"].bundles.web.reason, "replacing the switch", "in STATE_DIR/paused.json")
repo = assert(load())
local c = {site = repo.sites["berlin-01"], site_name = "berlin-01", state_dir = state}
t.like(pause.check(c, repo.bundles.web).reason, "^paused on the site by .+ at .+: replacing the switch$",
  "a bundle paused locally is held, saying who, when and why")
t.is(pause.check(c, repo.bundles.cache), nil, "its siblings move")
t.is(pause.check({site = repo.sites["kiosk-07"], site_name = "kiosk-07", state_dir = state},
  repo.bundles.web), nil, "another site of the state directory is not paused")
P = new_pass{allow_downgrade = true}
t.ok(P.sync() and P.load() and P.select(), "a pass with a local pause selects")
t.is(P.results.web.held.gate, "pause", "the pause gate held it")
t.same(assert(pause.clear(state, "berlin-01", "web")), {"web"}, "resume --bundle lifts it")
t.same(assert(pause.clear(state, "berlin-01", "web")), {}, "lifting it again lifts nothing")
assert(pause.set(state, "berlin-01", nil, "site closed"))
c.pauses = nil
t.like(pause.check(c, repo.bundles.cache).reason, "site closed$", "a local site pause holds every bundle")
assert(pause.set(state, "berlin-01", "web", "web too"))
t.same(assert(pause.clear(state, "berlin-01")), {"site", "web"}, "resume without --bundle lifts them all")
c.pauses = nil
t.is(pause.check(c, repo.bundles.web), nil, "and the bundle moves again")
f = assert(io.open(pause.path(state), "w"))
f:write("{not json")
f:close()
c.pauses = nil
local h, perr = pause.check(c, repo.bundles.web)
t.is(h, nil, "a broken pause file is no silent go-ahead")
t.like(perr, "paused%.json: not a pause file", "the gate fails, naming the file")
os.remove(pause.path(state))

-- bad input in the repo
local function problems_with(path, base, extra)
  write(path, base .. extra)
  local r, err = load()
  write(path, base)
  return r, err or ""
end
local r, err = problems_with("bundles/web/bundle.yaml", web_bundle, "allowDowngrade: \"yes\"\n")
t.is(r, nil, "allowDowngrade as a string is refused")
t.like(err, "bundles/web/bundle%.yaml:%d+:%d+: allowDowngrade must be a boolean, not a string", "at its line")
r, err = problems_with("sites/berlin-01.yaml", berlin, "allowDowngrade: 1\n")
t.like(err, "sites/berlin%-01%.yaml:%d+:%d+: allowDowngrade must be a boolean", "on a site too")
r, err = problems_with("bundles/web/bundle.yaml", web_bundle, "paused: true\n")
t.like(err, "paused: true needs a reason:", "paused without a reason is refused")
r, err = problems_with("bundles/web/bundle.yaml", web_bundle, "paused: true\nreason: 42\n")
t.like(err, "reason must be a string, not an integer", "a reason that is not a string")
r, err = problems_with("sites/berlin-01.yaml", berlin, "paused: yes please\nreason: x\n")
t.like(err, "paused must be a boolean, not a string", "paused that is not a boolean")
r, err = problems_with("sites/berlin-01.yaml", berlin, "paused: true\nreason: \"\"\n")
t.like(err, "reason must say why", "an empty reason")
r, err = problems_with("bundles/web/bundle.yaml", web_bundle, "allowDowngrades: true\n")
t.like(err, 'unknown key "allowDowngrades" in a bundle %(did you mean "allowDowngrade"%?%)',
  "a misspelt key is named with the right one")

-- the agent's allow-downgrade
local config = require "kedge.agent.config"
local cfg = assert(config.parse("repo: /srv/sites\nallow-downgrade: true\n", "agent.yaml"))
t.is(cfg.allow_downgrade, true, "the agent's config may allow downgrades")
local _, errs = config.parse("repo: /srv/sites\nallow-downgrade: sometimes\n", "agent.yaml")
t.like(config.format_errors(errs), "agent%.yaml:2:%d+: allow%-downgrade: want true or false, not a string",
  "and says so when it is not a boolean")
cfg = assert(config.override(assert(config.parse("repo: /srv/sites\n", "agent.yaml")), {allow_downgrade = "true"}))
t.is(cfg.allow_downgrade, true, "--allow-downgrade overrides the file")

-- the good history: newest first, one entry per commit, bounded
local entry = {commit = "c3", at = "t3", chart = "web", version = "2.2.0"}
t.same(pass.history({commit = "c2", at = "t2", chart = "web", version = "2.1.0"}, entry),
  {{commit = "c3", at = "t3", chart = "web", version = "2.2.0"},
   {commit = "c2", at = "t2", chart = "web", version = "2.1.0"}},
  "a record without history starts one with the record it replaces")
local old = {commit = "c3", history = {}}
for i = 1, limits.good_history + 5 do old.history[i] = {commit = "x" .. i} end
table.insert(old.history, 1, {commit = "c3"})
local hist = pass.history(old, entry)
t.is(#hist, limits.good_history, "at most limits.good_history entries")
t.is(hist[1].commit, "c3", "the new one first")
t.is(hist[2].commit, "x1", "the same commit again is not kept twice")
t.same(pass.history(nil, entry), {{commit = "c3", at = "t3", chart = "web", version = "2.2.0"}},
  "a first good revision is the whole history")

os.execute("rm -rf " .. dir)
-- when the next pass is due: the earliest a gate asks for (gates.wake), a
-- hold's until among them
do
  local c = {}
  gates.wake(c, 500, "soak", "a")
  gates.wake(c, 900, "held", "b")
  gates.wake(c, nil, "held", "c")
  t.same(c.wake, {at = 500, why = "soak", bundle = "a"}, "gates.wake keeps the earliest")
  gates.wake(c, 100, "held", "d")
  t.same(c.wake, {at = 100, why = "held", bundle = "d"}, "an earlier one replaces it")
  gates.add{name = "test-hold", check = function(_, b)
    if b.name == "web" then return {reason = "a test hold", ["until"] = 4242} end
  end}
  local c2 = ctx({})
  local held = gates.ask(c2, repo.bundles.web)
  t.same(held, {gate = "test-hold", reason = "a test hold", ["until"] = 4242}, "a hold with an until")
  t.same(c2.wake, {at = 4242, why = "held", bundle = "web"}, "asks for a pass when the hold ends")
  table.remove(gates.LIST)
end

t.done()

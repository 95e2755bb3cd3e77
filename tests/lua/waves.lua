-- kedge.waves: the staged rollout's decisions (wave membership by a stable
-- hash, percent boundaries, soak arithmetic, the health gate, the halt),
-- and rollout: as site.load reads and checks it.
local t = dofile("tests/tap.lua")
local waves = require "kedge.waves"
local site = require "kedge.site"
local report = require "kedge.report"

local H = 3600
local T0 = 1796000000 -- the revision's commit time

local function sites(n, labels_of)
  local out = {}
  for i = 1, n do
    local name = string.format("s%02d", i)
    out[i] = {name = name, labels = labels_of and labels_of(i) or {}}
  end
  return out
end

local function bundle(wv, health)
  local h = {min_success = 100, max_failures = 0, when_unknown = "wait"}
  for k, v in pairs(health or {}) do h[k] = v end
  return {name = "web", rollout = {waves = wv, health = h}}
end

local CANARY = {matchLabels = {ring = "canary"}}
local STD = {{name = "canary", selector = CANARY, soak = 2 * H}, {name = "early", percent = 10, soak = 6 * H},
  {name = "all", percent = 100, soak = 0}}
local function ring(i) return i <= 3 and {ring = "canary"} or {} end

-- a report of the bundle on commit c, finished at time at
local function rep(c, at, status, smoke)
  return {kind = "report", commit = c, result = status == "ok" and "ok" or "apply-failed",
    finished = os.date("!%Y-%m-%dT%H:%M:%SZ", at),
    bundles = {{name = "web", status = status, smoke = smoke or {}}}}
end

-- ---- the hash and the order ----
t.is(waves.position("s01", "web"), report.fnv("s01/web"), "a site's position is FNV-1a of site/bundle")
local names = {}
for i = 1, 50 do names[i] = string.format("s%02d", i) end
local o1 = waves.order(names, "web")
local shuffled = {}
for i = 50, 1, -1 do shuffled[#shuffled + 1] = names[i] end
t.same(waves.order(shuffled, "web"), o1, "the order does not depend on the input's order")
t.ok(table.concat(waves.order(names, "db"), ",") ~= table.concat(o1, ","), "another bundle orders the fleet differently")
local sorted = true
for i = 2, #o1 do if waves.position(o1[i - 1], "web") > waves.position(o1[i], "web") then sorted = false end end
t.ok(sorted, "sites in increasing hash order")
t.same(waves.order(names, "web"), o1, "and the same every time (offline, on every site)")

-- ---- membership: selector first, then percents ----
local b = bundle(STD)
local lists, sw = waves.assign(sites(50, ring), b)
t.same(lists[1], {"s01", "s02", "s03"}, "the canary selector takes its sites")
t.is(#lists[2], 5, "10% of the 47 others is 5 (rounded up)")
t.is(#lists[3], 42, "100% takes the rest")
local rest = {}
for i = 4, 50 do rest[#rest + 1] = string.format("s%02d", i) end
local ord = waves.order(rest, "web")
t.same(lists[2], (function() local l = {ord[1], ord[2], ord[3], ord[4], ord[5]}; table.sort(l); return l end)(),
  "early holds the first five of the hash order")
t.is(sw.s01, 1, "site -> wave index")
local l1 = waves.assign(sites(100), bundle({{name = "a", percent = 1}, {name = "b", percent = 2},
  {name = "c", percent = 100}}))
t.same({#l1[1], #l1[2], #l1[3]}, {1, 1, 98}, "percent boundaries: 1% and 2% of 100 are one site each")
local l2 = waves.assign(sites(3), bundle({{name = "a", percent = 1}, {name = "b", percent = 50}}))
t.same({#l2[1], #l2[2]}, {1, 2}, "1% of 3 rounds up to one; 50% of 3 is two in all, and the third joins the last wave")
local l3 = waves.assign(sites(10), bundle({{name = "a", percent = 20}, {name = "b", percent = 60}}))
t.same({#l3[1], #l3[2]}, {2, 8}, "sites no wave holds join the last wave")
local l4 = waves.assign(sites(5, function(i) return i == 1 and {ring = "canary"} or {} end),
  bundle({{name = "a", percent = 100}, {name = "canary", selector = CANARY}}))
t.same(l4[2], {"s01"}, "a selector wave takes its sites even after a percent wave")

-- ---- soak arithmetic ----
local fleet = sites(50, ring)
local function plan(now, peers, health, wv)
  return waves.plan{sites = fleet, bundle = bundle(wv or STD, health), commit = {id = "c1", time = T0},
    peers = peers, now = now}
end
local p = plan(T0, {})
t.is(p.waves[1].state, "open", "at the commit's time the canary wave is open")
t.is(p.waves[2].state, "waiting", "early waits on the canary's health")
t.is(waves.gate(p, "s01"), nil, "a canary site may apply")
t.like(waves.gate(p, lists[2][1]).reason, "^wave early %(2/3%) waits on health: 0 of 3 canary sites succeeded on c1, 3 needed %(minSuccess 100%%%)",
  "an early site is held, and says why")
t.like(waves.gate(p, lists[3][1]).reason, "^wave all %(3/3%) opens after wave early %(2/3%), which has not opened yet",
  "a later site waits for early")

local peers = {s01 = {rep("c1", T0 + 600, "ok")}, s02 = {rep("c1", T0 + 900, "ok")},
  s03 = {rep("c1", T0 + 1200, "ok"), rep("c1", T0 + 4000, "unchanged")}}
p = plan(T0 + 1800, peers)
t.is(p.waves[1].state, "soaking", "all canaries succeeded: the canary wave soaks")
t.is(p.waves[1].passed, T0 + 1200, "from when the last needed canary's smoke tests passed (its first success)")
t.is(p.waves[2].opens, T0 + 1200 + 2 * H, "early opens 2h later")
t.is(p.waves[2].state, "not yet", "not yet")
local g = waves.gate(p, lists[2][1])
t.is(g.reason, "wave early (2/3) opens at " .. os.date("!%Y-%m-%dT%H:%M:%SZ", T0 + 1200 + 2 * H) ..
  " after canary's 2h soak", "the reason names the time and the soak")
t.is(g["until"], T0 + 1200 + 2 * H, "and holds until then")
t.is(waves.site_state(p, "s03"), "soaking", "a canary site soaks")
p = plan(T0 + 1200 + 2 * H, peers)
t.is(p.waves[1].state, "done", "after the soak the canary wave is done")
t.is(waves.gate(p, lists[2][1]), nil, "and early opens at that second")
t.is(waves.site_state(p, lists[2][1]), "applying", "its sites apply")
-- early succeeds an hour after it opened: all opens 6h after that
local e_at = T0 + 1200 + 3 * H
for _, n in ipairs(lists[2]) do peers[n] = {rep("c1", e_at, "ok")} end
p = plan(e_at + 6 * H - 1, peers)
t.is(p.waves[3].state, "not yet", "one second before early's 6h soak ends, all waits")
t.is(p.waves[3].opens, e_at + 6 * H, "all opens at early's success plus 6h")
t.is(waves.gate(plan(e_at + 6 * H, peers), lists[3][1]), nil, "and then opens")

-- an old report of another commit does not count; a newer pass on the
-- same commit does not restart the soak
t.same(waves.outcome({rep("c0", T0, "ok")}, "web", "c1"), {state = "pending"}, "another commit's report does not count")
local oc = waves.outcome({rep("c1", T0 + 5, "ok"), rep("c1", T0 + 99, "unchanged")}, "web", "c1")
t.same({oc.state, oc.at, oc.finished}, {"success", T0 + 5, T0 + 99}, "the first success starts the soak")
t.is(waves.outcome({rep("c1", T0, "ok", {{name = "up", status = "failed"}})}, "web", "c1").state, "failed",
  "a failed smoke test is a failure")
t.is(waves.outcome({rep("c1", T0, "held")}, "web", "c1").state, "pending", "a held bundle is not decided")
t.is(waves.outcome({rep("c1", T0, "failed"), rep("c1", T0 + 60, "ok")}, "web", "c1").state, "success",
  "the newest report decides (a retry that succeeded)")
t.is(waves.outcome({rep("c1", T0 + 50, "ok")}, "web", "c1", T0 + 49).state, "pending",
  "a report finished after now does not count yet (a clock ahead, or --at a past time)")
t.is(waves.outcome({"garbage", {commit = "c1", bundles = "x"}}, "web", "c1").state, "pending",
  "malformed reports are pending, never an error")

-- ---- the health gate ----
local hp = {s01 = {rep("c1", T0 + 60, "ok")}, s02 = {rep("c1", T0 + 60, "ok")}, s03 = {rep("c1", T0 + 60, "failed")}}
p = plan(T0 + 10 * H, hp, {min_success = 60, max_failures = 1})
t.is(p.waves[1].quorum, 2, "60% of 3 canaries is 2")
t.is(p.waves[1].state, "done", "2 of 3 succeeded, one failure allowed: the canary wave passes")
t.is(waves.gate(p, lists[2][1]), nil, "early opens")
p = plan(T0 + 10 * H, hp, {min_success = 90, max_failures = 1})
t.is(p.waves[2].state, "waiting", "90% of 3 needs all three: early waits")
t.like(waves.gate(p, lists[2][1]).reason, "2 of 3 canary sites succeeded on c1, 3 needed %(minSuccess 90%%%)",
  "and says how many are missing")

-- ---- the halt ----
p = plan(T0 + 10 * H, hp, {min_success = 60, max_failures = 0})
t.ok(p.halted, "a failure beyond maxFailures halts the rollout")
t.is(p.waves[2].state, "halted", "early is halted")
t.is(p.waves[3].state, "halted", "and every later wave")
t.is(waves.gate(p, lists[3][1]).reason, "rollout halted: 1 of 3 canary sites failed on c1 (maxFailures 0); " ..
  "a new commit starts it over", "the reason says how many failed where")
t.is(waves.gate(p, lists[3][1])["until"], nil, "a halt holds with no end time")
t.is(waves.site_state(p, "s03"), "failed", "the failed site shows as failed")
t.is(waves.gate(p, "s02"), nil, "canary sites are not held by their own wave's failure")
local p2 = waves.plan{sites = fleet, bundle = bundle(STD, {min_success = 60}), commit = {id = "c2", time = T0 + 11 * H},
  peers = hp, now = T0 + 11 * H}
t.ok(not p2.halted, "a new commit starts over")
hp.s03 = {rep("c1", T0 + 60, "ok")}
local early1 = lists[2][1]
hp[early1] = {rep("c1", T0 + 3 * H, "failed")}
p = plan(T0 + 10 * H, hp, {max_failures = 0})
t.is(p.waves[2].state, "open", "a failure in early: early itself stays open (its other sites go on)")
t.is(p.waves[3].state, "halted", "the waves after it halt")
t.like(waves.gate(p, lists[3][1]).reason, "1 of 5 early sites failed on c1", "naming early")

-- ---- unknown peers ----
p = plan(T0 + 10 * H, nil)
t.like(waves.gate(p, lists[2][1]).reason, "peers' reports cannot be read.*whenUnknown: wait", "unknown peers: wait holds")
t.is(waves.gate(p, "s01"), nil, "but not the first wave")
p = plan(T0 + 2 * H, nil, {when_unknown = "proceed"})
t.is(waves.gate(p, lists[2][1]), nil, "proceed: early opens at the commit time plus the canary soak")
t.is(waves.gate(p, lists[3][1])["until"], T0 + 8 * H, "and all 6h later")

-- ---- empty waves ----
local p3 = waves.plan{sites = sites(4), bundle = bundle(STD), commit = {id = "c1", time = T0}, peers = {}, now = T0 + 2 * H}
t.is(#p3.waves[1].sites, 0, "no canary site: the canary wave is empty")
t.is(p3.waves[2].state, "open", "an empty wave passes at once, then soaks: early opens after 2h")

-- ---- the gate (kedge.gates.wave) with what a pass gives it ----
local gate = require "kedge.gates.wave"
local grepo = {site_names = {}, sites = {}}
for _, s in ipairs(fleet) do
  grepo.site_names[#grepo.site_names + 1] = s.name
  grepo.sites[s.name] = {name = s.name, labels = s.labels}
end
local gb = bundle(STD)
local function ctx(name, extra)
  local c = {repo = grepo, site_name = name, commit = {id = "c1", time = T0}, good = {}, now = T0 + 10 * H}
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end
t.is(gate.name, "wave", "the gate is named wave")
t.is(gate.check(ctx("s01"), gb), nil, "a canary site passes")
t.like(gate.check(ctx(lists[2][1]), gb).reason, "peers' reports cannot be read",
  "without a state directory (no mirror) the peers are unknown: wait")
t.is(gate.check(ctx(lists[2][1], {good = {web = {commit = "c1"}}}), gb), nil, "a site already running the commit passes")
t.is(gate.check(ctx(lists[2][1], {commit = {id = "working-tree"}}), gb), nil, "a plain folder (no commit time) is not staged")
t.is(gate.check(ctx(lists[2][1]), {name = "web"}), nil, "a bundle without rollout passes")
t.ok(gate.check(ctx(lists[2][1], {state_dir = "/nonexistent"}), gb), "an unreadable mirror holds, never fails")

-- ---- rollout: in bundle.yaml ----
local function tree(files)
  local tr = {}
  function tr:read(path) return files[path], files[path] == nil and (path .. ": No such file") or nil end
  function tr:list(dir)
    local seen, out, prefix = {}, {}, dir == "" and "" or dir .. "/"
    for path in pairs(files) do
      if path:sub(1, #prefix) == prefix then
        local first, more = path:sub(#prefix + 1):match("^([^/]+)(/?)")
        if first and not seen[first] then
          seen[first] = true
          out[#out + 1] = {name = first, type = more == "/" and "dir" or "file"}
        end
      end
    end
    if #out == 0 then return nil, "cannot list " .. dir end
    table.sort(out, function(a, c) return a.name < c.name end)
    return out
  end
  return tr
end
local function load(rollout)
  return site.load(tree{["sites/a.yaml"] = "name: a\nlabels: {ring: canary}\n", ["sites/b.yaml"] = "name: b\n",
    ["charts/one/Chart.yaml"] = "apiVersion: v2\nname: one\nversion: 1.0.0\n",
    ["bundles/one/bundle.yaml"] = "chart: charts/one\nrollout:\n" .. rollout})
end
local repo = assert(load("  waves:\n    - {name: canary, selector: {matchLabels: {ring: canary}}, soak: 2h}\n" ..
  "    - {name: early, percent: 10, soak: 1h30m}\n    - {name: all, percent: 100}\n" ..
  "  health: {minSuccess: 90%, maxFailures: 2, whenUnknown: proceed}\n"))
t.same(repo.bundles.one.rollout, {waves = {{name = "canary", selector = {matchLabels = {ring = "canary"}}, soak = 7200},
  {name = "early", percent = 10, soak = 5400}, {name = "all", percent = 100, soak = 0}},
  health = {min_success = 90, max_failures = 2, when_unknown = "proceed"}}, "rollout: is read")
t.same(repo.warnings, {}, "no warning when every selector matches a site")
repo = assert(load("  waves:\n    - {name: all, percent: 100}\n"))
t.same(repo.bundles.one.rollout.health, {min_success = 100, max_failures = 0, when_unknown = "wait"},
  "health defaults: every site must succeed, no failure, wait when unknown")
local bad = {
  {"percent > 100", "    - {name: all, percent: 101}\n",
   "bundles/one/bundle.yaml:4:19: percent must be a whole number from 1 to 100, not 101"},
  {"percent 0", "    - {name: all, percent: 0}\n", "percent must be a whole number from 1 to 100, not 0"},
  {"neither", "    - {name: all, soak: 1h}\n",
   "bundles/one/bundle.yaml:4:7: a wave needs a selector {matchLabels: ...} or a percent (1 to 100), one of them"},
  {"both", "    - {name: all, percent: 5, selector: {matchLabels: {a: b}}}\n", "one of them"},
  {"unknown key in a wave", "    - {name: all, percent: 100, sok: 1h}\n",
   'bundles/one/bundle.yaml:4:33: unknown key "sok" in a wave (did you mean "soak"?)'},
  {"a percent that does not grow", "    - {name: a, percent: 50}\n    - {name: b, percent: 20}\n",
   "percent 20 does not grow past the wave before (50)"},
  {"a bad soak", "    - {name: all, percent: 100, soak: soon}\n", 'soak must be a duration like "2h"'},
  {"no name", "    - {percent: 100}\n", "a wave needs a name"},
  {"a name twice", "    - {name: a, percent: 10}\n    - {name: a, percent: 100}\n", 'wave "a" is declared twice'},
}
for _, c in ipairs(bad) do
  local r, text = load("  waves:\n" .. c[2])
  t.ok(not r and text:find(c[3], 1, true), "bad rollout: " .. c[1] .. (r and "" or (" (" .. text .. ")")))
end
local badh = {
  {"minSuccess not a share", "{minSuccess: 0.9}", 'minSuccess must be a share like "90%"'},
  {"minSuccess > 100%", "{minSuccess: 101%}", 'minSuccess must be a share'},
  {"maxFailures negative", "{maxFailures: -1}", "maxFailures must be a whole number"},
  {"whenUnknown", "{whenUnknown: maybe}", "whenUnknown must be wait or proceed, not maybe"},
  {"unknown health key", "{minSucess: 90%}", 'unknown key "minSucess" in rollout.health (did you mean "minSuccess"?)'},
}
for _, c in ipairs(badh) do
  local r, text = load("  waves:\n    - {name: all, percent: 100}\n  health: " .. c[2] .. "\n")
  t.ok(not r and text:find(c[3], 1, true), "bad health: " .. c[1] .. (r and "" or (" (" .. text .. ")")))
end
local r, text = load("  wave: []\n")
t.ok(not r and text:find('unknown key "wave" in rollout (did you mean "waves"?)', 1, true), "unknown key in rollout: " .. tostring(text))
repo = assert(load("  waves:\n    - {name: canary, selector: {matchLabels: {ring: nope}}}\n    - {name: all, percent: 100}\n"))
t.like(repo.warnings[1] or "", "^bundles/one/bundle.yaml:4:22: rollout.waves.0.selector of wave canary matches no site",
  "a selector matching no site is a warning (kedge check prints it)")

-- ---- soak with smoke reruns ----
repo = assert(load("  waves:\n    - {name: canary, selector: {matchLabels: {ring: canary}}, " ..
  "soak: {duration: 30m, smoke: every 5m}}\n    - {name: all, percent: 100, soak: {duration: 1h}}\n"))
t.same(repo.bundles.one.rollout.waves[1], {name = "canary", selector = {matchLabels = {ring = "canary"}}, soak = 1800,
  smoke_every = 300}, "soak: {duration: 30m, smoke: every 5m} is read")
t.same({repo.bundles.one.rollout.waves[2].soak, repo.bundles.one.rollout.waves[2].smoke_every}, {3600, nil},
  "soak: {duration: 1h}: no reruns")
t.like(repo.warnings[1] or "", "^bundles/one/bundle.yaml:4:%d+: wave canary reruns the smoke tests while it soaks, " ..
  "but the bundle has none", "reruns without smoke tests: a warning naming the field")
local bads = {
  {"smoke not every", "{duration: 30m, smoke: 5m}", 'smoke must say how often to rerun the smoke tests while the ' ..
   'wave soaks, like "every 10m", not 5m'},
  {"smoke every garbage", "{duration: 30m, smoke: every often}", 'like "every 10m", not every often'},
  {"smoke longer than the soak", "{duration: 10m, smoke: every 20m}", "smoke every 20m is longer than the soak (10m)"},
  {"no duration", "{smoke: every 5m}", 'duration must be a duration like "2h", "30m" or "1h30m", not nil'},
  {"unknown key", "{duration: 30m, smok: every 5m}", 'unknown key "smok" in a wave\'s soak (did you mean "smoke"?)'},
  {"soak a list", "[30m]", "a wave's soak"},
}
for _, c in ipairs(bads) do
  local r2, text2 = load("  waves:\n    - {name: all, percent: 100, soak: " .. c[2] .. "}\n")
  t.ok(not r2 and text2:find(c[3], 1, true), "bad soak: " .. c[1] .. (r2 and "" or (" (" .. text2 .. ")")))
end
local SPEC = {name = "canary", soak = 1800, smoke_every = 300}
t.same(waves.soak_reruns(SPEC, nil, T0), {["until"] = T0 + 1800, every = 300, next = T0 + 300},
  "a first pass: the soak would start now, the first rerun 5m later")
t.same(waves.soak_reruns(SPEC, T0, T0 + 1700), {["until"] = T0 + 1800, every = 300, next = T0 + 1800},
  "the last rerun is at the soak's end")
t.is(waves.soak_reruns(SPEC, T0, T0 + 1800), nil, "once the soak is over: no more reruns")
t.is(waves.soak_reruns({name = "all", soak = 1800}, T0, T0 + 60), nil, "a soak without smoke: no reruns")
t.is(waves.soak_reruns(nil, T0, T0 + 60), nil, "no wave: no reruns")

t.done()

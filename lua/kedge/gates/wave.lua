-- kedge.gates.wave: the staged rollout's gate (rollout: in a bundle, see
-- kedge.waves). A site applies a bundle's new revision only when its wave
-- is open; until then the bundle is held at what the site runs.
--
-- The peers' reports come from the status branches (kedge/status/<site>)
-- of the state directory's mirror: the pass's sync fetches every branch
-- of the config repo (+refs/heads/*), status branches included, so a
-- site reads what its peers pushed as of its own sync, with no second
-- fetch. No mirror, or no status branch in it, means the peers are
-- unknown (health.whenUnknown decides), never a failed pass; a corrupt
-- report is skipped with a warning.
local waves = require "kedge.waves"
local site = require "kedge.site"
local fleet = require "kedge.fleet"
local git = require "kedge.git"
local log = require "kedge.log"
local report = require "kedge.report"

local M = {name = "wave"}

-- The bundle's sites, as kedge.waves takes them.
function M.sites(repo, bd)
  local out = {}
  for _, n in ipairs(repo.site_names) do
    local s = repo.sites[n]
    if site.targets(bd, s) then out[#out + 1] = {name = n, labels = s.labels or {}} end
  end
  return out
end

-- The plan of bundle bd at time now, reading from store (nil: the peers
-- are unknown) the reports of the sites in the waves before wave `upto`
-- (nil: every wave). Returns the plan and the skipped reports.
function M.plan(o)
  local sites = M.sites(o.repo, o.bundle)
  local lists, site_wave = waves.assign(sites, o.bundle)
  local upto = o.upto_site and ((site_wave[o.upto_site] or 1) - 1) or #lists
  local names = {}
  for k = 1, upto do
    for _, n in ipairs(lists[k]) do names[#names + 1] = n end
  end
  local peers, skipped = nil, {}
  if o.store then peers, skipped = fleet.commit_reports(o.store, names, o.commit.id) end
  local plan = waves.plan{sites = sites, bundle = o.bundle, commit = o.commit, peers = peers, now = o.now}
  return plan, skipped
end

-- One store per state directory and pass (ctx is the pass's).
local stores = setmetatable({}, {__mode = "k"})

local function store_of(ctx)
  if stores[ctx] ~= nil then return stores[ctx] or nil end
  local s = ctx.state_dir and git.store(ctx.state_dir .. "/mirror.git") or nil
  stores[ctx] = s or false
  return s
end

-- A bundle that moves on this site, in a wave whose soak reruns the smoke
-- tests: while the site soaks (from its first good pass of the revision,
-- state.json's since), the pass asks for the next one at the rerun's time
-- (every pass runs the bundles' smoke tests), and the bundle's result says
-- so (soak = {wave=, until=, every=}; a smoke test failing then rolls the
-- site back to the revision before, see kedge.pass's rollback).
local function soak(ctx, bd, good, c)
  local _, site_wave = waves.assign(M.sites(ctx.repo, bd), bd)
  local k = site_wave[ctx.site_name]
  local same = good and good.commit == c.id
  local since = same and report.parse_time(tostring(good.since or good.at)) or nil
  -- a record of this commit without a time it can read has soaked
  if same and not since then return end
  local now = ctx.now or os.time()
  local r = waves.soak_reruns(k and bd.rollout.waves[k], since, now)
  if not r then return end
  -- (kedge.gates requires this module: asked for when it is loaded)
  require("kedge.gates").wake(ctx, r.next, "soak", bd.name)
  log.info(string.format("rollout: bundle %s soaks in wave %s until %s; its smoke tests rerun every %s",
    bd.name, bd.rollout.waves[k].name, os.date("!%Y-%m-%dT%H:%M:%SZ", r["until"]), waves.duration_text(r.every)),
    {bundle = bd.name})
  if ctx.result_of then
    ctx.result_of(bd.name).soak = {wave = bd.rollout.waves[k].name, ["until"] = r["until"], every = r.every}
  end
end

function M.check(ctx, bd)
  if not bd.rollout then return nil end
  local c = ctx.commit
  -- a plain folder has no revision to roll out: nothing to stage
  if not (c and c.id and c.time) then return nil end
  local good = ctx.good and ctx.good[bd.name]
  if good and good.commit == c.id then
    soak(ctx, bd, good, c)
    return nil
  end
  local plan, skipped = M.plan{repo = ctx.repo, bundle = bd, commit = {id = c.id, time = c.time},
    now = ctx.now, store = store_of(ctx), upto_site = ctx.site_name}
  for _, k in ipairs(skipped) do
    log.warn("rollout: skipped a peer's report", {file = k.file, why = tostring(k.reason), bundle = bd.name})
  end
  local held = waves.gate(plan, ctx.site_name)
  if not held then soak(ctx, bd, good, c) end
  return held
end

return M

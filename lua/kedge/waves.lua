-- kedge.waves: a bundle's staged rollout (rollout: in its bundle.yaml),
-- decided offline and the same way on every site. No I/O: the caller
-- (kedge.gates.wave, kedge rollout status) reads the repo and the peers'
-- reports; this module only counts.
--
--   local plan = waves.plan{sites = {{name=, labels=}, ...}, bundle = b,
--     commit = {id=, time=}, peers = {SITE = {doc, ...}} or nil, now = t}
--   plan.waves[k] = {name=, index=, sites={...}, state=, opens=, soak=, ...}
--   plan.site_wave[SITE] = k;  waves.gate(plan, SITE) -> nil or {reason=, until=}
--
-- Waves. sites are the ones the bundle targets. Selector waves claim their
-- sites first (a site belongs to the first selector wave that matches it);
-- the rest are ordered by a stable hash of (site, bundle) and shared out
-- by the percent waves: percent is cumulative, so a wave of percent p
-- holds the first ceil(p% of the rest) of that order less what earlier
-- percent waves hold. Sites no wave holds join the last wave.
--
-- Opening. Wave 1 opens at the revision's commit time. Wave j+1 opens
-- when wave j reached its quorum (minSuccess of its sites succeeded on
-- the revision: the time is the finish of the report that made the
-- quorum, i.e. when their smoke tests passed) plus wave j's soak; and
-- only while the failures of all waves before it stay within
-- maxFailures. Past that the rollout is halted for every later wave until
-- a new commit (a new revision starts over). Without peers' reports
-- (peers = nil: the status branches cannot be read) health is unknown:
-- whenUnknown wait holds every wave after the first, proceed opens them
-- by the soaks alone (commit time plus the soaks before).
local site = require "kedge.site"
local report = require "kedge.report"

local M = {}

-- A bundle's report status that is a success, and one that is a failure;
-- anything else (held, skipped, pending) is not decided yet.
local SUCCESS = {ok = true, passed = true, unchanged = true}

local function stamp(t) return os.date("!%Y-%m-%dT%H:%M:%SZ", t) end

-- The hash that orders the percent waves: FNV-1a of "site/bundle", as hex.
function M.position(site_name, bundle_name)
  return report.fnv(site_name .. "/" .. bundle_name)
end

-- The sites in the order the percent waves take them.
function M.order(names, bundle_name)
  local keyed = {}
  for _, n in ipairs(names) do keyed[#keyed + 1] = {n = n, h = M.position(n, bundle_name)} end
  table.sort(keyed, function(a, b)
    if a.h ~= b.h then return a.h < b.h end
    return a.n < b.n
  end)
  local out = {}
  for i, k in ipairs(keyed) do out[i] = k.n end
  return out
end

-- {{name=, labels=}} (the bundle's sites) -> the waves' site lists and
-- site -> wave index.
function M.assign(sites, bundle)
  local waves, site_wave = bundle.rollout.waves, {}
  local lists = {}
  for k = 1, #waves do lists[k] = {} end
  local rest = {}
  for _, s in ipairs(sites) do
    for k, w in ipairs(waves) do
      if w.selector and site.matches(w.selector, s.labels or {}) then
        site_wave[s.name] = k
        break
      end
    end
    if not site_wave[s.name] then rest[#rest + 1] = s.name end
  end
  local order, taken = M.order(rest, bundle.name), 0
  for k, w in ipairs(waves) do
    if w.percent then
      local upto = (w.percent * #order + 99) // 100
      for i = taken + 1, upto do site_wave[order[i]] = k end
      taken = math.max(taken, upto)
    end
  end
  for i = taken + 1, #order do site_wave[order[i]] = #waves end
  for _, s in ipairs(sites) do
    local l = lists[site_wave[s.name]]
    l[#l + 1] = s.name
  end
  return lists, site_wave
end

-- What a site's reports say of the bundle on the revision: {state =
-- "success"|"failed"|"pending", at = when it first succeeded, finished =
-- its newest report's time, error =}. docs: the site's reports, any order;
-- those of other commits, and those finished after now (a peer's clock
-- ahead of ours; or kedge rollout status --at a past time), do not count.
function M.outcome(docs, bundle_name, commit_id, now)
  local newest, newest_t, first_ok
  for _, d in ipairs(docs or {}) do
    local t = type(d) == "table" and report.parse_time(tostring(d.finished or "")) or nil
    if t and d.commit == commit_id and (not now or t <= now) then
      local b
      for _, x in ipairs(type(d.bundles) == "table" and d.bundles or {}) do
        if type(x) == "table" and x.name == bundle_name then b = x end
      end
      if b then
        local failed = b.status == "failed"
        for _, s in ipairs(type(b.smoke) == "table" and b.smoke or {}) do
          if type(s) == "table" and s.status == "failed" then failed = true end
        end
        local st = failed and "failed" or SUCCESS[b.status] and "success" or "pending"
        if st == "success" and (not first_ok or t < first_ok) then first_ok = t end
        if not newest_t or t > newest_t then
          newest_t = t
          local e = type(b.errors) == "table" and b.errors[1] or nil
          newest = {state = st, finished = t, error = e and tostring(e) or nil}
        end
      end
    end
  end
  if not newest then return {state = "pending"} end
  newest.at = newest.state == "success" and first_ok or nil
  return newest
end

-- Counts wave w's outcomes; returns when its quorum succeeded (its soak
-- starts then), or nil (not yet, or not known).
local function wave_stats(w, o, health)
  w.outcomes, w.succeeded, w.failed = {}, 0, 0
  local times = {}
  for _, n in ipairs(w.sites) do
    local r = o.peers and M.outcome(o.peers[n], o.bundle.name, o.commit.id, o.now) or {state = "pending"}
    w.outcomes[n] = r
    if r.state == "success" then
      w.succeeded = w.succeeded + 1
      times[#times + 1] = r.at
    elseif r.state == "failed" then
      w.failed = w.failed + 1
    end
  end
  table.sort(times)
  w.quorum = (health.min_success * #w.sites + 99) // 100
  if not w.opens then return nil end
  if w.quorum == 0 then return w.opens end
  if not o.peers then return health.when_unknown == "proceed" and w.opens or nil end
  local t = times[w.quorum]
  return t and math.max(t, w.opens) or nil
end

-- The decision for one bundle at o.now: see the header.
function M.plan(o)
  local b = o.bundle
  assert(b and b.rollout, "waves.plan: a bundle with rollout")
  local health = b.rollout.health
  local lists, site_wave = M.assign(o.sites, b)
  local plan = {bundle = b.name, commit = o.commit.id, commit_time = o.commit.time, now = o.now,
    unknown = o.peers == nil, health = health, waves = {}, site_wave = site_wave}
  local opens, failures, blocked, halted_by = o.commit.time, 0, nil, nil
  for k, spec in ipairs(b.rollout.waves) do
    local w = {name = spec.name, index = k, soak = spec.soak, sites = lists[k], opens = opens}
    plan.waves[k] = w
    local passed = wave_stats(w, o, health)
    if halted_by then w.state, w.halted_by = "halted", halted_by
    elseif blocked then
      -- behind an open wave short of its quorum: waiting on health;
      -- behind one not open yet: not yet, at a time nobody knows yet
      w.waits_on = blocked
      w.state = plan.waves[blocked.wave].state == "open" and "waiting" or "not yet"
    elseif o.now < opens then w.state = "not yet"
    elseif passed then
      w.passed = passed
      w.state = o.now < passed + spec.soak and "soaking" or "done"
    else w.state = "open" end
    failures = failures + w.failed
    if failures > health.max_failures and not halted_by then halted_by = {wave = k} end
    if passed then opens = passed + spec.soak
    else opens, blocked = nil, {wave = k} end
  end
  plan.failures, plan.halted = failures, halted_by ~= nil
  return plan
end

-- The waves before k with failures, as "2 of 5 canary sites" or "3 of 12
-- sites in canary, early".
local function failed_text(plan, k)
  local names, failed, total = {}, 0, 0
  for j = 1, k do
    local w = plan.waves[j]
    total = total + #w.sites
    if w.failed > 0 then names[#names + 1] = w.name; failed = failed + w.failed end
  end
  if #names == 1 then
    local w
    for j = 1, k do if plan.waves[j].name == names[1] then w = plan.waves[j] end end
    return string.format("%d of %d %s sites", failed, #w.sites, names[1])
  end
  return string.format("%d of %d sites in %s", failed, total, table.concat(names, ", "))
end

-- One line on why wave k does not open yet (nil when it is open).
function M.why(plan, k)
  local w, n = plan.waves[k], #plan.waves
  local label = string.format("wave %s (%d/%d)", w.name, k, n)
  local rev = plan.commit:sub(1, 7)
  if w.state == "halted" then
    return string.format("rollout halted: %s failed on %s (maxFailures %d); a new commit starts it over",
      failed_text(plan, w.halted_by.wave), rev, plan.health.max_failures)
  elseif w.state == "waiting" then
    local prev = plan.waves[w.waits_on.wave]
    if plan.unknown then
      return string.format("%s waits: the peers' reports cannot be read, so %s's health is unknown " ..
        "(health.whenUnknown: wait)", label, prev.name)
    end
    return string.format("%s waits on health: %d of %d %s sites succeeded on %s, %d needed (minSuccess %d%%)",
      label, prev.succeeded, #prev.sites, prev.name, rev, prev.quorum, plan.health.min_success)
  elseif w.state == "not yet" and not w.opens then
    local prev = plan.waves[w.waits_on.wave]
    return string.format("%s opens after wave %s (%d/%d), which has not opened yet", label, prev.name,
      prev.index, n)
  elseif w.state == "not yet" then
    local prev = plan.waves[k - 1]
    if not prev then return string.format("%s opens at %s (the commit's time)", label, stamp(w.opens)) end
    return string.format("%s opens at %s after %s's %s soak", label, stamp(w.opens), prev.name,
      M.duration_text(prev.soak))
  end
  return nil
end

-- 7200 -> "2h", 5400 -> "1h30m", 0 -> "0s"
function M.duration_text(sec)
  if sec == 0 then return "0s" end
  local out = {}
  local h, m, s = sec // 3600, sec % 3600 // 60, sec % 60
  if h > 0 then out[#out + 1] = h .. "h" end
  if m > 0 then out[#out + 1] = m .. "m" end
  if s > 0 then out[#out + 1] = s .. "s" end
  return table.concat(out)
end

-- The gate's answer for a site: nil when its wave is open (or it is not
-- in the rollout), else {reason=, until=}.
function M.gate(plan, site_name)
  local k = plan.site_wave[site_name]
  if not k then return nil end
  local w = plan.waves[k]
  if w.state == "open" or w.state == "soaking" or w.state == "done" then return nil end
  return {reason = M.why(plan, k), ["until"] = w.state == "not yet" and w.opens or nil}
end

-- A site's smoke reruns while it soaks (a wave's soak: {duration:,
-- smoke: every ...}): spec is the site's wave, since when the site's smoke
-- tests first passed on the revision (nil: they have not yet; this pass
-- may be the first, so the soak would start now). Returns nil (no rerun:
-- the wave reruns nothing, or the soak is over), or {["until"] = when the
-- soak ends, every =, next = the next rerun (at the soak's end at the
-- latest, so the last one checks the site as the soak ends)}.
function M.soak_reruns(spec, since, now)
  if not (spec and spec.smoke_every) then return nil end
  local ends = (since or now) + spec.soak
  if now >= ends then return nil end
  return {["until"] = ends, every = spec.smoke_every, next = math.min(now + spec.smoke_every, ends)}
end

-- A site's state in the plan: done, soaking, applying (its wave is open,
-- no result yet), failed, or its wave's state (not yet, waiting on health,
-- halted).
function M.site_state(plan, site_name)
  local w = plan.waves[plan.site_wave[site_name]]
  local r = w.outcomes[site_name]
  if r.state == "failed" then return "failed" end
  if r.state == "success" then
    return plan.now < r.at + w.soak and "soaking" or "done"
  end
  if w.state == "waiting" then return "waiting on health" end
  if w.state == "halted" or w.state == "not yet" then return w.state end
  return "applying"
end

return M

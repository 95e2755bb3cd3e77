-- kedge.fleet: the fleet at a glance from Git alone. The desired state
-- (the config repo at a ref: each site's bundles and their chart versions)
-- is joined with the newest report each site pushed to its status branch
-- (kedge/status/<site>), read straight from the repository's objects.
--
--   local model = fleet.collect{store = s, commit = id, tree = t, now = os.time()}
--
-- A site is ok (its newest report says ok and is recent), failing (the
-- report says otherwise), stale (the report is older than the stale
-- bound) or never (no report). The model is plain data: kedge fleet
-- status prints it, encodes it as JSON, or makes the dashboard from it.
local json = require "kedge.json"
local yaml = require "kedge.yaml"
local limits = require "kedge.limits"
local report = require "kedge.report"
local site = require "kedge.site"
local kedge = require "kedge"

local M = {}

M.BRANCH_PREFIX = "kedge/status/"
-- A status branch's report bigger than this is skipped (a site cannot
-- make the fleet view read megabytes); reports named per site at most.
M.MAX_REPORT_BYTES = limits.fleet_report_bytes
M.HISTORY = limits.fleet_history
-- Without an agent interval in the report, a report is stale after this.
M.DEFAULT_STALE = 3 * 900
M.STATES = {"ok", "failing", "stale", "never"}

local STAMP = "%-(%d%d%d%d%d%d%d%dT%d%d%d%d%d%dZ)%-"

local parse_time = report.parse_time

-- ---- the desired state ------------------------------------------------------

-- The chart's version from its Chart.yaml (a folder) or its file name
-- (NAME-VERSION.tgz); "?" when neither says.
local function chart_version(tree, path, memo)
  if memo[path] then return memo[path] end
  local v = "?"
  if path:match("%.tgz$") then
    v = path:match("%-(%d+%.%d+%.%d+[%w%.%-+]*)%.tgz$") or "?"
  else
    local text = tree:read(path .. "/Chart.yaml")
    local ok, doc = pcall(function() return text and yaml.decode(text) end)
    if ok and type(doc) == "table" and doc.version ~= nil then v = tostring(doc.version) end
  end
  memo[path] = v
  return v
end

-- Most sites select the same bundles: one list (read-only) serves them all.
local function shared(lists, bundles)
  local key = {}
  for i, b in ipairs(bundles) do key[i] = b.name .. "\0" .. tostring(b.chart) .. "\0" .. b.version end
  key = table.concat(key, "\n")
  lists[key] = lists[key] or bundles
  return lists[key]
end

-- site name -> {labels=, bundles={{name=, chart=, version=}}, error=}, and
-- the loaded repo (nil, problems when it does not load).
function M.desired(tree)
  local repo, err = site.load(tree)
  if not repo then return nil, err end
  local out, memo, lists = {}, {}, {}
  for _, name in ipairs(repo.site_names) do
    local s = repo.sites[name]
    local d = {labels = s.labels or {}, bundles = {}}
    local list, serr = site.select(repo, name)
    if not list then
      d.error = serr
    else
      for _, b in ipairs(list) do
        d.bundles[#d.bundles + 1] = {name = b.name, chart = b.chart,
          version = b.chart and chart_version(tree, b.chart, memo) or "?"}
      end
      d.bundles = shared(lists, d.bundles)
    end
    out[name] = d
  end
  return out, repo
end

-- ---- the reports ---------------------------------------------------------------

-- The report files of a status branch, newest first (by the stamp in the id).
local function report_files(store, branch)
  local ents, err = store:list(branch, "reports")
  if not ents then return nil, err end
  local files = {}
  for _, e in ipairs(ents) do
    local id = e.type == "file" and e.name:match("^(.+)%.json$")
    if id then files[#files + 1] = {id = id, stamp = id:match(STAMP) or ""} end
  end
  table.sort(files, function(a, b)
    if a.stamp ~= b.stamp then return a.stamp > b.stamp end
    return a.id > b.id
  end)
  return files
end

local function read_report(store, branch, id)
  local text, err = store:read(branch, "reports/" .. id .. ".json", M.MAX_REPORT_BYTES)
  if not text then return nil, err end
  local ok, doc, derr = pcall(json.decode, text)
  if not ok or doc == nil then return nil, "not JSON: " .. tostring(derr or doc) end
  if type(doc) ~= "table" or doc.kind ~= "report" or type(doc.result) ~= "string" then
    return nil, "not a kedge report (no kind: report with a result)"
  end
  return doc
end

-- Every status branch: site -> {branch=, pushed=, history={ids}, files=},
-- and the branches whose reports cannot be listed ({site=, file=,
-- reason=}). Reports are read one site at a time (newest), so the fleet's
-- 5,000 documents are never held at once.
function M.reports(store)
  local branches, broken = store:branches(M.BRANCH_PREFIX)
  local by_site, skipped = {}, {}
  for _, br in ipairs(branches) do
    local name = br.name:sub(#M.BRANCH_PREFIX + 1)
    local files, err = report_files(store, br.name)
    local entry = {branch = br.name, pushed = br.time, history = {}, files = files or {}}
    if not files then
      skipped[#skipped + 1] = {site = name, file = br.name, reason = err}
    else
      for i = 1, math.min(#files, M.HISTORY) do entry.history[i] = files[i].id end
    end
    by_site[name] = entry
  end
  return by_site, skipped, broken
end

-- The reports some sites pushed about one commit, for the release
-- policy's waves (kedge.waves): site -> {doc, ...}, at most the newest
-- and the two oldest of that commit per site (the newest decides, the
-- oldest success starts a soak), chosen by their ids alone; and the
-- skipped ones ({site=, file=, reason=}). nil when no status branch is
-- there at all (the peers are unknown: an air gap, or reports that go
-- elsewhere).
function M.commit_reports(store, names, commit_id)
  local branches = store:branches(M.BRANCH_PREFIX)
  if #branches == 0 then return nil, {} end
  local have = {}
  for _, br in ipairs(branches) do have[br.name] = true end
  local tag = "%-" .. commit_id:sub(1, 7):gsub("%W", "%%%0") .. "%-"
  local by_site, skipped = {}, {}
  for _, name in ipairs(names) do
    local branch = M.BRANCH_PREFIX .. name
    local files = have[branch] and report_files(store, branch) or {}
    local mine = {}
    for _, f in ipairs(files) do if f.id:find(tag) then mine[#mine + 1] = f end end
    local pick = {mine[1], mine[#mine] ~= mine[1] and mine[#mine] or nil,
      #mine > 2 and mine[#mine - 1] or nil}
    local docs = {}
    for _, f in pairs(pick) do
      local doc, err = read_report(store, branch, f.id)
      if doc then docs[#docs + 1] = doc
      else skipped[#skipped + 1] = {site = name, file = branch .. ":reports/" .. f.id .. ".json", reason = err} end
    end
    by_site[name] = docs
  end
  return by_site, skipped
end

-- The newest readable report of a status branch (a corrupt or huge one
-- falls back to the one before), the unreadable ones added to skipped.
function M.newest(store, name, entry, skipped)
  for i = 1, math.min(#entry.files, 3) do
    local id = entry.files[i].id
    local doc, rerr = read_report(store, entry.branch, id)
    if doc then return doc end
    skipped[#skipped + 1] = {site = name, file = entry.branch .. ":reports/" .. id .. ".json",
      reason = rerr}
  end
  return nil
end

-- ---- the join --------------------------------------------------------------------

local function first_failure(doc)
  for _, b in ipairs(doc.bundles or {}) do
    if b.status ~= "ok" and b.status ~= "unchanged" and b.status ~= "skipped" then
      local e = type(b.errors) == "table" and b.errors[1] or nil
      if not e then
        for _, s in ipairs(b.smoke or {}) do
          if s.status == "failed" then e = "smoke " .. tostring(s.name) .. ": " .. tostring(s.message) end
        end
      end
      if e or doc.result ~= "ok" then return b.name, e end
    end
  end
  return nil, type(doc.errors) == "table" and doc.errors[1] or nil
end

-- The first Degraded answer of a repo's health script among the bundles,
-- as "bundle: Kind ns/name: message".
local function first_degraded(bundles)
  for _, b in ipairs(bundles) do
    for _, h in ipairs(b.health or {}) do
      if h.status == "Degraded" then
        return string.format("%s: %s %s%s: %s", tostring(b.name), tostring(h.kind),
          h.namespace and (tostring(h.namespace) .. "/") or "", tostring(h.name), tostring(h.message or ""))
      end
    end
  end
  return nil
end

-- v's items (each(x) of them when given) as a list; nil for an empty or
-- non-list v: the model and the dashboard leave empty lists out.
function M.list_of(v, each)
  if type(v) ~= "table" or #v == 0 then return nil end
  local out = {}
  for i, x in ipairs(v) do out[i] = each and each(x) or x end
  return kedge.list(out)
end

local function nonzero(n) return n ~= 0 and n or nil end

local function slim_smoke(x)
  if type(x) ~= "table" then return {message = tostring(x)} end
  return {name = x.name, kind = x.kind, status = x.status, duration = x.duration, message = x.message}
end

local function slim_health(list)
  local out = {}
  for _, h in ipairs(type(list) == "table" and list or {}) do
    if type(h) == "table" and h.status ~= "Healthy" then
      out[#out + 1] = {kind = h.kind, namespace = h.namespace, name = h.name, status = h.status,
        message = h.message}
    end
  end
  return M.list_of(out)
end

-- What the model keeps of a report's bundles: the site's words as given
-- (any type), without object names, budgets, drift or smoke output, and
-- of the health scripts' answers only those not Healthy.
local function slim_bundle(b)
  if type(b) ~= "table" then return {name = tostring(b)} end
  return {name = b.name, version = b.version, status = b.status,
    created = nonzero(b.created), updated = nonzero(b.updated), unchanged = nonzero(b.unchanged),
    pruned = nonzero(b.pruned), errors = M.list_of(b.errors), smoke = M.list_of(b.smoke, slim_smoke),
    health = slim_health(b.health)}
end

-- States bundles may hold that are not failures (release policy).
local HELD = {held = true, paused = true, waiting = true, window = true}

local function held_of(doc)
  local out = {}
  for _, b in ipairs(doc.bundles or {}) do
    if HELD[b.status] then
      out[#out + 1] = b.name .. " " .. b.status .. (b.reason and (": " .. tostring(b.reason)) or "")
    end
  end
  return out
end

local function stale_after(o, doc)
  if o.stale then return o.stale end
  local a = type(doc.agent) == "table" and doc.agent or {}
  local every = math.max(tonumber(a.interval) or 0, tonumber(a.drift_interval) or 0)
  return every > 0 and 3 * every or M.DEFAULT_STALE
end

local function relation(o, commit, memo)
  if not commit then return {state = "none"} end
  if commit == o.commit then return {state = "current"} end
  if memo[commit] then return memo[commit] end
  local ahead, behind = o.store:ahead_behind(commit, o.commit)
  local r
  if not ahead then r = {state = "unknown"}
  elseif ahead > 0 and behind == 0 then r = {state = "ahead", by = ahead}
  elseif behind > 0 and ahead == 0 then r = {state = "behind", by = behind}
  else r = {state = "diverged", ahead = ahead, behind = behind} end
  memo[commit] = r
  return r
end

local function site_entry(o, name, want, got, memo, skipped)
  local e = {name = name, labels = want and want.labels or {}, history = got and got.history or {},
    desired = {bundles = want and want.bundles or {}, error = want and want.error}}
  local doc = got and M.newest(o.store, name, got, skipped)
  if not doc then
    e.state = "never"
    return e
  end
  local t = parse_time(doc.finished) or parse_time(doc.started)
  e.report = {id = doc.id, result = doc.result, finished = doc.finished, commit = doc.commit,
    age = t and math.max(0, o.now - t) or nil, kedge = type(doc.kedge) == "table" and doc.kedge.version or nil,
    bundles = M.list_of(doc.bundles, slim_bundle) or kedge.list({}), errors = doc.errors or {},
    smoke = doc.smoke}
  e.commit = relation(o, doc.commit, memo)
  e.failing_bundle, e.first_error = first_failure(doc)
  e.degraded = first_degraded(e.report.bundles)
  e.held = held_of(doc)
  e.stale_after = stale_after(o, doc)
  if doc.result ~= "ok" then e.state = "failing"
  elseif not e.report.age or e.report.age > e.stale_after then e.state = "stale"
  else e.state = "ok" end
  return e
end

-- A glob (* and ?) as an anchored Lua pattern.
function M.glob(g)
  return "^" .. g:gsub("[%^%$%(%)%%%.%[%]%+%-]", "%%%0"):gsub("%*", ".*"):gsub("%?", ".") .. "$"
end

-- site_pattern: M.glob of o.site, made once per collect
local function wanted(e, o, site_pattern)
  if site_pattern and not e.name:match(site_pattern) then return false end
  if not o.bundle then return true end
  for _, b in ipairs(e.desired.bundles) do if b.name == o.bundle then return true end end
  for _, b in ipairs(e.report and e.report.bundles or {}) do if b.name == o.bundle then return true end end
  return false
end

-- Per bundle: the version the repo wants on how many sites, and the
-- versions the sites' reports say they run, counted a site at a time.
local function count_bundles(by, e)
  local function get(n)
    by[n] = by[n] or {name = n, want = {}, running = {}}
    return by[n]
  end
  for _, b in ipairs(e.desired.bundles) do
    local s = get(b.name)
    s.want[b.version] = (s.want[b.version] or 0) + 1
  end
  for _, b in ipairs(e.report and e.report.bundles or {}) do
    if type(b.name) == "string" then
      local s = get(b.name)
      local v = tostring(b.version or "?")
      s.running[v] = (s.running[v] or 0) + 1
    end
  end
end

local function bundle_summary(by, o)
  local out = {}
  for n, s in pairs(by) do
    if not o.bundle or n == o.bundle then out[#out + 1] = s end
  end
  table.sort(out, function(a, b) return a.name < b.name end)
  return out
end

-- The whole model. o: store, commit (the desired commit id), commit_time,
-- tree (read/list at that commit), now, and the filters site (glob),
-- bundle, stale (seconds, or nil for each report's own bound). With
-- o.each, every site shown is handed to o.each(entry, "sites" or
-- "unknown_sites") as soon as it is made, in the order of the lists, and
-- the model's lists stay empty: 5,000 sites are never held at once.
function M.collect(o)
  local want, repo_or_err = M.desired(o.tree)
  if not want then return nil, repo_or_err end
  local got, skipped, broken = M.reports(o.store)
  local model = {commit = o.commit, commit_time = o.commit_time, generated = o.now,
    sites = kedge.list({}), unknown_sites = kedge.list({}), skipped = kedge.list(skipped),
    broken_branches = broken, summary = {sites = 0, ok = 0, failing = 0, stale = 0, never = 0,
    unknown = 0}}
  local memo, pat, by = {}, o.site and M.glob(o.site), {}
  local function add(e, key)
    if not wanted(e, o, pat) then return end
    if key == "sites" then
      model.summary.sites = model.summary.sites + 1
      model.summary[e.state] = model.summary[e.state] + 1
      count_bundles(by, e)
    else
      model.summary.unknown = model.summary.unknown + 1
    end
    if o.each then o.each(e, key) else model[key][#model[key] + 1] = e end
  end
  for _, name in ipairs(repo_or_err.site_names) do
    add(site_entry(o, name, want[name], got[name], memo, skipped), "sites")
    want[name], got[name] = nil, got[name] and false
  end
  local extra = {}
  for name, g in pairs(got) do if g then extra[#extra + 1] = name end end
  table.sort(extra)
  for _, name in ipairs(extra) do
    add(site_entry(o, name, nil, got[name], memo, skipped), "unknown_sites")
    got[name] = false
  end
  model.summary.skipped = #skipped
  model.bundles = kedge.list(bundle_summary(by, o))
  return model
end

return M

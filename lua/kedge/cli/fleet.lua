-- kedge fleet status: the fleet's state from the config repo and the
-- reports its sites pushed to status branches (kedge.fleet's model), for
-- a person, as JSON, or as a self-contained HTML dashboard.
local fleet = require "kedge.fleet"
local core = require "kedge.core"
local git = require "kedge.git"
local json = require "kedge.json"
local kos = require "kedge.os"

local M = {}

M.EXIT = {ok = 0, failing = 1, usage = 2, stale = 3}

local function usage(msg)
  io.stderr:write(string.format("kedge fleet: %s (see 'kedge help fleet')\n", msg))
  return M.EXIT.usage
end

local function fail(msg)
  io.stderr:write("kedge fleet: ", msg, "\n")
  return M.EXIT.failing
end

local function is_dir(p)
  local st = kos.stat(p)
  return st and st.type == "dir"
end

local function is_url(s)
  return s:match("^%a[%w+.-]*://") ~= nil or s:match("^[%w._-]+@[%w._-]+:") ~= nil
end

-- The repository to read: a folder opened in place, or a URL synced into
-- a state directory (its mirror holds every branch, status ones too).
function M.open_source(o)
  if not is_url(o.repo) then
    if not is_dir(o.repo) then return nil, "--repo " .. o.repo .. ": no such folder" end
    local store, err = git.store(o.repo)
    if not store then return nil, "--repo " .. o.repo .. ": " .. err end
    local c, rerr = store:resolve(o.ref)
    if not c then return nil, string.format("--ref %s in %s: %s", o.ref, o.repo, rerr) end
    return {store = store, commit = c.commit, commit_time = c.time}
  end
  local base = os.getenv("KEDGE_CACHE") or ((os.getenv("HOME") or "/tmp") .. "/.cache/kedge")
  local state = o.state_dir
  if not state then
    state = base .. "/fleet/" .. require("kedge.report").fnv(o.repo)
    local ok, merr = kos.mkdir(base .. "/fleet")
    if not ok then return nil, merr end
  end
  local sync = require "kedge.cli.sync"
  local ok, cerr = sync.check(o)
  if not ok then return nil, cerr end
  local opts = sync.git_opts(o)
  opts.repo, opts.ref, opts.state = o.repo, o.ref, state
  opts.progress = o.progress == nil and core.isatty(2) or o.progress
  opts.token_env, opts.password_env = "KEDGE_GIT_TOKEN", "KEDGE_GIT_PASSWORD"
  local r, err = git.sync(opts)
  if not r then return nil, err end
  if r.refused then return nil, r.refused end
  local store, serr = git.store(state .. "/mirror.git")
  if not store then return nil, serr end
  local c = store:resolve(r.commit)
  return {store = store, commit = r.commit, commit_time = c and c.time}
end

function M.tree_of(src)
  local s, c = src.store, src.commit
  return {read = function(_, p) return s:read(c, p) end,
    list = function(_, d) return s:list(c, d ~= "." and d or "") end}
end

function M.age(sec)
  if not sec then return "-" end
  if sec < 120 then return string.format("%ds", sec) end
  if sec < 7200 then return string.format("%dm", sec // 60) end
  if sec < 172800 then return string.format("%dh", sec // 3600) end
  return string.format("%dd", sec // 86400)
end

local function commit_text(e)
  local c = e.report and e.report.commit
  if not c then return "-" end
  local r = e.commit or {}
  local rel = r.state == "current" and "current" or r.state == "behind" and ("behind " .. r.by)
    or r.state == "ahead" and ("ahead " .. r.by)
    or r.state == "diverged" and string.format("diverged +%d/-%d", r.ahead, r.behind) or "unknown"
  return c:sub(1, 8) .. " (" .. rel .. ")"
end

local function detail(e)
  local parts = {}
  if e.state == "never" then parts[1] = "never reported" end
  if e.state == "stale" then parts[#parts + 1] = "no report for " .. M.age(e.report.age) end
  if e.report and e.report.result ~= "ok" then parts[#parts + 1] = e.report.result end
  if e.failing_bundle then parts[#parts + 1] = e.failing_bundle end
  if e.first_error then parts[#parts + 1] = tostring(e.first_error):gsub("\n.*", "") end
  if e.degraded then parts[#parts + 1] = "Degraded " .. tostring(e.degraded):gsub("\n.*", "") end
  for _, h in ipairs(e.held or {}) do parts[#parts + 1] = h end
  if e.desired.error then parts[#parts + 1] = "desired state: " .. e.desired.error end
  return table.concat(parts, ": ")
end

local function print_header()
  print(string.format("%-24s %-8s %-7s %-24s %s", "SITE", "STATE", "REPORT", "COMMIT", "DETAIL"))
end

local function versions(map)
  local ks = {}
  for v, n in pairs(map) do ks[#ks + 1] = {v = v, n = n} end
  table.sort(ks, function(a, b) if a.n ~= b.n then return a.n > b.n end return a.v < b.v end)
  local out = {}
  for _, k in ipairs(ks) do out[#out + 1] = string.format("%s on %d", k.v, k.n) end
  return #out > 0 and table.concat(out, ", ") or "none reported"
end

-- The text view, a site as it comes (kedge.fleet.collect's each), the
-- summary at the end.
local function text_out(o)
  local w, open = {}, nil
  local function switch(key)
    if key == "unknown_sites" then
      if not open then print_header() end
      print("\nreports from sites the repo no longer has:")
    end
    print_header()
    open = key
  end
  function w.site(e, key)
    if key ~= open then switch(key) end
    print(string.format("%-24s %-8s %-7s %-24s %s", e.name, e.state,
      e.report and M.age(e.report.age) or "-", commit_text(e), detail(e)))
  end
  function w.finish(m)
    if not open then print_header() end
    local s = m.summary
    print(string.format("\n%d site%s: %d ok, %d failing, %d stale, %d never reported " ..
      "(desired: %s at %s)", s.sites, s.sites == 1 and "" or "s", s.ok, s.failing, s.stale, s.never,
      m.commit:sub(1, 12), o.ref))
    for _, b in ipairs(m.bundles) do
      print(string.format("bundle %s: wanted %s; running %s", b.name, versions(b.want), versions(b.running)))
    end
    for _, k in ipairs(m.skipped) do
      io.stderr:write(string.format("warning: skipped %s: %s\n", k.file, k.reason))
    end
    if (m.broken_branches or 0) > 0 then
      io.stderr:write(string.format("warning: %d status branch%s name no commit\n", m.broken_branches,
        m.broken_branches == 1 and "" or "es"))
    end
  end
  return w
end

-- The model as JSON, a site at a time as it comes: one encode of 5,000
-- sites would hold the whole model, the encoder's copy and the text at once.
local function json_out()
  local w, open, n = {}, nil, 0
  local function switch(key)
    if open then io.write(n > 0 and "\n  ],\n" or "],\n") else io.write("{\n") end
    io.write('  "', key, '": [')
    open, n = key, 0
  end
  function w.site(e, key)
    if key ~= open then
      if key == "unknown_sites" and not open then switch("sites") end
      switch(key)
    end
    io.write(n > 0 and ",\n" or "\n", json.encode(e, {indent = 2, sort_keys = true}))
    n = n + 1
  end
  function w.finish(m)
    if not open then switch("sites") end
    if open == "sites" then switch("unknown_sites") end
    io.write(n > 0 and "\n  ],\n" or "],\n")
    m.sites, m.unknown_sites = nil, nil
    io.write(json.encode(m, {indent = 2, sort_keys = true}):sub(3), "\n")
  end
  return w
end

local function exit_code(m)
  if m.summary.failing > 0 then return M.EXIT.failing end
  if m.summary.stale > 0 or m.summary.never > 0 then return M.EXIT.stale end
  return M.EXIT.ok
end

function M.main(o, args)
  if args[1] ~= "status" then return usage("give status (kedge fleet status --repo URL|PATH)") end
  if #args > 1 then return usage("status takes no argument: " .. args[2]) end
  if not o.repo then return usage("--repo is required (the config repo: a URL or a folder)") end
  local src, err = M.open_source(o)
  if not src then return fail(err) end
  -- each site goes to the outputs as it is made, and is dropped then
  local outs = {o.json and json_out() or text_out(o)}
  local page = o.html and require("kedge.fleethtml").new()
  if page then outs[2] = page end
  local m, cerr = fleet.collect{store = src.store, commit = src.commit, commit_time = src.commit_time,
    tree = M.tree_of(src), now = os.time(), site = o.site, bundle = o.bundle, stale = o.stale,
    each = function(e, key) for _, w in ipairs(outs) do w.site(e, key) end end}
  src.store:close()
  if not m then return fail("the config repo at " .. src.commit:sub(1, 12) .. " does not load:\n" .. cerr) end
  m.repo, m.ref = o.repo, o.ref
  if page then
    local ok, werr = kos.write_atomic(o.html, page.finish(m), 420)
    if not ok then return fail("--html " .. o.html .. ": " .. tostring(werr)) end
  end
  outs[1].finish(m)
  io.stdout:flush()
  return exit_code(m)
end

return M

-- kedge.checkcli: `kedge check`, everything about a config repo that needs
-- no cluster -- load and validate, select, render with each site's
-- Kubernetes version (values schemas included) -- for the repo's own CI.
-- It reads a plain checkout and writes nothing. The command table
-- (kedge.cli) calls main(options) and exits with the number returned.
local site = require "kedge.site"
local budget = require "kedge.budget"
local json = require "kedge.json"
local kedge = require "kedge"

local M = {}

M.EXIT = {ok = 0, problems = 1, usage = 2}

local function usage(msg) return require("kedge.passcli").usage("check", msg) end

-- A failure of site.select or site.render → a problem table: with file,
-- line and col when the error value e has them (other texts keep file nil).
local function problem(text, site_name, e)
  if e and e.line then
    return {file = e.file, line = e.line, col = e.col, message = e.msg, site = site_name}
  end
  return {message = text, site = site_name}
end

local function show(p)
  if p.file and not p.line then return p.file .. ": " .. p.message end
  if p.file then return string.format("%s:%d:%d: %s", p.file, p.line, p.col, p.message) end
  return p.message
end

-- Without a key: each encrypted file the site uses must be an age file
-- encrypted to every recipient the site declares.
local function check_recipients(repo, s, list, res)
  local files = site.secret_files(s, list)
  if #files == 0 then return end
  local age = require "kedge.age"
  if #s.recipients == 0 then
    res.problems[#res.problems + 1] = {file = s.file, site = s.name, message = string.format(
      "site %s uses encrypted files (%s) but declares no recipients: add recipients: [age1...] " ..
      "(its identity's public key, kedge keygen prints it)", s.name, table.concat(files, ", "))}
    return
  end
  for _, f in ipairs(files) do
    local bytes = repo.tree:read(f)
    local info, ierr = bytes and age.inspect(bytes)
    if not info then
      res.problems[#res.problems + 1] = {file = f, site = s.name,
        message = "not a valid age file: " .. tostring(ierr)}
    else
      for _, r in ipairs(s.recipients) do
        local has = age.has_recipient(bytes, r)
        if has == false then
          res.problems[#res.problems + 1] = {file = s.file, site = s.name, message = string.format(
            "%s is not encrypted to %s's recipient %s; run kedge rekey", f, s.name, r)}
        elseif has == nil then
          res.warnings[#res.warnings + 1] = string.format("%s: cannot tell whether it is encrypted " ..
            "to %s's recipient %s (made by another tool: no kedge-hint); kedge rekey rewrites it", f, s.name, r)
        end
      end
    end
  end
end

-- The images the site's rendered bundles need (kedge.preflight's list:
-- {{ref, digest, bundles}}), into res.images; a reference that does not
-- parse is a problem of its bundle's file.
local function site_images(list, rendered, res)
  local preflight = require "kedge.preflight"
  local objects, done = {}, {}
  for _, r in ipairs(rendered) do objects[r.bundle] = r.objects end
  for _, b in ipairs(list) do
    if objects[b.name] then done[#done + 1] = b end
  end
  local imgs, err, b = preflight.needed(done, objects)
  if not imgs then
    res.problems[#res.problems + 1] = {file = b.file, message = err, site = res.name}
    return
  end
  res.images = kedge.list(imgs)
end

-- The bundles a pass would hold now by what the repo says (its pauses
-- and deployment windows: kedge.gates.ask_repo), as {{bundle, gate,
-- reason, until = ISO 8601|nil}}; waves and downgrades depend on the
-- site's state and its peers' reports, which a check does not have.
local function held_now(repo, s, name, list, res)
  local gates = require "kedge.gates"
  local ctx = {site = s, site_name = name, repo = repo, now = os.time(), opts = {}, good = {}}
  local out = kedge.list({})
  for _, b in ipairs(list) do
    local h, err = gates.ask_repo(ctx, b)
    if err then res.warnings[#res.warnings + 1] = "bundle " .. b.name .. ": " .. err end
    if h then
      out[#out + 1] = {bundle = b.name, gate = h.gate, reason = h.reason,
        ["until"] = h["until"] and os.date("!%Y-%m-%dT%H:%M:%SZ", h["until"]) or nil}
    end
  end
  return out
end

-- Checks one site: select, then render every selected bundle. Returns
-- {name=, ok=, bundles={{name=, chart=, version=, objects=}}, problems=,
-- images= (with_images, or when the site requires them present)}.
local function check_site(repo, name, dec, charts, with_images)
  local res = {name = name, bundles = kedge.list({}), problems = kedge.list({}),
    warnings = kedge.list({}), secrets_left_out = kedge.list({})}
  local list, err, e = site.select(repo, name)
  if not list then
    res.problems[#res.problems + 1] = problem(err, name, e)
    res.ok = false
    return res
  end
  local s = repo.sites[name]
  res.kube_version = s.kube_version
  check_recipients(repo, s, list, res)
  res.held = held_now(repo, s, name, list, res)
  local rendered = {}
  for _, b in ipairs(list) do
    local r, rerr, re = site.render(repo, s, b, {decrypt = dec, skipped = res.secrets_left_out,
      charts = charts})
    local entry = {name = b.name, chart = b.chart}
    if r then
      entry.version = r.chart.version
      entry.objects = #r.objects
      rendered[#rendered + 1] = {bundle = b.name, objects = r.objects}
    else
      res.problems[#res.problems + 1] = problem(rerr, name, re)
    end
    res.bundles[#res.bundles + 1] = entry
  end
  -- a site that requires its images present needs references that parse
  if with_images or s.images.require == "present" then site_images(list, rendered, res) end
  if not with_images then res.images = nil end
  -- The budget, as the pass would refuse it (only when every bundle
  -- rendered: a partial sum would say nothing).
  if #res.problems == 0 then
    local b = budget.compute(s, rendered)
    res.budget = b
    if not b.fits then
      local short = {}
      for _, dim in ipairs(budget.DIMENSIONS) do
        if b.shortfall[dim] then
          short[#short + 1] = dim .. " short by " .. budget.format(b.shortfall[dim], dim)
        end
      end
      for _, e in ipairs(b.errors) do short[#short + 1] = tostring(e) end
      res.problems[#res.problems + 1] = {file = s.file, message = string.format(
        "the bundles selected for site %s do not fit its capacity minus reserve (%s); a pass would refuse to apply anything",
        name, table.concat(short, "; ")), site = name}
      res.budget_table = budget.table(b)
    end
  end
  res.ok = #res.problems == 0
  return res
end

-- ---- --base REF: chart versions against an earlier commit ----

-- Every file under path in tree, as {relative path = bytes} (a .tgz: its
-- own bytes); nil when the chart is not there.
local function chart_files(tree, path)
  if path:match("%.tgz$") then
    local b = tree:read(path)
    return b and {[""] = b}
  end
  if not tree:read(path .. "/Chart.yaml") then return nil end
  local out = {}
  local function walk(dir)
    for _, e in ipairs(tree:list(dir) or {}) do
      local p = dir .. "/" .. e.name
      if e.type == "dir" then walk(p) elseif e.type ~= "link" then out[p] = tree:read(p) or "" end
    end
  end
  walk(path)
  return out
end

local function same_files(a, b)
  for k, v in pairs(a) do if b[k] ~= v then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

-- The charts the repo's bundles use, each once, sorted.
local function chart_paths(repo)
  local seen, list = {}, {}
  for _, n in ipairs(repo.bundle_names) do
    local c = repo.bundles[n].chart
    if c and not seen[c] then seen[c] = true; list[#list + 1] = c end
  end
  table.sort(list)
  return list
end

-- Problems for the charts changed since base without a version bump and
-- the versions that went down (chart-testing's version-increment check,
-- by Helm's semver order): added to out.problems. Returns nil, err when
-- base cannot be read.
local function check_versions(o, repo, out)
  local git = require "kedge.git"
  local semver = require "kedge.semver"
  local store, err = git.store(o.repo)
  if not store then return nil, "--base needs the repo's git history: " .. err end
  local at, rerr = store:resolve(o.base)
  if not at then store:close(); return nil, "--base " .. o.base .. ": " .. rerr end
  local old = site.store_tree(store, at.commit)
  local short = o.base .. " (" .. at.commit:sub(1, 12) .. ")"
  for _, path in ipairs(chart_paths(repo)) do
    local before = chart_files(old, path)
    local was = before and site.chart_meta(old, path)
    local now, merr = site.chart_meta(repo.tree, path)
    if was and now then
      local file = path:match("%.tgz$") and path or (path .. "/Chart.yaml")
      local c, cerr = semver.compare(now.version, was.version)
      if not c then
        out.problems[#out.problems + 1] = {file = file, message = "chart " .. now.name .. ": " .. cerr}
      elseif c < 0 then
        out.problems[#out.problems + 1] = {file = file, message = string.format(
          "chart %s went down from %s at %s to %s: every site that ran %s would hold it (set a version above %s, or allowDowngrade: true where the downgrade is meant)",
          now.name, was.version, short, now.version, was.version, was.version)}
      elseif c == 0 and not same_files(before, chart_files(repo.tree, path)) then
        out.problems[#out.problems + 1] = {file = file, message = string.format(
          "chart %s changed since %s but its version did not: %s then and now (bump the version in %s above %s)",
          now.name, short, now.version, file, was.version)}
      end
    elseif was and not now then
      out.problems[#out.problems + 1] = {file = path, message = tostring(merr)}
    end
  end
  store:close()
  out.base = {ref = o.base, commit = at.commit}
  return true
end

function M.main(o)
  if o.site and o.all then return usage("give --site NAME or --all-sites, not both") end
  local tree, terr = site.dir_tree(o.repo)
  if not tree then return usage("--repo: " .. terr) end
  local out = {repo = o.repo, sites = kedge.list({}), problems = kedge.list({}),
    warnings = kedge.list({})}
  local repo, _, problems = site.load(tree)
  if not repo then
    out.problems = kedge.list(problems)
  else
    out.warnings = kedge.list(repo.warnings)
    local names = repo.site_names
    if o.site then
      if not repo.sites[o.site] then
        local _, err = site.select(repo, o.site)
        out.problems[1] = problem(err)
        names = {}
      else
        names = {o.site}
      end
    end
    local dec
    if o.identity then
      local derr
      dec, derr = require("kedge.secrets").decryptor{identity = o.identity}
      if not dec then return usage("--identity: " .. derr) end
    end
    -- remote charts: fetched once for every site, cached with --state-dir
    local charts = require("kedge.charts").new{state_dir = o.state_dir,
      registry = {config = o.registry_config, ca_file = o.registry_ca, insecure = o.insecure_registry}}
    if o.base then
      local ok, berr = check_versions(o, repo, out)
      if not ok then tree:close(); return usage(berr) end
    end
    for _, n in ipairs(names) do
      local r = check_site(repo, n, dec, charts, o.images)
      for _, w in ipairs(r.warnings) do out.warnings[#out.warnings + 1] = w end
      out.sites[#out.sites + 1] = r
      for _, p in ipairs(r.problems) do out.problems[#out.problems + 1] = p end
    end
  end
  tree:close()
  out.ok = #out.problems == 0
  if o.json then
    io.write(json.encode(out, {indent = 2}), "\n")
  else
    for _, w in ipairs(out.warnings) do io.stderr:write("warning: ", w, "\n") end
    for _, r in ipairs(out.sites) do
      local parts = {}
      for _, b in ipairs(r.bundles) do
        parts[#parts + 1] = b.objects and string.format("%s %s (%d objects)", b.name,
          b.version, b.objects) or (b.name .. " (failed)")
      end
      print(string.format("%-4s %s (Kubernetes %s): %s%s", r.ok and "ok" or "FAIL", r.name,
        r.kube_version or "?", #parts > 0 and table.concat(parts, ", ") or "no bundles",
        #r.secrets_left_out > 0 and string.format(" [rendered without %d encrypted file%s: no --identity]",
          #r.secrets_left_out, #r.secrets_left_out == 1 and "" or "s") or ""))
      for _, h in ipairs(r.held or {}) do
        print(string.format("     held now: %s (%s): %s%s", h.bundle, h.gate, h.reason,
          h["until"] and (" until " .. h["until"]) or ""))
      end
      for _, im in ipairs(o.images and r.images or {}) do
        print(string.format("     image %s (%s)", im.ref, table.concat(im.bundles, ", ")))
      end
    end
    for _, p in ipairs(out.problems) do io.stderr:write(show(p), "\n") end
    for _, r in ipairs(out.sites) do
      if r.budget_table then io.stderr:write("site ", r.name, ":\n", r.budget_table, "\n") end
    end
    if out.ok then
      print(string.format("%s: %d site%s checked, no problems", o.repo, #out.sites,
        #out.sites == 1 and "" or "s"))
    else
      io.stderr:write(string.format("%s: %d problem%s\n", o.repo, #out.problems,
        #out.problems == 1 and "" or "s"))
    end
  end
  io.stdout:flush()
  return out.ok and M.EXIT.ok or M.EXIT.problems
end

return M

-- kedge.cli.collect: `kedge report collect DIR`, back upstream with a
-- stick. Every report a node left on it (DIR/reports/SITE/, as kedge
-- bootstrap writes them) goes to its site's upstream destinations -- the
-- webhooks and status branches of sites/SITE.yaml in the config repo --
-- each once: markers beside the reports (report.collect) say where each
-- went, so a second collect sends nothing and says so. A `dir:`
-- destination is the node's own (often the stick itself) and is left out.
local kos = require "kedge.os"
local pass = require "kedge.pass"
local report = require "kedge.report"
local site = require "kedge.site"

local M = {}
local EXIT = pass.EXIT

local function say(msg) io.stderr:write("kedge report collect: ", msg, "\n") end

-- The site's destinations that lie upstream (webhook, git-branch).
local function upstream(s)
  local out = {}
  for _, d in ipairs(s.report or {}) do
    if type(d) == "table" and d.dir == nil then out[#out + 1] = d end
  end
  return out
end

-- The site folders under DIR/reports (one of them with --site), or nil
-- and why not.
local function site_folders(root, only)
  local names, err, why = kos.read_dir(root)
  if not names then
    if why == "missing" then
      return nil, root .. " is not there: DIR must be a stick kedge bootstrap wrote reports to " ..
        "(DIR/reports/SITE/*.json)"
    end
    return nil, err
  end
  local out = {}
  for _, n in ipairs(names) do
    local st = kos.stat(root .. "/" .. n)
    if st and st.type == "dir" and (not only or n == only) then out[#out + 1] = n end
  end
  if only and #out == 0 then return nil, root .. "/" .. only .. " is not there: no reports of site " .. only end
  return out
end

-- One site's folder: delivered, and what went wrong named. Returns the
-- summary (nil when the site could not be served) and whether a report
-- is left undelivered for a reason a rerun may cure.
local function collect_site(repo, name, folder, o)
  local s = repo.sites[name]
  if not s then
    say(string.format("%s: no site %s in the config repo (sites/%s.yaml): its reports stay on the stick",
      folder, name, name))
    return nil
  end
  local dests = upstream(s)
  if #dests == 0 then
    say(string.format("%s: site %s lists no webhook or git-branch destination (report: in %s): " ..
      "its reports stay on the stick", folder, name, s.file))
    return nil
  end
  local sum, err = report.collect(folder, name, dests, o.state_dir, {git = pass.git_opts(o)})
  if not sum then
    say(folder .. ": " .. tostring(err))
    return nil
  end
  for _, b in ipairs(sum.bad) do say(b.file .. ": skipped: " .. b.error) end
  for _, f in ipairs(sum.other) do say(f .. ": not a report, left alone") end
  for _, f in ipairs(sum.failed) do say(string.format("%s to %s: %s", f.id, f.destination, f.error)) end
  print(string.format("%s: %d report%s, %d deliver%s, %d delivered before, %d pending%s", name,
    sum.reports, sum.reports == 1 and "" or "s", sum.delivered, sum.delivered == 1 and "y" or "ies",
    sum.already, sum.pending, #sum.bad > 0 and string.format(", %d skipped", #sum.bad) or ""))
  return sum
end

-- o: the parsed options (repo, ref, state_dir, site, git, ...), dir: the
-- stick, P: a pass to sync and read the config repo with.
function M.run(o, dir, P)
  local st = kos.stat(dir)
  if not st or st.type ~= "dir" then
    say(dir .. " is not a folder (is the stick mounted?)")
    return EXIT.failed
  end
  local root = dir .. "/reports"
  local names, nerr = site_folders(root, o.site)
  if not names then say(nerr); return EXIT.failed end
  if not P.sync() then
    say(P.failure.step .. ": " .. P.failure.message)
    return EXIT.failed
  end
  local repo, lerr = site.load(P.tree)
  if not repo then say("the config repo: " .. tostring(lerr)); return EXIT.failed end
  local failed, pending, delivered, reports = false, 0, 0, 0
  for _, name in ipairs(names) do
    local sum = collect_site(repo, name, root .. "/" .. name, o)
    if not sum or #sum.bad > 0 then failed = true end
    if sum then
      pending, delivered, reports = pending + sum.pending, delivered + sum.delivered, reports + sum.reports
    end
  end
  if reports > 0 and delivered == 0 and pending == 0 then
    print(string.format("nothing new: the %d report%s on %s had been delivered before", reports,
      reports == 1 and "" or "s", dir))
  elseif reports == 0 then
    print("no reports on " .. dir)
  end
  if failed then return EXIT.failed end
  if pending > 0 then return EXIT.undelivered end
  return EXIT.ok
end

return M

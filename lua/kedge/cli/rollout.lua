-- kedge rollout status: where each bundle's staged rollout (rollout: in its
-- bundle.yaml) stands, from the config repo and the reports its sites
-- pushed to their status branches, decided as every site decides it
-- (kedge.waves, through the wave gate's own plan) -- now, or at --at TIME.
local wave_gate = require "kedge.gates.wave"
local waves = require "kedge.waves"
local fleetcli = require "kedge.cli.fleet"
local report = require "kedge.report"
local site = require "kedge.site"
local json = require "kedge.json"
local kedge = require "kedge"
local passcli = require "kedge.passcli"

local M = {}

M.EXIT = {ok = 0, halted = 1, usage = 2}

local function usage(msg) return passcli.usage("rollout", msg) end
local function fail(msg) return passcli.fail("rollout", msg) end

local function stamp(t) return t and os.date("!%Y-%m-%dT%H:%M:%SZ", t) or nil end

-- RFC 3339 ("2026-12-07T14:00:00Z", "…T15:00:00.5+01:00") -> epoch, or nil.
function M.parse_time(s)
  local base, frac, zone = s:match("^(%d%d%d%d%-%d%d%-%d%d[Tt ]%d%d:%d%d:%d%d)(%.?%d*)(.*)$")
  if not base or (frac ~= "" and #frac < 2) then return nil end
  local t = report.parse_time(base:gsub("[t ]", "T") .. "Z")
  if not t then return nil end
  if zone == "Z" or zone == "z" then return t end
  local sign, h, m = zone:match("^([+-])(%d%d):(%d%d)$")
  if not sign then return nil end
  local off = tonumber(h) * 3600 + tonumber(m) * 60
  return sign == "+" and t - off or t + off
end

-- One bundle's part of the answer (plain data, as --json prints it).
local function bundle_status(repo, bd, src, now)
  local plan, skipped = wave_gate.plan{repo = repo, bundle = bd, store = src.store,
    commit = {id = src.commit, time = src.commit_time}, now = now}
  local out = {name = bd.name, commit = src.commit, commit_time = stamp(src.commit_time),
    halted = plan.halted, failures = plan.failures, peers_unknown = plan.unknown, waves = kedge.list({})}
  for k, w in ipairs(plan.waves) do
    local e = {name = w.name, index = k, state = w.state, opens = stamp(w.opens), passed = stamp(w.passed),
      soak = waves.duration_text(w.soak), soak_seconds = w.soak, quorum = w.quorum, succeeded = w.succeeded, failed = w.failed,
      reason = waves.why(plan, k), sites = kedge.list({}),
      smoke_every = bd.rollout.waves[k].smoke_every and waves.duration_text(bd.rollout.waves[k].smoke_every)}
    for _, n in ipairs(w.sites) do e.sites[#e.sites + 1] = {name = n, state = waves.site_state(plan, n)} end
    out.waves[k] = e
    if not out.next and (w.state == "not yet" or w.state == "waiting") then
      out.next = {wave = w.name, opens = stamp(w.opens), reason = e.reason}
    end
  end
  return out, skipped
end

local function group(sites)
  local order, by = {}, {}
  for _, s in ipairs(sites) do
    if not by[s.state] then by[s.state] = {}; order[#order + 1] = s.state end
    local l = by[s.state]
    l[#l + 1] = s.name
  end
  local out = {}
  for _, st in ipairs(order) do
    out[#out + 1] = string.format("    %s (%d): %s", st, #by[st], table.concat(by[st], ", "))
  end
  return out
end

local function print_bundle(b)
  print(string.format("bundle %s: rolling out %s (committed %s)%s", b.name, b.commit:sub(1, 12),
    b.commit_time or "?", b.halted and ", HALTED" or ""))
  for _, w in ipairs(b.waves) do
    local when = w.state == "not yet" and (w.opens and ("opens " .. w.opens) or "opens later")
      or w.state == "soaking" and ("soaking " .. w.soak .. " since " .. w.passed ..
        (w.smoke_every and (", smoke every " .. w.smoke_every) or ""))
      or w.state == "done" and ("done at " .. stamp(report.parse_time(w.passed) + w.soak_seconds))
      or (w.state == "open" or w.state == "waiting") and w.opens and ("opened " .. w.opens) or ""
    if w.state == "waiting" then when = "waiting on health" end
    print(string.format("  wave %d/%d %-12s %3d site%s  %-8s %d ok, %d failed, %d needed  %s", w.index,
      #b.waves, w.name, #w.sites, #w.sites == 1 and " " or "s", w.state, w.succeeded, w.failed,
      w.quorum, when))
    for _, l in ipairs(group(w.sites)) do print(l) end
  end
  if b.halted then
    for _, w in ipairs(b.waves) do
      if w.state == "halted" then print("  " .. w.reason); break end
    end
  elseif b.next then
    print("  next: " .. b.next.reason)
  end
end

function M.main(o, args)
  if args[1] ~= "status" then return usage("give status (kedge rollout status --repo URL|PATH)") end
  if #args > 1 then return usage("status takes no argument: " .. args[2]) end
  if not o.repo then return usage("--repo is required (the config repo: a URL or a folder)") end
  local now = os.time()
  if o.at then
    now = M.parse_time(o.at)
    if not now then return usage("--at " .. o.at .. ": not an RFC 3339 time (2026-12-07T14:00:00Z)") end
  end
  local src, err = fleetcli.open_source(o)
  if not src then return fail(err) end
  local repo, lerr = site.load(fleetcli.tree_of(src))
  if not repo then
    src.store:close()
    return fail("the config repo at " .. src.commit:sub(1, 12) .. " does not load:\n" .. lerr)
  end
  local out = {at = stamp(now), ref = o.ref, commit = src.commit, bundles = kedge.list({}), skipped = kedge.list({})}
  for _, n in ipairs(repo.bundle_names) do
    local bd = repo.bundles[n]
    if bd.rollout and (not o.bundle or o.bundle == n) then
      local b, skipped = bundle_status(repo, bd, src, now)
      out.bundles[#out.bundles + 1] = b
      for _, k in ipairs(skipped) do out.skipped[#out.skipped + 1] = k end
    end
  end
  src.store:close()
  if o.bundle and #out.bundles == 0 then
    return fail("bundle " .. o.bundle .. (repo.bundles[o.bundle] and " has no rollout:" or " is not in the repo"))
  end
  local halted = false
  for _, b in ipairs(out.bundles) do halted = halted or b.halted end
  if o.json then
    io.write(json.encode(out, {indent = 2, sort_keys = true}), "\n")
  else
    if #out.bundles == 0 then print("no bundle declares rollout: (every site applies a new commit at once)") end
    for i, b in ipairs(out.bundles) do
      if i > 1 then print("") end
      print_bundle(b)
    end
    print(string.format("\nat %s", out.at))
  end
  for _, k in ipairs(out.skipped) do
    io.stderr:write(string.format("warning: skipped %s: %s\n", k.file, k.reason))
  end
  io.stdout:flush()
  return halted and M.EXIT.halted or M.EXIT.ok
end

return M

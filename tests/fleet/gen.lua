-- A fleet for the bench, as `git fast-import` streams (kedge lua
-- tests/fleet/gen.lua MODE ...):
--   config SITES BUNDLES       the config repo on refs/heads/main: BUNDLES
--                              small charts and bundles, SITES site files
--   status SITES BUNDLES NEW OLD   a status branch per site with the
--                              report its pass would push (kedge.report),
--                              about NEW (the desired commit) or OLD
-- Most sites are ok and current; some fail, are stale, run an older
-- version, are a commit behind, never reported, or are unknown to the repo.
local report = require "kedge.report"

local mode, nsites, nbundles = arg[1], tonumber(arg[2]), tonumber(arg[3])
local NOW = os.time()
local out = {}

local function emit(s) out[#out + 1] = s end
local function flush() io.write(table.concat(out)); out = {} end

local function data(text)
  emit(string.format("data %d\n", #text))
  emit(text)
  emit("\n")
end

local function file(path, text)
  emit("M 100644 inline " .. path .. "\n")
  data(text)
end

local function commit(ref, msg, time)
  emit("commit " .. ref .. "\n")
  emit(string.format("committer bench <bench@kedge.invalid> %d +0000\n", time))
  data(msg)
end

local function site_name(i) return string.format("site-%04d", i) end
local function bundle_name(j) return string.format("b%02d", j) end
local function version(j) return string.format("1.%d.0", j) end

local REGIONS, ENVS, TIERS = {"eu", "us", "ap"}, {"production", "staging"}, {"small", "medium", "large"}

local function config()
  commit("refs/heads/main", "bench fleet\n", NOW - 7200)
  file("kedge.yaml", 'kubeVersion: "1.29.0"\n')
  for j = 1, nbundles do
    local b = bundle_name(j)
    file("charts/" .. b .. "/Chart.yaml", string.format("apiVersion: v2\nname: %s\nversion: %s\n", b, version(j)))
    file("charts/" .. b .. "/templates/cm.yaml",
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  site: {{ .Values.site | quote }}\n")
    file("bundles/" .. b .. "/bundle.yaml", string.format(
      "chart: charts/%s\nnamespace: %s\ntargets:\n  - matchLabels: {fleet: bench}\n", b, b))
  end
  for i = 1, nsites do
    local n = site_name(i)
    file("sites/" .. n .. ".yaml", string.format(
      "name: %s\nlabels: {fleet: bench, region: %s, env: %s, tier: %s}\n" ..
      "capacity: {cpu: \"64\", memory: 256Gi, ephemeral-storage: 1Ti, storage: 1Ti, pods: 1000, nodes: 4}\n",
      n, REGIONS[i % 3 + 1], ENVS[i % 2 + 1], TIERS[i % 3 + 1]))
  end
  -- a second commit: sites still on the first are one behind
  commit("refs/heads/main", "touch\n", NOW - 3600)
  file("kedge.yaml", 'kubeVersion: "1.29.0"\n# touched\n')
  flush()
end

-- One report of site i, finished age seconds ago.
local function report_of(name, i, commit_id, age)
  local at = NOW - age
  local r = report.new{site = name, repo = "https://git.example.org/fleet.git", ref = "main",
    commit = commit_id, started = at - 40}
  local failing = i % 20 == 1
  local broken = math.min(7, nbundles)
  for j = 1, nbundles do
    local v = (i % 10 == 0 and j == 3) and "1.2.9" or version(j)
    local b = {name = bundle_name(j), chart = "charts/" .. bundle_name(j), version = v,
      release = bundle_name(j), namespace = bundle_name(j), status = "unchanged", unchanged = 1,
      smoke = {{name = "up", kind = "condition", status = "passed", duration = 0.2}}}
    if failing and j == broken then
      b.status, b.errors = "failed", {string.format(
        "apply ConfigMap %s/%s: admission webhook denied the request: quota exceeded", b.name, b.name)}
      b.smoke = {{name = "up", kind = "condition", status = "failed", duration = 30, message = "timed out"}}
    end
    report.add_bundle(r, b)
  end
  r.agent = {interval = 300, drift_interval = 900}
  report.finish(r, failing and "apply-failed" or "ok", at)
  return r
end

local function status(new, old)
  local total = nsites + 2
  for i = 1, total do
    -- every 50th site never reported; two reports from sites the repo lacks
    local name = i <= nsites and site_name(i) or string.format("gone-%02d", i - nsites)
    if i > nsites or i % 50 ~= 0 then
      local stale = i % 25 == 3
      local commit_id = i % 10 == 5 and old or new
      commit("refs/heads/kedge/status/" .. name, "reports\n", NOW - 60)
      -- every 100th site keeps a history of three reports
      for k = 1, (i % 100 == 7) and 3 or 1 do
        local age = (stale and 20000 or (i * 7) % 600 + 5) + (k - 1) * 300
        local r = report_of(name, i, commit_id, age)
        file("reports/" .. r.id .. ".json", report.json(r))
      end
    end
    if i % 200 == 0 then flush() end
  end
  flush()
end

if mode == "config" then config()
elseif mode == "status" then status(arg[4], arg[5])
else error("usage: gen.lua config SITES BUNDLES | status SITES BUNDLES NEW OLD") end

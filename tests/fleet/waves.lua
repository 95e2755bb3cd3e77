-- The fleet of the rollout tests, as `git fast-import` streams (kedge lua
-- tests/fleet/waves.lua MODE ...):
--   config SITES TIME SOAK1 SOAK2 NOTE [PARENT]   a commit on refs/heads/main at TIME:
--       SITES sites (site-01 to site-03 labelled ring: canary) and the
--       bundle web, rolled out canary (SOAK1, default 2h) -> early 10%
--       (SOAK2, default 6h) -> all; NOTE goes in its values (a new
--       revision), on top of PARENT
--   status < LINES     every site's status branch anew (fast-import
--       --force), from lines "SITE COMMIT FINISHED STATUS" (FINISHED in
--       epoch seconds; STATUS a bundle status, or smoke-failed), each a
--       report as a pass writes it (kedge.report), or "corrupt SITE COMMIT
--       FINISHED" for a report file that is not JSON
local report = require "kedge.report"

local out = {}
local function emit(s) out[#out + 1] = s end
local function data(text) emit(string.format("data %d\n%s\n", #text, text)) end
local function file(path, text) emit("M 100644 inline " .. path .. "\n"); data(text) end

local function config(n, time, soak1, soak2, note, parent)
  emit("commit refs/heads/main\n")
  emit(string.format("committer ops <ops@kedge.invalid> %d +0000\n", time))
  data("web " .. (note or "first") .. "\n")
  if parent then emit("from " .. parent .. "\n") end
  emit("deleteall\n")
  file("kedge.yaml", 'kubeVersion: "1.29.0"\n')
  file("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n")
  file("charts/web/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n" ..
    "data:\n  note: {{ .Values.note | quote }}\n")
  file("bundles/web/bundle.yaml", string.format("chart: charts/web\nnamespace: web\n" ..
    "values: {note: %q}\nrollout:\n  waves:\n" ..
    "    - {name: canary, selector: {matchLabels: {ring: canary}}, soak: %s}\n" ..
    "    - {name: early, percent: 10, soak: %s}\n    - {name: all, percent: 100}\n" ..
    "  health: {minSuccess: 100%%, maxFailures: 0}\n", note or "first", soak1 or "2h", soak2 or "6h"))
  for i = 1, n do
    local name = string.format("site-%02d", i)
    file("sites/" .. name .. ".yaml", string.format("name: %s\nlabels: {fleet: test%s}\n", name,
      i <= 3 and ", ring: canary" or ""))
  end
end

local function status()
  local by, order = {}, {}
  for line in io.lines() do
    local w = {}
    for x in line:gmatch("%S+") do w[#w + 1] = x end
    local name = w[1] == "corrupt" and w[2] or w[1]
    if name then
      if not by[name] then by[name] = {}; order[#order + 1] = name end
      local l = by[name]
      l[#l + 1] = w
    end
  end
  for _, name in ipairs(order) do
    emit("commit refs/heads/kedge/status/" .. name .. "\n")
    emit("committer kedge <kedge@kedge.invalid> 1796000000 +0000\n")
    data("reports\n")
    for _, w in ipairs(by[name]) do
      if w[1] == "corrupt" then
        local id = string.format("%s-%s-%s-ffffffff", name, os.date("!%Y%m%dT%H%M%SZ", tonumber(w[4])), w[3]:sub(1, 7))
        file("reports/" .. id .. ".json", '{"kind": "report", "result": ')
      else
        local at = tonumber(w[3])
        local r = report.new{site = name, repo = "https://git.example.org/fleet.git", ref = "main",
          commit = w[2], started = at - 30}
        local b = {name = "web", chart = "charts/web", version = "1.0.0", release = "web", namespace = "web",
          status = w[4] == "smoke-failed" and "ok" or w[4],
          smoke = {{name = "up", kind = "http", status = w[4] == "smoke-failed" and "failed" or "passed", duration = 1}}}
        if w[4] == "failed" then b.errors = {"apply ConfigMap web/web: admission webhook denied the request"} end
        report.add_bundle(r, b)
        report.finish(r, (w[4] == "ok" or w[4] == "unchanged") and "ok" or
          w[4] == "smoke-failed" and "smoke-failed" or "apply-failed", at)
        file("reports/" .. r.id .. ".json", report.json(r))
      end
    end
  end
end

if arg[1] == "config" then config(tonumber(arg[2]), tonumber(arg[3]), arg[4], arg[5], arg[6], arg[7])
elseif arg[1] == "status" then status()
else error("usage: waves.lua config SITES TIME [SOAK1 SOAK2 NOTE] | status < LINES") end
io.write(table.concat(out))

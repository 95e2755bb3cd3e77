-- Runs the template conformance cases (../shared/conformance/templates.json
-- or the path given) through kedge.tmpl and prints TAP, one line per case.
local json = require "kedge.json"
local tmpl = require "kedge.tmpl"

local path = arg[1] or "../shared/conformance/templates.json"
local f = assert(io.open(path, "rb"))
local doc = assert(json.decode(f:read("a"), {numbers = "float"}))
f:close()

-- Helm's default API version set (chartutil.DefaultVersionSet) is the
-- API server's list; a fixed subset stands in for it here.
local function api_versions()
  return {"v1", "admissionregistration.k8s.io/v1", "apiextensions.k8s.io/v1",
    "apiregistration.k8s.io/v1", "apps/v1", "authentication.k8s.io/v1",
    "authorization.k8s.io/v1", "autoscaling/v1", "autoscaling/v2",
    "batch/v1", "certificates.k8s.io/v1", "coordination.k8s.io/v1",
    "discovery.k8s.io/v1", "events.k8s.io/v1", "networking.k8s.io/v1",
    "node.k8s.io/v1", "policy/v1", "policy/v1beta1", "rbac.authorization.k8s.io/v1",
    "scheduling.k8s.io/v1", "storage.k8s.io/v1"}
end

local list_mt = getmetatable(json.decode("[]"))
local function list() return setmetatable({}, list_mt) end

local function helm_top(c)
  return {
    Values = c.values,
    Release = {Name = "rel", Namespace = "default", Revision = 1,
               IsInstall = true, IsUpgrade = false, Service = "Helm"},
    -- chart.Metadata: every field exists, with Go's zero values
    Chart = {Name = "conformance", Version = "0.1.0", AppVersion = "1.0.0",
             APIVersion = "v2", Type = "application", Home = "",
             Description = "", Icon = "", Condition = "", Tags = "",
             KubeVersion = "", Deprecated = false,
             Sources = list(), Keywords = list(), Maintainers = list(),
             Dependencies = list(), Annotations = {},
             -- Helm 3.15 sets IsRoot beside the metadata (true: no parent)
             IsRoot = true},
    Capabilities = {
      KubeVersion = {Version = "v1.30.0", Major = "1", Minor = "30",
                     GitVersion = "v1.30.0"},
      HelmVersion = {Version = "v3.15.4", GitTreeState = "clean",
                     GoVersion = "go1.19.8"},
      APIVersions = setmetatable(api_versions(), list_mt),
    },
    Template = {Name = "conformance/templates/case.yaml",
                BasePath = "conformance/templates"},
    Subcharts = {},
  }
end

local function diag(s)
  return (tostring(s):gsub("\n", "\n#   "))
end

local n, pass = 0, 0
local cats = {}
for _, c in ipairs(doc.cases) do
  n = n + 1
  local helm = c.values ~= nil
  local data, name, helpers, files
  if helm then
    data = helm_top(c)
    name = "conformance/templates/case.yaml"
    if c.helpers then
      helpers = {}
      for k, v in pairs(c.helpers) do helpers["conformance/templates/" .. k] = v end
    end
    files = c.files or {}
  else
    data = c.data
    if data == json.null then data = nil end
    name = "templates/case.yaml"
    if c.helpers then
      helpers = {}
      for k, v in pairs(c.helpers) do helpers["templates/" .. k] = v end
    end
  end
  local ok, out, err = pcall(tmpl.render, c.template, data,
                             {name = name, helpers = helpers, files = files})
  local e, good, why = c.expect, false, nil
  if not ok then
    why = "raised: " .. diag(out)
  elseif e.error then
    if out then
      why = "expected an error, got output: " .. diag(out)
    else
      local phase = err:find('executing "', 1, true) and "exec" or "parse"
      if not err:find(e.error_contains, 1, true) then
        why = "error " .. diag(err) .. "\n# wanted substring: " .. diag(e.error_contains)
      elseif e.error_phase and phase ~= e.error_phase then
        why = "phase " .. phase .. " wanted " .. e.error_phase .. ": " .. diag(err)
      else
        good = true
      end
    end
  else
    if out == e.output then
      good = true
    elseif out then
      why = "got:  " .. diag(string.format("%q", out)) ..
            "\n# want: " .. diag(string.format("%q", e.output))
    else
      why = "error: " .. diag(err)
    end
  end
  local cat = c.category or "?"
  cats[cat] = cats[cat] or {0, 0}
  cats[cat][2] = cats[cat][2] + 1
  if good then
    pass = pass + 1
    cats[cat][1] = cats[cat][1] + 1
    print(string.format("ok %d - %s", n, c.name))
  else
    print(string.format("not ok %d - %s", n, c.name))
    print("# " .. why)
  end
end
print("1.." .. n)
local names = {}
for k in pairs(cats) do names[#names + 1] = k end
table.sort(names)
for _, k in ipairs(names) do
  print(string.format("# %-26s %d/%d", k, cats[k][1], cats[k][2]))
end
print(string.format("# passed %d of %d", pass, n))

-- kedge.chart from Lua: load a corpus chart, render it to manifests and to
-- helm template's text (the same bytes as the golden), values and options,
-- nil, err for bad charts and failing renders, raising for wrong types.
local t = dofile("tests/tap.lua")
local chart = require "kedge.chart"

local root = os.getenv("KEDGE_CHARTS_DIR") or "../shared/charts"

local c, err = chart.load(root .. "/podinfo")
t.ok(c, "load a chart directory " .. tostring(err))
t.is(c:name(), "podinfo", "name")
t.is(c:version(), "6.14.1", "version")

local ms = assert(c:render({}, {release = "rel", namespace = "default"}))
t.is(#ms, 5, "podinfo renders five manifests (hooks included)")
t.is(ms[1].source, "podinfo/templates/service.yaml", "in Helm's order, with the source path")
t.is(ms[1].kind, "Service", "kind")
t.is(ms[1].value.kind, "Service", "the document decoded")
t.is(ms[1].value.metadata.name, "rel-podinfo", "with the release name")
t.is(math.type(ms[1].value.spec.ports[1].port), "integer", "numbers decode as integers")
t.like(ms[1].text, "^apiVersion: v1\nkind: Service\n", "and its raw text")
t.ok(ms[#ms].hook and ms[#ms].test, "test hooks come last, flagged")

local notest = assert(c:render(nil, {skip_tests = true}))
t.is(#notest, 2, "skip_tests drops the test hooks")

local scaled = assert(c:render({replicaCount = 3}, {numbers = "float"}))
local dep
for _, m in ipairs(scaled) do if m.kind == "Deployment" then dep = m end end
t.is(dep and dep.value.spec.replicas, 3, "values coalesce over the chart's defaults")

local text = assert(c:template({}, {release = "rel", namespace = "default"}))
local f = assert(io.open(root .. "/golden/podinfo.yaml", "rb"))
local golden = f:read("a")
f:close()
local strip = function(s) return (s:gsub("%-test%-%w%w%w%w%w\n", "-test-XXXXX\n")) end
t.is(strip(text), strip(golden), "template() prints what helm template prints")

local only = assert(c:template({}, {show_only = {"templates/service.yaml"}}))
t.like(only, "^%-%-%-\n# Source: podinfo/templates/service.yaml\n", "show_only")

local none, e2 = c:render({replicaCount = "x"}, {kube_version = "1.10.0"})
t.is(none, nil, "a render that fails gives nil")
t.like(e2, "kubeVersion", "and Helm's message")

local otel = assert(chart.load(root .. "/opentelemetry-collector"))
local r, e3 = otel:render()
t.is(r, nil, "a failing template gives nil, no partial list")
t.like(e3, "^execution error at %(opentelemetry%-collector/templates/NOTES%.txt:2:3%): %[ERROR%] 'image%.repository' must be set",
       "the required message as Helm prints it")

local tgz = assert(chart.load(root .. "/metallb"))
t.ok(#assert(tgz:render()) > 0, "a chart with a .tgz subchart renders")

local bad, e4 = chart.load(root .. "/no-such-chart")
t.is(bad, nil, "loading a missing chart gives nil")
t.like(e4, "no%-such%-chart", "naming it")

-- Capabilities.APIVersions: helm template's default set plus api_versions,
-- or (api_versions_only) the cluster's own list as helm install sees it
do
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. "/templates"))
  local function put(path, text)
    local f = assert(io.open(dir .. "/" .. path, "w"))
    f:write(text)
    f:close()
  end
  put("Chart.yaml", "apiVersion: v2\nname: caps\nversion: 0.1.0\n")
  put("templates/pdb.yaml", "apiVersion: {{ if .Capabilities.APIVersions.Has \"policy/v1\" }}policy/v1" ..
    "{{ else }}policy/v1beta1{{ end }}\nkind: PodDisruptionBudget\n" ..
    "metadata: {name: x, labels: {extra: {{ .Capabilities.APIVersions.Has \"example.org/v1\" | quote }}}}\n")
  local caps = assert(chart.load(dir))
  local function pdb(opts) return assert(caps:render({}, opts))[1].value end
  t.is(pdb().apiVersion, "policy/v1", "the default set has policy/v1")
  t.is(pdb({api_versions = {"example.org/v1"}}).metadata.labels.extra, "true",
    "api_versions are added to it")
  local old = pdb({api_versions = {"v1", "policy/v1beta1"}, api_versions_only = true})
  t.is(old.apiVersion, "policy/v1beta1", "api_versions_only: a cluster without policy/v1 gets v1beta1")
  t.is(old.metadata.labels.extra, "false", "and only what it serves")
  caps:close()
  os.execute("rm -rf " .. dir)
end

t.ok(not pcall(c.render, c, "values"), "values of the wrong type raise")
t.ok(not pcall(c.render, c, {}, {api_versions = "v1"}), "a bad option raises")
c:close()
t.ok(not pcall(c.render, c), "a closed chart raises")
do
  local d <close> = assert(chart.load(root .. "/podinfo"))
  t.ok(d:name() == "podinfo", "to-be-closed charts")
end

t.done()

-- kedge.chart.helm_template: `kedge render` without its flag parsing. Each
-- case calls it and runs build/kedge render with the same options: the
-- text must be the same bytes, and an error's msg what render prints after
-- "Error: " (kind "usage" where render exits 2).
local t = dofile("tests/tap.lua")
local chart = require "kedge.chart"

local root = os.getenv("KEDGE_CHARTS_DIR") or "../shared/charts"
local kedge = os.getenv("KEDGE") or "build/kedge"
local tmp = os.tmpname()
os.remove(tmp)
assert(os.execute("mkdir -p " .. tmp .. "/bad/templates"))

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- runs kedge render ARGS; returns stdout, stderr, exit status
local function render(args)
  local cmd = kedge .. " render"
  for _, a in ipairs(args) do cmd = cmd .. " " .. q(a) end
  local p = io.popen(cmd .. " 2>" .. q(tmp .. "/stderr"))
  local out = p:read("a")
  local _, _, code = p:close()
  local f = assert(io.open(tmp .. "/stderr", "rb"))
  local errtext = f:read("a")
  f:close()
  return out, errtext, code
end

-- podinfo's test hooks carry random names
local function strip(s) return (s:gsub("%-test%-%w%w%w%w%w\n", "-test-XXXXX\n")) end

local function same(opts, args, name)
  local got, err = chart.helm_template(opts)
  local out, errtext, code = render(args)
  t.is(code, 0, name .. ": kedge render succeeds " .. errtext)
  t.ok(got, name .. ": helm_template succeeds " .. (err and err.msg or ""))
  t.ok(got and strip(got) == strip(out) and #out > 0, name .. ": the same bytes")
end

local function fails(opts, args, kind, name)
  local got, err = chart.helm_template(opts)
  local _, errtext, code = render(args)
  t.is(got, nil, name .. ": nil")
  t.is(err and err.kind, kind, name .. ": kind " .. kind)
  t.is(code, kind == "usage" and 2 or 1, name .. ": render's exit status")
  if kind == "render" then
    t.is("Error: " .. (err and err.msg or "") .. "\n", errtext, name .. ": render's message")
  else
    t.ok(err and errtext:find(err.msg, 1, true), name .. ": render's message " .. errtext)
  end
end

local podinfo = root .. "/podinfo"
write(tmp .. "/a.yaml", "replicaCount: 2\nui:\n  message: from-a\n")
write(tmp .. "/b.yaml", "ui:\n  color: '#123456'\n")
write(tmp .. "/msg.txt", "from a file")

same({chart = podinfo, release = "rel", namespace = "default"},
  {"rel", podinfo, "--namespace", "default"}, "podinfo")
same({chart = podinfo, release = "rel", namespace = "prod",
      values_files = {tmp .. "/a.yaml", tmp .. "/b.yaml"},
      set = {json = {'ui={"message":"json","logo":"x"}'}, set = {"replicaCount=4,ui.message=set"},
             string = {"podAnnotations.n=5"}, file = {"ui.message=" .. tmp .. "/msg.txt"},
             literal = {"podAnnotations.lit=a,b"}}},
  {"rel", podinfo, "-n", "prod", "-f", tmp .. "/a.yaml," .. tmp .. "/b.yaml",
   "--set-literal", "podAnnotations.lit=a,b", "--set-file", "ui.message=" .. tmp .. "/msg.txt",
   "--set-string", "podAnnotations.n=5", "--set", "replicaCount=4,ui.message=set",
   "--set-json", 'ui={"message":"json","logo":"x"}'},
  "values files and the --set family in Helm's order")
same({chart = podinfo, name_template = "nt-{{ \"x\" }}", show_only = {"templates/deployment.yaml"},
      kube_version = "v1.29.3", api_versions = {"example.com/v1"}},
  {podinfo, "--name-template", "nt-{{ \"x\" }}", "-s", "templates/deployment.yaml",
   "--kube-version", "v1.29.3", "-a", "example.com/v1"}, "name template, show_only")
same({chart = podinfo, generate_name = true, skip_tests = true, is_upgrade = true},
  {podinfo, "-g", "--skip-tests", "--is-upgrade"}, "generate name, skip tests")
same({chart = podinfo, no_hooks = true}, {podinfo, "--no-hooks"}, "no hooks")
same({chart = root .. "/cert-manager", include_crds = true, set = {set = {"crds.enabled=true"}}},
  {root .. "/cert-manager", "--include-crds", "--set", "crds.enabled=true"}, "include_crds")

fails({}, {}, "usage", "no chart")
fails({chart = podinfo, release = "a", name_template = "b"},
  {"a", podinfo, "--name-template", "b"}, "usage", "a release and a name template")
fails({chart = podinfo, release = "Bad_Name"}, {"Bad_Name", podinfo}, "render", "invalid release name")
fails({chart = tmp .. "/nope"}, {tmp .. "/nope"}, "render", "no such chart")
fails({chart = podinfo, values_files = {tmp .. "/none.yaml"}}, {podinfo, "-f", tmp .. "/none.yaml"},
  "render", "a missing values file")
fails({chart = podinfo, set = {set = {"a[x]=1"}}}, {podinfo, "--set", "a[x]=1"}, "render", "a bad --set")
fails({chart = podinfo, show_only = {"templates/none.yaml"}}, {podinfo, "-s", "templates/none.yaml"},
  "render", "show_only matching nothing")
write(tmp .. "/bad/Chart.yaml", "apiVersion: v2\nname: bad\nversion: 0.1.0\n")
write(tmp .. "/bad/templates/cm.yaml", "{{ fail \"boom\" }}\n")
fails({chart = tmp .. "/bad"}, {tmp .. "/bad"}, "render", "a failing template (with the --debug hint)")

t.raises(function() chart.helm_template("x") end, "table expected", "options must be a table")
t.raises(function() chart.helm_template{chart = podinfo, set = 1} end, "set to be a table", "set must be a table")

os.execute("rm -rf " .. q(tmp))
t.done()

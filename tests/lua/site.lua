-- kedge.site: the config repo model. The example repo loads, selects and
-- renders; label selectors follow Kubernetes; values layers merge as Helm
-- coalesces them; every kind of mistake is reported with file:line:col and
-- the fix; plain folders are served without leaving them.
local t = dofile("tests/tap.lua")
local site = require "kedge.site"
local yaml = require "kedge.yaml"
local kedge = require "kedge"

local EXAMPLE = "tests/example-repo"

-- YAML positions through the Lua API ------------------------------------

do
  local v, pos = yaml.decode("a: 1\nb:\n  - x\n  - {c: 2}\n", {positions = true})
  t.is(v.b[2].c, 2, "decode with positions still decodes")
  t.same(pos["b.1.c"], {line = 4, col = 6}, "positions: a key's line and column")
  t.same(pos["b.0"], {line = 3, col = 5}, "positions: a list item's")
  t.same(pos[""], {line = 1, col = 1}, "positions: the root is \"\"")
  local one = select("#", yaml.decode("a: 1\n"))
  t.is(one, 1, "without the option, one result")
  local docs, dpos = yaml.decode_all("a: 1\n---\nb: 2\n", {positions = true})
  t.is(#docs, 2, "decode_all with positions")
  t.same(dpos["1.b"], {line = 3, col = 1}, "decode_all paths start with the document index")
  local bad, err = yaml.decode("a: [\n", {positions = true, name = "x.yaml"})
  t.ok(bad == nil and err:match("^x%.yaml:2:1: "), "a syntax error is still nil, err: " .. tostring(err))
end

-- the example repo -------------------------------------------------------

local tree = assert(site.dir_tree(EXAMPLE))
local repo, err = site.load(tree)
t.ok(repo, "the example repo loads: " .. tostring(err))
t.same(repo.site_names, {"berlin-01", "kiosk-07", "lab-01"}, "site names, sorted")
t.same(repo.bundle_names, {"cache", "debug-tools", "monitoring", "web"}, "bundle names, sorted")
t.same(repo.warnings, {}, "no warnings")
t.is(repo.settings.kubeVersion, "1.29.0", "settings from kedge.yaml")

local berlin, lab, kiosk = repo.sites["berlin-01"], repo.sites["lab-01"], repo.sites["kiosk-07"]
t.is(berlin.name, "berlin-01", "site name")
t.is(berlin.file, "sites/berlin-01.yaml", "site file")
t.same(berlin.labels, {env = "production", region = "eu", tier = "small"}, "labels")
t.is(berlin.capacity.memory, "8Gi", "capacity as written")
t.is(berlin.capacity.pods, 110, "capacity pods")
t.is(berlin.reserve.cpu, "500m", "reserve")
t.is(berlin.policy["missing-requests"], "refuse", "the site's policy overrides kedge.yaml's")
t.is(lab.policy["missing-requests"], "warn", "kedge.yaml's policy is the default")
t.is(berlin.kube_version, "1.29.0", "kube_version from kedge.yaml")
t.is(lab.kube_version, "1.30.2", "a site's own kubeVersion wins")
t.is(lab.recipe, "recipes/lab.lua", "recipe")
t.is(lab.exec, true, "exec enabled")
t.is(berlin.exec, false, "exec off by default")
t.is(#berlin.report, 2, "the site's report destinations")
t.is(berlin.report[2]["git-branch"], "kedge/status/berlin-01", "git-branch destination")
t.same(lab.report, {{dir = "/var/lib/kedge/reports-out"}}, "kedge.yaml's report destinations are the default")
t.same(kiosk.policy["missing-requests"], {cpu = "100m", memory = "64Mi"}, "policy with default requests")

local cache, web, dbg = repo.bundles.cache, repo.bundles.web, repo.bundles["debug-tools"]
t.is(cache.chart, "charts/cache", "bundle chart")
t.is(cache.release, "cache", "release")
t.is(cache.namespace, "apps", "namespace")
t.is(cache.file, "bundles/cache/bundle.yaml", "bundle file")
t.same(cache.values_files, {"bundles/cache/values.yaml", "bundles/cache/values-storage.yaml"},
  "values files, in order")
t.is(cache.values.storage, "10Gi", "values files merge in order")
t.is(cache.values.image, "redis:7.2", "values from the first file")
t.is(dbg.release, "debug-tools", "release defaults to the bundle name")
t.is(dbg.namespace, "debug", "namespace")
t.same(web.dependsOn, {"cache", "monitoring"}, "dependsOn")
t.is(#web.smoke, 2, "smoke tests")
t.is(web.smoke[2].type, "http", "smoke test type")
t.is(web.values.replicas, 2, "inline values")

-- selection and order
local function names(list)
  local out = {}
  for _, b in ipairs(list) do out[#out + 1] = b.name end
  return table.concat(out, " ")
end
t.is(names(assert(site.select(repo, "berlin-01"))), "monitoring cache web", "berlin-01: dependencies first")
t.is(names(assert(site.select(repo, "lab-01"))), "monitoring cache web debug-tools", "lab-01 gets the staging tools")
t.is(names(assert(site.select(repo, kiosk))), "monitoring cache", "kiosk-07 (region us) gets no web; a site table works too")
local none, serr = site.select(repo, "berlin-1")
t.is(none, nil, "an unknown site")
t.like(serr, 'no site "berlin%-1" in the repo %(no sites/berlin%-1%.yaml%) %(did you mean "berlin%-01"%?%)',
  "names the missing file and the closest site")

-- values
local v = site.values_for(repo, "lab-01", "web")
t.is(v.replicas, 1, "targetValues replace the bundle's value")
t.is(v.logLevel, "debug", "and add keys")
t.is(v.resources.requests.cpu, "250m", "bundle values stay")
v = site.values_for(repo, berlin, web)
t.is(v.replicas, 3, "the site's values win")
t.is(v.message, "Hello from Berlin", "site values")
t.is(v.logLevel, nil, "targetValues that do not match are not applied")
t.is(site.values_for(repo, "lab-01", "cache").storage, "2Gi", "targetValues over values files")
t.is(web.values.replicas, 2, "values_for leaves the model alone")

-- render
local r, rerr = site.render(repo, "berlin-01", "web")
t.ok(r, "render web for berlin-01: " .. tostring(rerr))
t.is(#r.objects, 3, "three objects")
t.is(#r.tests, 1, "the test pod apart")
t.is(#r.hooks, 0, "no other hooks")
t.is(#r, 4, "the manifests themselves are the list (kedge.chart's entries)")
t.is(r.chart.version, "2.0.1", "chart version")
t.is(r.chart.name, "web", "chart name")
t.is(r.release, "web", "release")
local dep
for i, o in ipairs(r.objects) do
  if o.kind == "Deployment" then dep = o; t.is(r.sources[i], "web/templates/deployment.yaml", "sources") end
end
t.is(dep.spec.replicas, 3, "rendered with the site's values")
t.is(dep.metadata.namespace, "apps", "in the bundle's namespace")
t.is(dep.spec.template.spec.containers[1].resources.requests.memory, "256Mi", "with the bundle's resources")
t.like(r.tests[1].metadata.annotations["helm.sh/hook"], "test", "tests are hook objects")
local cr = assert(site.render(repo, "lab-01", "cache"))
local sts
for _, o in ipairs(cr.objects) do if o.kind == "StatefulSet" then sts = o end end
t.is(sts.spec.volumeClaimTemplates[1].spec.resources.requests.storage, "2Gi", "targetValues reach the chart")
local old, kerr = site.render(repo, "berlin-01", "cache", {kube_version = "1.22.0"})
t.is(old, nil, "the chart's kubeVersion constraint is checked against the site's version")
t.like(kerr, "^bundles/cache/bundle%.yaml:2:1: chart charts/cache for site berlin%-01: .*kubeVersion",
  "the message names bundle file and line")

-- selectors ---------------------------------------------------------------

local labels = {env = "production", region = "eu"}
local function m(sel) return site.matches(sel, labels) end
t.ok(m({}), "an empty selector matches everything")
t.ok(m({matchLabels = {env = "production"}}), "matchLabels")
t.ok(not m({matchLabels = {env = "production", tier = "small"}}), "every matchLabel must hold")
t.ok(m({matchExpressions = {{key = "env", operator = "In", values = {"staging", "production"}}}}), "In")
t.ok(not m({matchExpressions = {{key = "tier", operator = "In", values = {"small"}}}}), "In: a missing label is not in")
t.ok(m({matchExpressions = {{key = "tier", operator = "NotIn", values = {"small"}}}}), "NotIn: a missing label matches")
t.ok(not m({matchExpressions = {{key = "region", operator = "NotIn", values = {"eu"}}}}), "NotIn")
t.ok(m({matchExpressions = {{key = "region", operator = "Exists"}}}), "Exists")
t.ok(not m({matchExpressions = {{key = "tier", operator = "Exists"}}}), "Exists: missing")
t.ok(m({matchExpressions = {{key = "tier", operator = "DoesNotExist"}}}), "DoesNotExist")
t.ok(not m({matchExpressions = {{key = "env", operator = "DoesNotExist"}}}), "DoesNotExist: present")
t.ok(not m({matchLabels = {env = "production"},
  matchExpressions = {{key = "region", operator = "In", values = {"us"}}}}), "labels and expressions both needed")
t.ok(site.targets({name = "x"}, {labels = {}}), "no targets: every site")
t.ok(not site.targets({targets = {}}, {labels = labels}), "targets: [] selects no site")
t.ok(site.targets({targets = {{matchLabels = {env = "x"}}, {matchLabels = {region = "eu"}}}}, {labels = labels}),
  "any one target is enough")

-- merge -------------------------------------------------------------------

local merged = site.merge({a = {b = 1, c = {d = 2}}, l = kedge.list({1, 2}), s = "x"},
  {a = {c = {e = 3}}, l = kedge.list({9}), s = kedge.null, n = 5})
t.same(merged.a, {b = 1, c = {d = 2, e = 3}}, "maps merge deeply")
t.same(merged.l, {9}, "lists replace")
t.ok(kedge.is_null(merged.s), "null replaces (the chart's default is then deleted, as in Helm)")
t.is(merged.n, 5, "new keys")
t.same(site.merge({a = {b = 1}}, {a = "flat"}).a, "flat", "a scalar replaces a map")

-- errors: an in-memory tree ----------------------------------------------

local function mem_tree(files)
  local tr = {}
  function tr:read(path)
    if files[path] then return files[path] end
    return nil, path .. ": No such file or directory"
  end
  function tr:list(dir)
    local seen, out = {}, {}
    local prefix = dir == "" and "" or dir .. "/"
    local any = false
    for p in pairs(files) do
      if p:sub(1, #prefix) == prefix then
        any = true
        local rest = p:sub(#prefix + 1)
        local first, more = rest:match("^([^/]+)(/?)")
        if first and not seen[first] then
          seen[first] = true
          out[#out + 1] = {name = first, type = more == "/" and "dir" or "file"}
        end
      end
    end
    if not any then return nil, "cannot list " .. dir .. ": No such file or directory" end
    table.sort(out, function(a, b) return a.name < b.name end)
    return out
  end
  return tr
end

local BASE = {
  ["sites/a.yaml"] = "name: a\nlabels: {env: prod}\n",
  ["bundles/one/bundle.yaml"] = "chart: charts/one\n",
  ["charts/one/Chart.yaml"] = "apiVersion: v2\nname: one\nversion: 1.0.0\n",
}

local function with(changes)
  local f = {}
  for k, x in pairs(BASE) do f[k] = x end
  for k, x in pairs(changes) do f[k] = x or nil end
  return f
end

local function problems(changes)
  local rp, text, list = site.load(mem_tree(with(changes)))
  return rp, text, list
end

t.ok(problems({}), "the base in-memory repo loads")

-- Each case: changed files, and the expected message (a plain substring).
local cases = {
  {"unknown key in a site, with the closest",
   {["sites/a.yaml"] = "name: a\nlables: {env: prod}\n"},
   'sites/a.yaml:2:1: unknown key "lables" in a site (did you mean "labels"?)'},
  {"unknown key without a close one lists the keys",
   {["sites/a.yaml"] = "name: a\nzzzzzzzz: 1\n"},
   'sites/a.yaml:2:1: unknown key "zzzzzzzz" in a site (known: name, labels, capacity'},
  {"unknown key in a bundle",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\ndepends: [x]\n"},
   'bundles/one/bundle.yaml:2:1: unknown key "depends" in a bundle (did you mean "dependsOn"?)'},
  {"unknown key in kedge.yaml",
   {["kedge.yaml"] = "kubeversion: \"1.29.0\"\n"},
   'kedge.yaml:1:1: unknown key "kubeversion" in kedge.yaml (did you mean "kubeVersion"?)'},
  {"a site named differently from its file",
   {["sites/a.yaml"] = "name: b\n"},
   'sites/a.yaml:1:1: the site is named "b" but its file is sites/a.yaml: a site file must be named after the site (rename the file to sites/b.yaml or set name: a)'},
  {"a site without a name",
   {["sites/a.yaml"] = "labels: {env: prod}\n"},
   'sites/a.yaml:1:1: the site has no name: add "name: a"'},
  {"a wrong type",
   {["sites/a.yaml"] = "name: a\ncapacity: 4\n"},
   "sites/a.yaml:2:1: capacity must be a map, not an integer"},
  {"a label value that is not a string",
   {["sites/a.yaml"] = "name: a\nlabels:\n  gpu: true\n"},
   'sites/a.yaml:3:3: labels.gpu must be a string, not a boolean: quote it (gpu: "true")'},
  {"an invalid label key",
   {["sites/a.yaml"] = "name: a\nlabels:\n  \"-bad\": x\n"},
   'sites/a.yaml:3:3: label key "-bad" is not valid'},
  {"a bad quantity",
   {["sites/a.yaml"] = "name: a\ncapacity:\n  memory: 8GB\n"},
   'sites/a.yaml:3:3: capacity.memory: "8GB" is not a Kubernetes quantity (like 500m, 2, 1.5Gi, 512Mi)'},
  {"an unknown capacity dimension",
   {["sites/a.yaml"] = "name: a\ncapacity:\n  cpus: 4\n"},
   'sites/a.yaml:3:3: unknown key "cpus" in capacity (did you mean "cpu"?)'},
  {"nodes must be at least one",
   {["sites/a.yaml"] = "name: a\ncapacity: {nodes: 0}\n"},
   "sites/a.yaml:2:12: capacity.nodes must be a whole number of at least 1, not 0"},
  {"a bad missing-requests policy",
   {["sites/a.yaml"] = "name: a\npolicy: {missing-requests: warning}\n"},
   'sites/a.yaml:2:10: policy.missing-requests "warning" is not one of count-as-zero, warn, refuse or a map of default requests (did you mean "warn"?)'},
  {"kubeVersion as a number",
   {["sites/a.yaml"] = "name: a\nkubeVersion: 1.29\n"},
   'sites/a.yaml:2:1: kubeVersion must be a string: quote it (kubeVersion: "1.29")'},
  {"kubeVersion that is no version",
   {["kedge.yaml"] = "kubeVersion: latest\n"},
   'kedge.yaml:1:1: kubeVersion "latest" is not a version (like "1.29.0")'},
  {"a recipe that does not exist",
   {["sites/a.yaml"] = "name: a\nrecipe: recipes/a.lua\n"},
   'sites/a.yaml:2:1: recipe "recipes/a.lua" does not exist in the repo'},
  {"a report destination of no known kind",
   {["sites/a.yaml"] = "name: a\nreport:\n  - url: https://x\n"},
   "sites/a.yaml:3:5: a report destination needs webhook: URL, git-branch: NAME or dir: PATH"},
  {"a report destination of two kinds",
   {["sites/a.yaml"] = "name: a\nreport:\n  - {dir: /x, git-branch: b}\n"},
   "sites/a.yaml:3:5: a report destination names one of webhook, git-branch or dir, not both"},
  {"an unknown key in a webhook destination",
   {["sites/a.yaml"] = "name: a\nreport:\n  - webhook: https://x/r\n    token: abc\n"},
   'sites/a.yaml:4:5: unknown key "token" in webhook destination (did you mean "token-file"?)'},
  {"a webhook timeout that is not a number",
   {["sites/a.yaml"] = "name: a\nreport:\n  - {webhook: https://x/r, timeout: soon}\n"},
   "sites/a.yaml:3:28: timeout must be a number, not a string"},
  {"an unknown key in a git-branch destination, with the closest",
   {["sites/a.yaml"] = "name: a\nreport:\n  - {git-branch: true, token_file: /t}\n"},
   'sites/a.yaml:3:24: unknown key "token_file" in git-branch destination (did you mean "token-file"?)'},
  {"a webhook that is no URL",
   {["sites/a.yaml"] = "name: a\nreport: [{webhook: ops.example.org}]\n"},
   'webhook "ops.example.org" must be an http:// or https:// URL'},
  {"values for a bundle that does not exist",
   {["sites/a.yaml"] = "name: a\nvalues:\n  onee: {x: 1}\n"},
   'sites/a.yaml:3:3: values for bundle "onee", which does not exist (did you mean "one"?)'},
  {"a bad selector operator",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\ntargets:\n  - matchExpressions:\n      - {key: env, operator: in, values: [prod]}\n"},
   'bundles/one/bundle.yaml:4:20: operator "in" is not In, NotIn, Exists or DoesNotExist (did you mean "In"?)'},
  {"In without values",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\ntargets:\n  - matchExpressions:\n      - {key: env, operator: In}\n"},
   "bundles/one/bundle.yaml:4:9: operator In needs a non-empty values list"},
  {"Exists with values",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\ntargets:\n  - matchExpressions:\n      - {key: env, operator: Exists, values: [x]}\n"},
   "bundles/one/bundle.yaml:4:38: operator Exists takes no values: remove them"},
  {"an expression without a key",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\ntargets:\n  - matchExpressions: [{operator: Exists}]\n"},
   "bundles/one/bundle.yaml:3:24: a match expression needs key: LABEL"},
  {"an unknown key in a target",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\ntargets:\n  - matchLabel: {env: prod}\n"},
   'bundles/one/bundle.yaml:3:5: unknown key "matchLabel" in a target (did you mean "matchLabels"?)'},
  {"expression values that are not strings",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\ntargets:\n  - matchExpressions: [{key: k, operator: In, values: [1]}]\n"},
   'bundles/one/bundle.yaml:3:56: values must be strings: quote it ("1")'},
  {"an expression key that YAML reads as a boolean",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\ntargets:\n  - matchExpressions: [{key: y, operator: Exists}]\n"},
   'bundles/one/bundle.yaml:3:25: key must be a string, not a boolean: quote it (key: "true")'},
  {"targetValues without values",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\ntargetValues:\n  - matchLabels: {env: prod}\n"},
   "bundles/one/bundle.yaml:3:5: a targetValues entry needs values"},
  {"dependsOn a bundle that does not exist",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\ndependsOn: [tow]\n", ["bundles/two/bundle.yaml"] = "chart: charts/one\n"},
   'bundles/one/bundle.yaml:2:13: dependsOn names bundle "tow", which does not exist (no bundles/tow/bundle.yaml) (did you mean "two"?)'},
  {"a bundle depending on itself",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\ndependsOn: [one]\n"},
   "bundles/one/bundle.yaml:2:13: bundle one depends on itself: remove it from dependsOn"},
  {"a dependency cycle, named",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\ndependsOn: [two]\n",
    ["bundles/two/bundle.yaml"] = "chart: charts/one\ndependsOn:\n  - three\n",
    ["bundles/three/bundle.yaml"] = "chart: charts/one\ndependsOn: [one]\n"},
   "bundles/one/bundle.yaml:2:13: dependsOn makes a cycle: one -> two -> three -> one (remove one of these dependencies)"},
  {"a chart that does not exist, with the closest",
   {["bundles/one/bundle.yaml"] = "release: one\nchart: charts/oen\n"},
   'bundles/one/bundle.yaml:2:1: chart "charts/oen" does not exist in the repo (a chart folder or .tgz, from the repo root) (did you mean "charts/one"?)'},
  {"a chart folder without Chart.yaml",
   {["bundles/one/bundle.yaml"] = "chart: charts\n"},
   'bundles/one/bundle.yaml:1:1: chart "charts" has no Chart.yaml'},
  {"a chart path leaving the repo",
   {["bundles/one/bundle.yaml"] = "chart: ../charts/one\n"},
   'bundles/one/bundle.yaml:1:1: chart "../charts/one" must be a path inside the repo, from its root'},
  {"a bundle without a chart",
   {["bundles/one/bundle.yaml"] = "namespace: x\n"},
   "bundles/one/bundle.yaml:1:1: the bundle names no chart: add chart: charts/<folder or .tgz>"},
  {"a values file that does not exist",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\nvalues: [values.yaml]\n"},
   "bundles/one/values.yaml:1:1: cannot read: bundles/one/values.yaml: No such file or directory"},
  {"a values file that is not a map",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\nvalues: v.yaml\n", ["bundles/one/v.yaml"] = "- 1\n"},
   "bundles/one/v.yaml:1:1: a values file must be a map, not a list"},
  {"a bundle folder without bundle.yaml",
   {["bundles/two/values.yaml"] = "a: 1\n"},
   "bundles/two/:1:1: the folder has no bundle.yaml: add one or remove the folder"},
  {"bundle.yml instead of bundle.yaml",
   {["bundles/two/bundle.yml"] = "chart: charts/one\n"},
   "the folder has no bundle.yaml (rename bundle.yml to bundle.yaml)"},
  {"a bad release name",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\nrelease: My_Release\n"},
   'bundles/one/bundle.yaml:2:1: release "My_Release" is not a valid Helm release name'},
  {"a bad namespace",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\nnamespace: Apps\n"},
   'bundles/one/bundle.yaml:2:1: namespace "Apps" is not a valid name'},
  {"a smoke test without a name",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\nsmoke:\n  - type: http\n    url: http://x/\n"},
   "bundles/one/bundle.yaml:3:5: a smoke test needs a name"},
  {"a smoke test of an unknown type",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\nsmoke:\n  - {name: t, type: htp}\n"},
   'bundles/one/bundle.yaml:3:15: smoke test type "htp" is not one of condition, exec, helm-test, http, lua, tcp (did you mean "http"?)'},
  {"two smoke tests with one name",
   {["bundles/one/bundle.yaml"] = "chart: charts/one\nsmoke:\n  - {name: t, type: tcp}\n  - {name: t, type: tcp}\n"},
   'bundles/one/bundle.yaml:4:6: smoke test "t" is declared twice'},
  {"a YAML syntax error",
   {["sites/a.yaml"] = "name: a\nlabels: {env: prod\n"},
   "sites/a.yaml:3:1: did not find expected ',' or '}'"},
  {"a site file that is not a map",
   {["sites/a.yaml"] = "- a\n"},
   "sites/a.yaml:1:1: a site file must be a map, not a list"},
  {"no sites folder",
   {["sites/a.yaml"] = false},
   "sites/:1:1: the repo has no sites folder"},
  {"a site name that is not a DNS name",
   {["sites/a.yaml"] = false, ["sites/A_1.yaml"] = "name: A_1\n"},
   'site name "A_1" must be lowercase letters'},
}

for _, c in ipairs(cases) do
  local rp, text, list = problems(c[2])
  t.ok(rp == nil and type(text) == "string" and text:find(c[3], 1, true) ~= nil,
    c[1] .. (rp == nil and (text:find(c[3], 1, true) and "" or "\n got: " .. tostring(text)) or " (loaded)"))
  if rp == nil and c[1] == "a dependency cycle, named" then
    t.is(#list, 1, "one problem for one cycle")
  end
end

-- a status branch in another repo carries that repo's own credentials
do
  local rp, text = problems({["sites/a.yaml"] = "name: a\nreport:\n" ..
    "  - {git-branch: true}\n" ..
    "  - git-branch: kedge/status/a\n    repo: https://git.example.org/status.git\n" ..
    "    token-file: /etc/kedge/status.token\n    ca-file: /etc/kedge/ca.pem\n    attempts: 3\n" ..
    "  - {webhook: https://ops.example.org/r, token-file: /t, timeout: 5}\n"})
  t.ok(rp, "git-branch: true, credentials for another repo and a webhook timeout load" ..
    (rp and "" or ("\n got: " .. tostring(text))))
  if rp then
    local r = rp.sites.a.report
    t.same({r[1]["git-branch"], r[2]["token-file"], r[2].attempts, r[3].timeout},
      {true, "/etc/kedge/status.token", 3, 5}, "the destination keys reach the model as written")
  end
end

-- several problems at once, each with its place, sorted by file and line
do
  local rp, text, list = problems({
    ["sites/a.yaml"] = "name: a\nlables: {}\ncapacity: {cpu: lots}\n",
    ["bundles/one/bundle.yaml"] = "chart: charts/none\n",
  })
  t.is(rp, nil, "a repo with several problems does not load")
  t.is(#list, 3, "every problem is reported")
  t.same({list[1].file, list[1].line}, {"bundles/one/bundle.yaml", 1}, "sorted by file")
  t.same({list[2].file, list[2].line, list[3].line}, {"sites/a.yaml", 2, 3}, "then by line")
  t.is(select(2, text:gsub("\n", "")), 2, "the text has one line per problem")
end

-- select errors
do
  local rp = assert(problems({
    ["sites/a.yaml"] = "name: a\nlabels: {env: prod}\n",
    ["bundles/one/bundle.yaml"] = "chart: charts/one\ntargets: [{matchLabels: {env: prod}}]\ndependsOn: [two]\n",
    ["bundles/two/bundle.yaml"] = "chart: charts/one\ntargets: [{matchLabels: {env: staging}}]\n",
  }))
  local sel, e = site.select(rp, "a")
  t.is(sel, nil, "a dependency that does not target the site")
  t.is(e, "bundles/one/bundle.yaml:3:13: bundle one depends on two, which does not target site a: make two target it too, or drop the dependency",
    "is refused, naming the line")
  rp = assert(problems({
    ["sites/a.yaml"] = "name: a\nlabels: {env: prod}\nvalues:\n  one: {x: 1}\n",
    ["bundles/one/bundle.yaml"] = "chart: charts/one\ntargets: []\n",
  }))
  t.like(rp.warnings[1], "^sites/a%.yaml: values for bundle one, which does not target this site",
    "values for a bundle that does not target the site: a warning")
  t.is(#assert(site.select(rp, "a")), 0, "targets: [] selects nothing")
  rp = assert(problems({
    ["bundles/z/bundle.yaml"] = "chart: charts/one\n",
    ["bundles/b/bundle.yaml"] = "chart: charts/one\ndependsOn: [z]\n",
    ["bundles/a/bundle.yaml"] = "chart: charts/one\ndependsOn: [b]\n",
    ["bundles/c/bundle.yaml"] = "chart: charts/one\n",
  }))
  t.is(names(assert(site.select(rp, "a"))), "c one z b a", "topological, names in order among the free ones")
end

-- plain folders ----------------------------------------------------------

do
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir -p " .. dir .. "/repo/sites && echo 'name: x' > " .. dir .. "/repo/sites/x.yaml"
    .. " && echo secret > " .. dir .. "/outside && ln -s ../outside " .. dir .. "/repo/link"
    .. " && ln -s x.yaml " .. dir .. "/repo/sites/y.yaml"))
  local tr = assert(site.dir_tree(dir .. "/repo"))
  t.is(tr:read("sites/x.yaml"), "name: x\n", "dir_tree reads files")
  local n, e = tr:read("link")
  t.ok(n == nil and e:find("leads outside the repository", 1, true), "a symlink out of the tree is refused")
  n, e = tr:read("../outside")
  t.ok(n == nil and e:find('may not contain ".."', 1, true), "a path with .. is refused")
  n, e = tr:read("/etc/passwd")
  t.ok(n == nil and e ~= nil, "an absolute path is refused")
  t.is(tr:read("sites/y.yaml"), "name: x\n", "a symlink inside the tree is followed")
  t.is(tr:id(), nil, "a plain folder has no commit id")
  local ents = assert(tr:list("sites"))
  t.is(#ents, 2, "list")
  local bad, lerr = site.load(tr)
  t.is(bad, nil, "a link to another site's file")
  t.like(lerr, 'sites/y%.yaml:1:1: the site is named "x" but its file is sites/y%.yaml', "is a name mismatch")
  tr:close()
  local none2, derr = site.dir_tree(dir .. "/nope")
  t.ok(none2 == nil and derr:find("No such file", 1, true), "a missing folder")
  os.execute("rm -rf " .. dir)
end

t.raises(function() site.load(42) end, "give a tree", "a wrong argument raises")

t.done()

-- kedge.chart.merge_values: the one values-layer merge (kedge render's -f
-- files, the pass's bundle/targetValues/site values), and the constants
-- the pass shares with kedge render.
local t = dofile("tests/tap.lua")
local chart = require "kedge.chart"
local kedge = require "kedge"

local a = {m = {x = 1, keep = "a", sub = {p = 1}}, l = kedge.list({1, 2}), s = "a", gone = "a"}
local b = {m = {x = 2, sub = {q = 2}}, l = {3}, gone = kedge.null, new = 1.5}
local c = {m = {sub = "flat"}, s = "c"}
local m = chart.merge_values({a, b, c})
t.same(m.m, {x = 2, keep = "a", sub = "flat"}, "maps merge deeply, later layers win")
t.same(m.l, {3}, "lists replace")
t.is(m.s, "c", "scalars replace")
t.ok(kedge.is_null(m.gone), "null replaces and stays (rendering deletes the chart's default)")
t.is(m.new, 1.5, "new keys, numbers as they were")
t.same(a.m, {x = 1, keep = "a", sub = {p = 1}}, "the layers are not changed")
t.same(chart.merge_values({}), {}, "no layers: an empty map")
t.same(chart.merge_values({{a = 1}}), {a = 1}, "one layer")
t.same(chart.merge_values({{a = {b = 1}}, {a = {}}}), {a = {b = 1}}, "an empty table merges as a map")
t.same(chart.merge_values({{a = 1}, "x"}), "x", "a layer that is not a map replaces")
t.same(chart.merge_values({"x", {a = 1}}), {a = 1}, "a map after it starts over")
t.ok(kedge.is_null(chart.merge_values({{a = 1}, kedge.null})), "a null layer replaces everything")
t.raises(function() chart.merge_values({{f = print}}) end, "values layer 1", "functions are refused")
t.raises(function() chart.merge_values("x") end, "table expected", "a list of layers")

-- Helm coalesces the chart's defaults under the merged values; null deletes
local root = os.getenv("KEDGE_CHARTS_DIR") or "../shared/charts"
local pod = assert(chart.load(root .. "/podinfo"))
local ms = assert(pod:render(chart.merge_values({{podAnnotations = {a = "1"}},
  {resources = kedge.null}}), {release = "rel"}))
local dep
for _, x in ipairs(ms) do if x.kind == "Deployment" then dep = x.value end end
t.is(dep.spec.template.metadata.annotations.a, "1", "merged values reach the chart")
local res = dep.spec.template.spec.containers[1].resources
t.ok(res == nil or kedge.is_null(res), "a null deletes the chart's default")

t.is(chart.DEFAULT_KUBE_VERSION, "v1.30.0", "the default kube version")
t.is(require("kedge.site").DEFAULT_KUBE_VERSION, "1.30.0", "site's, without the v")
t.is(chart.INSTALL_ORDER[1], "PriorityClass", "Helm's install order")
t.is(chart.INSTALL_ORDER[#chart.INSTALL_ORDER], "APIService", "to its last kind")
t.is(require("kedge.kube").INSTALL_ORDER, chart.INSTALL_ORDER, "kube applies in the same order")
t.done()

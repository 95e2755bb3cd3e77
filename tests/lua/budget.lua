-- kedge.budget: quantities exactly as resource.Quantity reads them, pods
-- summed by Kubernetes' rules (init containers, sidecars, overhead,
-- pod-level resources), every workload kind, the missing-requests policy,
-- capacity minus reserve and the shortfall, the table, and real charts
-- from the corpus checked against numbers worked out from their goldens.
local t = dofile("tests/tap.lua")
local budget = require "kedge.budget"
local chart = require "kedge.chart"
local yaml = require "kedge.yaml"
local kedge = require "kedge"

local q = budget.quantity
local GI, MI, KI = 1 << 30, 1 << 20, 1 << 10

-- --- quantities: {text, milli (MilliValue), units (Value)} ----------------
-- The expectations follow apimachinery's own parse table: the exact value,
-- rounded up to nano when parsed, then up to milli or to whole units.
local cases = {
  {"0", 0, 0}, {"0n", 0, 0}, {"0Ki", 0, 0}, {"000", 0, 0}, {"0.0", 0, 0}, {"0e5", 0, 0},
  {"1", 1000, 1}, {"9", 9000, 9},
  {"100m", 100, 1}, {"3m", 3, 1}, {"1500m", 1500, 2},
  {"5n", 1, 1}, {"4u", 1, 1}, {"0.1m", 1, 1},
  {"8k", 8000000, 8000}, {"50k", 50000000, 50000}, {"7M", 7000000000, 7000000},
  {"6G", 6000000000000, 6000000000}, {"5T", 5000000000000000, 5000000000000},
  {"1Ki", 1024000, 1024}, {"8Ki", 8192000, 8192}, {"7Mi", 7 * MI * 1000, 7 * MI},
  {"500Mi", 500 * MI * 1000, 500 * MI}, {"6Gi", 6 * GI * 1000, 6 * GI},
  {"5Ti", 5 * (1 << 40) * 1000, 5 * (1 << 40)}, {"4Pi", 4 * (1 << 50) * 1000, 4 * (1 << 50)},
  {"3Ei", nil, 3 * (1 << 60)}, {"1E", nil, 1000000000000000000},
  {"1E-3", 1, 1}, {"1e3", 1000000, 1000}, {"2e3", 2000000, 2000}, {"1E6", 1000000000, 1000000},
  {"1e9", 1000000000000, 1000000000}, {"1e15", 1000000000000000000, 1000000000000000},
  {"100.035k", 100035000, 100035}, {"0.001", 1, 1}, {"0.0005k", 500, 1},
  {"0.5", 500, 1}, {"0.5e-2", 5, 1}, {"10.035M", 10035000000, 10035000},
  {"1.2e3", 1200000, 1200}, {"1.3E+6", 1300000000, 1300000}, {"1.40e9", 1400000000000, 1400000000},
  {"9.01", 9010, 10}, {"8.1k", 8100000, 8100}, {"7.123456M", 7123456000, 7123456},
  {"6.987654321G", 6987654321000, 6987654321}, {"2.5P", 2500000000000000000, 2500000000000000},
  {"3.001n", 1, 1}, {"1.1E-9", 1, 1}, {"0.0000000001", 1, 1}, {"0.00000012345", 1, 1},
  {"1e-100", 1, 1},
  {"1.5Gi", 1610612736000, 1610612736}, {"0.5Mi", 524288000, 524288},
  {"100.035Ki", 102435840, 102436}, {"0.05Gi", 53687091200, 53687092},
  {"0.025Ti", 27487790694400, 27487790695}, {"0.000000000001Ki", 1, 1},
  {".001", 1, 1}, {".0001k", 100, 1}, {"1.", 1000, 1}, {"1.G", 1000000000000, 1000000000},
  {"+1.5", 1500, 2}, {"-1", -1000, -1}, {"-100m", -100, -1}, {"-1.5", -1500, -2}, {"-0", 0, 0}, {"+", 0, 0}, {"-", 0, 0},
  {".", 0, 0}, {"00.5", 500, 1}, {"1E+3", 1000000, 1000}, {"+.5", 500, 1}, {"5e-1", 500, 1},
  {"1e-10", 1, 1}, {"0.000000000000000000000000000001", 1, 1}, {".e3", 0, 0}, {"0e0", 0, 0},
  -- binary suffixes saturate at 2^63-1, decimal ones do not
  {"9Ei", nil, math.maxinteger}, {"9223372036854775807Ki", nil, math.maxinteger},
  {"8Ei", nil, math.maxinteger}, {"7Ei", nil, 7 * (1 << 60)},
  {"9223372036854775807", nil, math.maxinteger}, {"9223372036854775", 9223372036854775000, 9223372036854775},
  -- what Quantity.UnmarshalJSON trims: spaces, not the controls JSON escapes
  {" 100m ", 100, 1}, {"\u{a0}1Gi\u{3000}", GI * 1000, GI},
  -- YAML numbers arrive as Go's shortest text of them
  {2, 2000, 2}, {0.5, 500, 1}, {0.1, 100, 1}, {1e-7, 1, 1}, {1.5e3, 1500000, 1500},
  {0.25, 250, 1}, {-2, -2000, -2}, {1e18, nil, 1000000000000000000},
}
for _, c in ipairs(cases) do
  local name = type(c[1]) == "string" and string.format("%q", c[1]):gsub("\\\n", "\\n") or tostring(c[1])
  local milli, merr = q(c[1])
  if c[2] then
    t.is(milli, c[2], name .. " in milli-units")
  else
    t.ok(milli == nil and merr:find("too large"), name .. " does not fit milli-units in 64 bits")
  end
  t.is(q(c[1], "memory"), c[3], name .. " in units")
end
t.is(q("250m", "cpu"), 250, "cpu is in millicores")
t.is(q("110", "pods"), 110, "pods in units")
t.is(q("3", "nodes"), 3, "nodes in units")

local invalid = {
  "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-",
  "1K", "1ki", "1KI", "1KiB", "1Zi", "1e", "1e+", "1e1.5", "1e.5", "1e3k", "1E3Ki", "1e+-3",
  "1..5", "1-", "++1", "1,5", "1_000", "0x10", "1/2", "1 Ki", "Inf", "NaN", "", "  ",
  "1e99999999999999999999", "12E", "1e19", "1Gi\n", "\t1", "1\r",
}
for _, s in ipairs(invalid) do
  local v, err = q(s)
  t.ok(v == nil and type(err) == "string" and err:find(string.format("%q", s), 1, true),
       (string.format("%q is refused, naming the text", s):gsub("\\\n", "\\n")))
end
local _, e1 = q("0.1mi")
t.is(e1, 'invalid quantity "0.1mi": unknown suffix "mi" (use n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or e<N>)',
     "the error says which suffixes exist")
local _, e2 = q("1e4294967296")
t.like(e2, "exponent out of range", "a 32-bit-wrapping exponent is refused rather than wrapped")
t.like(select(2, q(true)), "string or a number, not boolean", "booleans are not quantities")
t.like(select(2, q(kedge.null)), "not null", "null is not a quantity")
t.like(select(2, q(0 / 0)), "not a finite number", "NaN is not a quantity")
t.like(select(2, q(math.huge)), "not a finite number", "infinity is not a quantity")
t.raises(function() q("1", "gpu") end, "unknown dimension gpu", "an unknown dimension raises")

-- format: the shortest exact spelling, read back unchanged
local fmt = {
  {1500, "cpu", "1500m"}, {2000, "cpu", "2"}, {0, "cpu", "0"}, {1, "cpu", "1m"}, {1024000, "cpu", "1024"},
  {2000000, nil, "2000"},
  {GI, "memory", "1Gi"}, {1536 * MI, "memory", "1536Mi"}, {1000, "memory", "1k"},
  {128 * MI + 100000000, "memory", "234217728"}, {5000000, "storage", "5M"},
  {1 << 60, "memory", "1Ei"}, {110, "pods", "110"}, {-300, "cpu", "-300m"}, {3, "memory", "3"},
}
for _, f in ipairs(fmt) do
  t.is(budget.format(f[1], f[2]), f[3], "format " .. f[1] .. " " .. tostring(f[2]))
  t.is(q(f[3], f[2]), f[1], "and back " .. f[3])
end
t.raises(function() budget.format(1.5, "cpu") end, "integer expected", "format wants integers")

-- --- workloads ---------------------------------------------------------------

local function res(req, lim)
  return {requests = req, limits = lim}
end
local function ctr(name, req, lim, extra)
  local c = {name = name, image = "x", resources = res(req, lim)}
  for k, v in pairs(extra or {}) do c[k] = v end
  return c
end
local function podspec(containers, inits, extra)
  local s = {containers = containers, initContainers = inits}
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end
local function workload(kind, name, spec, api)
  local apis = {Deployment = "apps/v1", StatefulSet = "apps/v1", DaemonSet = "apps/v1",
                ReplicaSet = "apps/v1", Job = "batch/v1", CronJob = "batch/v1",
                Pod = "v1", ReplicationController = "v1", PersistentVolumeClaim = "v1",
                HorizontalPodAutoscaler = "autoscaling/v2", PodTemplate = "v1", ConfigMap = "v1"}
  return {apiVersion = api or apis[kind], kind = kind, metadata = {name = name}, spec = spec}
end
local function deployment(name, replicas, spec, kind)
  return workload(kind or "Deployment", name, {replicas = replicas, template = {spec = spec}})
end
local SITE = {name = "edge", capacity = {cpu = "8", memory = "16Gi", storage = "500Gi",
              ["ephemeral-storage"] = "100Gi", pods = 110, nodes = 3},
              policy = {["missing-requests"] = "count-as-zero"}}
local function one(objects, site)
  return budget.compute(site or SITE, {{bundle = "b", objects = objects}})
end
local function row(objects, site) return one(objects, site).rows[1] end

local web = podspec({ctr("web", {cpu = "100m", memory = "64Mi"}, {cpu = "200m", memory = "128Mi"})})
local r = row({deployment("web", 3, web)})
t.is(r.cpu_req, 300, "Deployment: requests × replicas")
t.is(r.cpu_lim, 600, "limits × replicas")
t.is(r.memory_req, 192 * MI, "memory × replicas")
t.is(r.memory_lim, 384 * MI, "memory limit × replicas")
t.is(r.pods, 3, "pods counted")
t.same(r.unbounded, {"ephemeral-storage"}, "a dimension where a container sets no limit is flagged")
t.is(r.ephemeral_storage_req, 0, "no ephemeral-storage request counts as zero")
t.same(r.workloads[1], {kind = "Deployment", name = "web", count = 3, storage = 0,
  requests = {cpu = 100, memory = 64 * MI, ["ephemeral-storage"] = 0},
  limits = {cpu = 200, memory = 128 * MI, ["ephemeral-storage"] = 0}}, "the workload's detail per pod")
t.is(row({deployment("web", nil, web)}).cpu_req, 100, "replicas default to 1")
local zero = row({deployment("web", 0, web)})
t.ok(zero.cpu_req == 0 and zero.pods == 0, "replicas 0 counts nothing")
t.is(row({deployment("web", 2, web, "StatefulSet")}).pods, 2, "StatefulSet replicas")
t.is(row({deployment("web", 4, web, "ReplicaSet")}).cpu_req, 400, "ReplicaSet replicas")
t.is(row({deployment("web", 5, web, "ReplicationController")}).cpu_req, 500, "ReplicationController replicas")
t.is(row({workload("Deployment", "web", {replicas = 2.0, template = {spec = web}})}).pods, 2,
     "a float that is a whole number is a count")
local ds = row({workload("DaemonSet", "agent", {template = {spec = web}})})
t.ok(ds.cpu_req == 300 and ds.pods == 3, "DaemonSet × the site's nodes")
local ds1 = budget.compute({name = "s", capacity = {cpu = 1}}, {{bundle = "b",
  objects = {workload("DaemonSet", "agent", {template = {spec = web}})}}})
t.is(ds1.rows[1].pods, 1, "nodes default to 1")
t.is(row({workload("Pod", "p", web)}).cpu_req, 100, "a bare Pod counts once")
t.is(row({workload("PodTemplate", "pt", {template = {spec = web}}), workload("ConfigMap", "c", nil)}).pods, 0,
     "PodTemplates and other kinds count nothing")
t.is(row({deployment("web", 3, web, "Deployment"), {apiVersion = "example.com/v1", kind = "Deployment",
  metadata = {name = "other"}, spec = {replicas = 9, template = {spec = web}}}}).pods, 3,
  "a custom resource that is also called Deployment is not one")
t.is(row({{apiVersion = "extensions/v1beta1", kind = "Deployment", metadata = {name = "old"},
  spec = {replicas = 2, template = {spec = web}}}}).pods, 2, "older apps groups count")

local function job(par, comp)
  return workload("Job", "j", {parallelism = par, completions = comp, template = {spec = web}})
end
t.is(row({job(4, 2)}).pods, 2, "Job: parallelism capped by completions")
t.is(row({job(4, nil)}).pods, 4, "Job: parallelism")
t.is(row({job(nil, 5)}).pods, 1, "Job: parallelism defaults to 1")
t.is(row({job(0, 5)}).cpu_req, 0, "Job: parallelism 0")
t.is(row({workload("CronJob", "c", {schedule = "* * * * *",
  jobTemplate = {spec = {parallelism = 3, template = {spec = web}}}})}).cpu_req, 300,
  "CronJob: the job template's parallelism")
t.is(row({workload("CronJob", "c", {jobTemplate = {spec = {template = {spec = web}}}})}).pods, 1,
     "CronJob: one pod by default")

-- init containers: the largest against the sum
local init = podspec(
  {ctr("a", {cpu = "100m", memory = "100Mi"}), ctr("b", {cpu = "200m", memory = "50Mi"})},
  {ctr("i1", {cpu = "500m", memory = "10Mi"}), ctr("i2", {cpu = "50m", memory = "300Mi"})})
r = row({workload("Pod", "p", init)})
t.is(r.cpu_req, 500, "the biggest init container wins over the sum (cpu)")
t.is(r.memory_req, 300 * MI, "each dimension on its own (memory)")
local small_init = podspec({ctr("a", {cpu = "1"})}, {ctr("i", {cpu = "200m"})})
t.is(row({workload("Pod", "p", small_init)}).cpu_req, 1000, "the sum wins over a smaller init container")

-- sidecars (restartPolicy: Always) run alongside: Kubernetes ≥ 1.29
local side = podspec({ctr("c", {cpu = "200m", memory = "100Mi"})},
  {ctr("s1", {cpu = "100m", memory = "10Mi"}, nil, {restartPolicy = "Always"}),
   ctr("i2", {cpu = "400m", memory = "10Mi"})})
r = row({workload("Pod", "p", side)})
t.is(r.cpu_req, 500, "an init container after a sidecar runs beside it: 400m + 100m")
t.is(r.memory_req, 110 * MI, "the sidecar adds to the containers: 100Mi + 10Mi")
local before = podspec({ctr("c", {cpu = "200m"})},
  {ctr("i0", {cpu = "250m"}), ctr("s", {cpu = "100m"}, nil, {restartPolicy = "Always"})})
t.is(row({workload("Pod", "p", before)}).cpu_req, 300, "an init container before the sidecar runs alone")

-- limits default requests; overhead; pod-level resources
r = row({workload("Pod", "p", podspec({ctr("c", nil, {cpu = "300m", memory = "1Gi"})}))},
        {name = "s", capacity = {}, policy = {["missing-requests"] = "refuse"}})
t.ok(r.cpu_req == 300 and r.memory_req == GI, "a limit without a request is the request")
local ov = podspec({ctr("c", {cpu = "100m"}, {cpu = "500m"})}, nil,
  {overhead = {cpu = "250m", memory = "120Mi"}})
r = row({workload("Pod", "p", ov)})
t.is(r.cpu_req, 350, "overhead adds to requests")
t.is(r.cpu_lim, 750, "and to limits that are set")
t.is(r.memory_req, 120 * MI, "overhead alone")
t.is(r.memory_lim, 0, "but not to a limit nobody set")
t.same(r.unbounded, {"memory", "ephemeral-storage"}, "dimensions without a limit are flagged")
local rc = {apiVersion = "node.k8s.io/v1", kind = "RuntimeClass", metadata = {name = "kata"}, handler = "kata",
            overhead = {podFixed = {cpu = "250m", memory = "160Mi"}}}
local viaclass = budget.compute({name = "s", capacity = {}}, {
  {bundle = "runtime", objects = {rc}},
  {bundle = "app", objects = {deployment("vm", 2, podspec({ctr("c", {cpu = "100m", memory = "64Mi"})}, nil,
    {runtimeClassName = "kata"})), workload("Pod", "plain", podspec({ctr("c", {cpu = "100m", memory = "64Mi"})}, nil,
    {runtimeClassName = "runc"}))}}})
t.is(viaclass.rows[2].cpu_req, 2 * 350 + 100, "a RuntimeClass's overhead is added to the pods that name it")
t.is(viaclass.rows[2].memory_req, 2 * 224 * MI + 64 * MI, "memory too; an unknown class adds nothing")
local podlevel = podspec({ctr("a", {cpu = "100m", memory = "1Gi"}), ctr("b")}, nil,
  {resources = {requests = {cpu = "1"}, limits = {cpu = "2", memory = "2Gi"}}})
local pl = one({workload("Pod", "p", podlevel)}, {name = "s", capacity = {}})
r = pl.rows[1]
t.is(r.cpu_req, 1000, "pod-level requests replace the containers' sum")
t.is(r.memory_req, 2 * GI, "a pod-level limit without a request is the request")
t.is(r.cpu_lim, 2000, "pod-level limits")
t.is(#pl.warnings, 0, "pod-level requests cover containers without their own")

-- storage: claims, claim templates × replicas, generic ephemeral volumes
local sts = workload("StatefulSet", "db", {replicas = 2, template = {spec = web},
  volumeClaimTemplates = {
    {metadata = {name = "data"}, spec = {resources = {requests = {storage = "10Gi"}}}},
    {metadata = {name = "logs"}, spec = {resources = {requests = {storage = "1Gi"}}}}}})
local pvc = workload("PersistentVolumeClaim", "shared", {resources = {requests = {storage = "5Gi"}}})
local eph = deployment("cache", 2, podspec({ctr("c", {cpu = "10m"})}, nil, {volumes = {
  {name = "scratch", ephemeral = {volumeClaimTemplate = {spec = {resources = {requests = {storage = "1Gi"}}}}}},
  {name = "cfg", configMap = {name = "x"}}}}))
r = row({sts, pvc, eph})
t.is(r.storage_req, 22 * GI + 5 * GI + 2 * GI, "claim templates × replicas, claims, ephemeral volumes × pods")
t.is(r.pods, 4, "pods of both workloads")

-- HorizontalPodAutoscaler: at least minReplicas
local hpa = workload("HorizontalPodAutoscaler", "web", {scaleTargetRef = {apiVersion = "apps/v1",
  kind = "Deployment", name = "web"}, minReplicas = 2, maxReplicas = 5})
local scaled = one({deployment("web", nil, web), hpa})
t.is(scaled.rows[1].pods, 2, "an autoscaled Deployment counts minReplicas")
t.is(scaled.notes[1], "b/Deployment/web is scaled by HorizontalPodAutoscaler web: counted 2 replicas, up to 5 possible",
     "and says how far it can grow")

-- hooks: install, upgrade and test hooks count; delete and rollback ones never run
local function hooked(obj, events)
  obj.metadata.annotations = {["helm.sh/hook"] = events}
  return obj
end
r = row({hooked(workload("Job", "pre", {template = {spec = web}}), "pre-install,pre-upgrade"),
         hooked(workload("Pod", "test", web), "test"),
         hooked(workload("Job", "cleanup", {template = {spec = web}}), "pre-delete"),
         hooked(workload("Job", "undo", {template = {spec = web}}), "post-delete, post-rollback")})
t.is(r.pods, 2, "delete and rollback hooks are not counted")

-- LimitRanges fill in what containers leave out, in their namespace
local function limitrange(ns, item)
  item.type = "Container"
  return {apiVersion = "v1", kind = "LimitRange", metadata = {name = "lr", namespace = ns},
          spec = {limits = {item, {type = "Pod", max = {cpu = "1m"}}}}}
end
local lonely = podspec({ctr("c", nil, nil), ctr("d", {cpu = "50m"}, {memory = "64Mi"})})
local lr = budget.compute({name = "s", capacity = {}, policy = {["missing-requests"] = "refuse"}}, {
  {bundle = "platform", namespace = "apps", objects = {limitrange(nil,
    {default = {cpu = "500m", memory = "256Mi"}, defaultRequest = {cpu = "100m"}})}},
  {bundle = "app", namespace = "apps", objects = {workload("Pod", "p", lonely)}},
})
t.is(#lr.errors, 0, "a LimitRange's defaults count as requests, even with refuse")
r = lr.rows[2]
t.is(r.cpu_req, 150, "defaultRequest for the container without a cpu request")
t.is(r.memory_req, 256 * MI + 64 * MI, "default limit → request where no defaultRequest is given; a limit stays the request")
t.is(r.cpu_lim, 1000, "default limits fill the missing limits")
t.same(r.unbounded, {"ephemeral-storage"}, "so cpu and memory are bounded")
local maxmin = row({limitrange(nil, {max = {cpu = "2"}, min = {memory = "32Mi"}}), workload("Pod", "p", podspec({ctr("c")}))})
t.ok(maxmin.cpu_req == 2000 and maxmin.cpu_lim == 2000 and maxmin.memory_req == 32 * MI,
     "max → default limit → request; min → request")
local elsewhere = one({limitrange("other", {defaultRequest = {cpu = "1"}}), workload("Pod", "p", podspec({ctr("c")}))})
t.is(elsewhere.rows[1].cpu_req, 0, "a LimitRange of another namespace does not apply")
t.like(one({limitrange(nil, {default = {cpu = "x"}})}).errors[1], "b/LimitRange/lr spec.limits%[1%].default.cpu: invalid quantity",
       "a bad LimitRange is an error")

-- kedge.chart's render entries carry the object under .value
r = row({{source = "x/templates/d.yaml", kind = "Deployment", value = deployment("web", 2, web)}})
t.is(r.cpu_req, 200, "render entries are read through .value")

-- --- the missing-requests policy --------------------------------------------

local bare = {deployment("api", 2, podspec({ctr("app", {memory = "64Mi"}), ctr("log", nil)},
  {ctr("setup", {cpu = "50m", memory = "8Mi"})}))}
local function with_policy(p)
  return budget.compute({name = "s", capacity = {cpu = "1"}, policy = {["missing-requests"] = p}},
    {{bundle = "svc", objects = bare}})
end
local z = with_policy("count-as-zero")
t.ok(#z.warnings == 0 and #z.errors == 0 and z.fits, "count-as-zero: quiet")
t.is(z.rows[1].cpu_req, 100, "count-as-zero: max(init 50m, 0 + 0) × 2")
local w = with_policy("warn")
t.same(w.warnings, {"svc/Deployment/api container app has no cpu request; counted as 0",
                    "svc/Deployment/api container log has no cpu or memory request; counted as 0"},
       "warn: one warning per container naming bundle, kind, name and container")
t.ok(w.fits, "warn: still fits")
local nopolicy = budget.compute({name = "s", capacity = {}}, {{bundle = "svc", objects = bare}})
t.is(#nopolicy.warnings, 2, "warn is the default")
t.is(nopolicy.policy, "warn", "the result names the policy")
local refused = with_policy("refuse")
t.is(refused.fits, false, "refuse: does not fit")
t.is(refused.errors[1], "svc/Deployment/api container app has no cpu request (site policy missing-requests: refuse)",
     "refuse: an error per container")
t.is(#refused.errors, 2, "both containers")
local d = with_policy({cpu = "100m", memory = "128Mi"})
t.is(d.rows[1].cpu_req, 2 * 200, "defaults: each container without a cpu request gets 100m")
t.is(d.rows[1].memory_req, 2 * (64 * MI + 128 * MI), "defaults: and 128Mi memory")
t.is(#d.warnings, 0, "defaults: no warnings")
t.is(d.policy, "defaults", "the result says defaults")
local half = with_policy({cpu = "100m"})
t.same(half.warnings, {"svc/Deployment/api container log has no memory request; counted as 0"},
       "defaults without memory: that one is warned about")
local explicit0 = one({workload("Pod", "p", podspec({ctr("c", {cpu = 0, memory = "0"})}))},
  {name = "s", capacity = {}, policy = {["missing-requests"] = "refuse"}})
t.ok(explicit0.fits and #explicit0.errors == 0, "an explicit zero is a request")
local badp = with_policy("strict")
t.like(badp.errors[1], 'policy.missing%-requests is "strict"; use count%-as%-zero, warn, refuse', "an unknown policy")
t.is(badp.fits, false, "refuses")
t.like(with_policy({gpu = "1"}).errors[1], "only cpu, memory and ephemeral%-storage", "an unknown default")
t.like(with_policy({cpu = "lots"}).errors[1], 'missing%-requests%.cpu: invalid quantity "lots"', "a bad default")

-- --- capacity, reserve, shortfall ----------------------------------------------

local tight = {name = "tight", capacity = {cpu = "1", memory = "1Gi", pods = 10},
               reserve = {cpu = "200m", memory = "128Mi"},
               policy = {["missing-requests"] = "count-as-zero"}}
local two = {
  {bundle = "front", objects = {deployment("web", 3, web)}},
  {bundle = "back", objects = {deployment("api", 3, podspec({ctr("c", {cpu = "200m", memory = "128Mi"})}))}},
}
local res1 = budget.compute(tight, two)
t.is(res1.total.cpu_req, 900, "total over bundles")
t.is(res1.total.memory_req, 576 * MI, "memory total")
t.is(res1.total.pods, 6, "pods total")
t.same(res1.available, {cpu = 800, memory = 896 * MI, pods = 10}, "available = capacity − reserve")
t.same(res1.shortfall, {cpu = 100}, "the shortfall")
t.is(res1.fits, false, "does not fit")
t.same(res1.unchecked, {"ephemeral-storage", "storage"}, "dimensions without capacity are unchecked")
t.is(#res1.rows, 2, "a row per bundle")
t.is(res1.rows[2].bundle, "back", "in the order given")
local text = budget.table(res1)
t.is(text, table.concat({
  "bundle     cpu req  cpu lim  mem req  mem lim    eph req  eph lim    storage  pods",
  "front         300m     600m    192Mi    384Mi          0       0+          0     3",
  "back          600m       0+    384Mi       0+          0       0+          0     3",
  "----------------------------------------------------------------------------------",
  "total         900m    600m+    576Mi   384Mi+          0       0+          0     6",
  "available     800m             896Mi           unchecked           unchecked    10",
  "shortfall    !100m                ok                   -                   -    ok",
  "",
  "cpu in cores or millicores (m), memory and storage in bytes (Ki Mi Gi ... = 1024^n, k M G = 1000^n)",
  "+ some containers set no limit there: the limit shown is what the others declare",
  "unchecked: the site declares no capacity for ephemeral-storage, storage",
  "DOES NOT FIT: cpu short by 100m",
  ""}, "\n"), "the table")
tight.capacity.cpu = "2"
local ok2 = budget.compute(tight, two)
t.ok(ok2.fits and next(ok2.shortfall) == nil, "with more cpu it fits")
t.like(budget.table(ok2), "\nFITS: the requests fit the site's capacity minus its reserve\n", "and says so")
local over = budget.compute({name = "s", capacity = {cpu = "1"}, reserve = {cpu = "2"}}, two)
t.is(over.available.cpu, 0, "a reserve above capacity leaves nothing")

-- errors in manifests and the site
local broken = one({deployment("x", 1, podspec({ctr("c", {cpu = "lots"})}))})
t.is(broken.errors[1], 'b/Deployment/x spec.containers[c].resources.requests.cpu: invalid quantity "lots": ' ..
     "expected digits, an optional fraction and one of the suffixes n u m k M G T P E Ki Mi Gi Ti Pi Ei or an exponent like e3",
     "a bad quantity names bundle, object, container and field")
t.is(broken.fits, false, "and the budget fails")
t.like(one({deployment("x", "three", web)}).errors[1], "b/Deployment/x spec.replicas must be a whole number",
       "bad replicas")
t.like(one({deployment("x", -1, web)}).errors[1], "at least 0", "negative replicas")
t.like(one({deployment("x", "3", web)}).errors[1], "spec.replicas must be a whole number of at least 0, not 3",
       "replicas as a string are refused, as the API refuses them")
t.like(one({job(1.5, nil)}).errors[1], "b/Job/j spec.parallelism must be a whole number", "fractional parallelism")
t.like(one({deployment("x", 1, podspec({ctr("c", {cpu = "-1"})}))}).errors[1], "is negative", "negative requests")
t.like(one({workload("PersistentVolumeClaim", "p", {resources = {requests = {storage = "big"}}})}).errors[1],
       "b/PersistentVolumeClaim/p spec.resources.requests.storage: invalid quantity", "a bad claim")
local huge = one({deployment("x", 100, podspec({ctr("c", {memory = "8Ei"})}))})
t.like(huge.errors[1], "b/Deployment/x: the amounts overflow 64%-bit integers", "overflow is an error, not a wrap")
local badsite = budget.compute({name = "s", capacity = {memory = "lots", nodes = "two"}}, {})
t.like(badsite.errors[1], "site s: capacity.nodes: invalid quantity", "a bad site capacity")
t.like(badsite.errors[2], "site s: capacity.memory: invalid quantity", "names the key")
local typo = budget.compute({name = "s", capacity = {memroy = "1Gi"}}, {})
t.is(typo.errors[1], "site s: capacity.memroy is not something kedge budgets; use cpu, memory, ephemeral-storage, storage, pods or nodes",
     "an unknown capacity key is an error, not a silently unchecked dimension")
local nulls = one({workload("Pod", "p", {containers = {{name = "c", resources = {requests = kedge.null}}}}),
                   workload("Deployment", "d", kedge.null)})
t.ok(#nulls.errors == 0 and nulls.rows[1].pods == 2, "null fields read as absent")
local empty = budget.compute({name = "s", capacity = {cpu = 1}}, {})
t.ok(empty.fits and #empty.rows == 0 and empty.total.cpu_req == 0, "nothing rendered fits")

t.raises(function() budget.compute("site", {}) end, "site must be a table", "a site that is no table raises")
t.raises(function() budget.compute({}, {{bundle = "x"}}) end, "rendered%[1%] must be", "a rendered entry without objects raises")
t.raises(function() budget.table({}) end, "a result of budget.compute expected", "table() wants a result")

-- the result encodes as JSON (lists stay lists)
local json = require "kedge.json"
local enc = json.encode(z)
t.like(enc, '"warnings":%[%]', "empty lists encode as []")
t.like(enc, '"rows":%[{', "rows encode as a list")
local back = assert(json.decode(json.encode(res1)))
t.is(budget.table(back), budget.table(res1), "a result read back from JSON (a stored report) prints the same table")
local errtable = budget.table(broken)
t.like(errtable, "\nDOES NOT FIT: 1 error%(s%)\nerror: b/Deployment/x spec%.containers%[c%]", "errors are listed under the verdict")
t.like(budget.table(w), "\nwarning: svc/Deployment/api container app has no cpu request; counted as 0\n", "and warnings")
t.like(budget.table(scaled), "\nnote: b/Deployment/web is scaled by HorizontalPodAutoscaler web", "and notes")

-- --- real charts from the corpus -------------------------------------------
-- Numbers worked out by hand from the goldens (helm template rel <chart>
-- --namespace default), see the comments.

local root = os.getenv("KEDGE_CHARTS_DIR") or "../shared/charts"
local function render(name, values_file)
  local c = assert(chart.load(root .. "/" .. name))
  local values
  if values_file then
    local f = assert(io.open(root .. "/" .. name .. "/ci/" .. values_file, "rb"))
    values = assert(yaml.decode(f:read("a")))
    f:close()
  end
  local ms = assert(c:render(values, {release = "rel", namespace = "default"}))
  c:close()
  return ms
end
local site = {name = "edge-1", capacity = {cpu = "2", memory = "4Gi", storage = "40Gi", pods = 30, nodes = 3},
              reserve = {cpu = "500m", memory = "1Gi"}, policy = {["missing-requests"] = "warn"}}
local charts = {
  -- podinfo: Deployment ×1 requesting 1m/16Mi, three test Pods without
  -- resources (test hooks run during smoke tests).
  {bundle = "podinfo", objects = render("podinfo")},
  -- bitnami-redis: master StatefulSet ×1 and replicas StatefulSet ×3, each
  -- pod 100m/128Mi/50Mi ephemeral, limits 150m/192Mi/2Gi, one 8Gi claim
  -- template each.
  {bundle = "redis", objects = render("bitnami-redis")},
  -- ingress-nginx as a DaemonSet: 100m/90Mi × 3 nodes, plus the admission
  -- create/patch hook Jobs without resources.
  {bundle = "ingress", objects = render("ingress-nginx", "controller-daemonset-values.yaml")},
}
local real = budget.compute(site, charts)
local p, rd, ing = real.rows[1], real.rows[2], real.rows[3]
t.ok(p.cpu_req == 1 and p.memory_req == 16 * MI and p.pods == 4, "podinfo: 1m, 16Mi, 4 pods")
t.ok(rd.cpu_req == 400 and rd.cpu_lim == 600, "redis: 4 × 100m, limits 4 × 150m")
t.ok(rd.memory_req == 512 * MI and rd.memory_lim == 768 * MI, "redis: 4 × 128Mi, limits 4 × 192Mi")
t.ok(rd.ephemeral_storage_req == 200 * MI and rd.ephemeral_storage_lim == 8 * GI, "redis: ephemeral 4 × 50Mi, 4 × 2Gi")
t.ok(rd.storage_req == 32 * GI and rd.pods == 4, "redis: 4 × 8Gi claims, 4 pods")
t.same(rd.unbounded, {}, "redis sets every limit")
t.ok(ing.cpu_req == 300 and ing.memory_req == 270 * MI and ing.pods == 5, "ingress-nginx: 3 × 100m, 3 × 90Mi, 3 + 2 pods")
t.is(real.total.cpu_req, 701, "total cpu 701m")
t.is(real.total.memory_req, 798 * MI, "total memory 798Mi")
t.is(real.total.pods, 13, "13 pods")
t.same(real.shortfall, {}, "fits in 2 cores − 500m and 4Gi − 1Gi")
t.ok(real.fits, "fits")
t.is(#real.warnings, 5, "warnings for the 3 podinfo test pods and the 2 admission jobs")
t.is(real.warnings[4], "ingress/Job/rel-ingress-nginx-admission-create container create has no cpu or memory request; counted as 0",
     "naming the container")
site.capacity.storage = "30Gi"
local short = budget.compute(site, charts)
t.same(short.shortfall, {storage = 2 * GI}, "with 30Gi of storage redis's claims are 2Gi short")
t.like(budget.table(short), "DOES NOT FIT: storage short by 2Gi", "the table says so")

t.done()

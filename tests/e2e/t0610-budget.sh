# kedge.budget against a real kube-apiserver (tests/servers/kube/, or the
# cluster KEDGE_TEST_KUBECONFIG names):
# - quantities: the server canonicalises what it accepts (dry run), and
#   kedge must read the canonical text as the same amount it read the
#   input as; what the server refuses, kedge refuses;
# - sums: pods and claims created in a namespace with a ResourceQuota,
#   whose admission plugin adds up each pod's requests by Kubernetes' own
#   rules (init containers, limits as requests, LimitRange defaults),
#   must total what budget.compute says; RuntimeClass admission must give
#   a pod the overhead budget.compute adds for it.
. tests/lib.sh
. tests/servers/kube/lib.sh

kube_start

ID=$$$RANDOM
NS=kedge-b$ID
RC=kedge-b$ID
KC="$KEDGE lua tests/servers/kube/kc.lua"
kc() { $KC "$KUBE_ADMIN" "$@"; }
cleanup_cluster() {
	kc delete v1 Namespace "" "$NS" >/dev/null 2>&1
	kc delete node.k8s.io/v1 RuntimeClass "" "$RC" >/dev/null 2>&1
}
trap 'cleanup_cluster; kube_cleanup' EXIT

# Lines "STATUS<TAB>NAME<TAB>DIAGNOSTIC" from a Lua script become TAP.
tap_lines() {
	local code name diag
	while IFS=$'\t' read -r code name diag; do
		tap_report "$code" "$name" "$diag"
	done
}

cat >"$TMP/quantities.lua" <<'EOF'
local kube = require "kedge.kube"
local budget = require "kedge.budget"
local json = require "kedge.json"
local c = assert(kube.connect{kubeconfig = arg[1]})
local ns = arg[2]
local function say(ok, name, diag)
  print(string.format("%d\t%s\t%s", ok and 0 or 1, name:gsub("[\t\n]", " "), (diag or ""):gsub("[\t\n]", " ")))
end
assert(c:call("POST", assert(c:path("v1", "Namespace")), {apiVersion = "v1", kind = "Namespace",
  metadata = {name = ns}}) == 201)
local pods = assert(c:path("v1", "Pod", ns))

local valid = {
  "0", "000", "1", "100m", "1500m", "0.1m", "5n", "4u", "3.001n", "0.00000012345", "1e-100",
  "8k", "50k", "7M", "6G", "5T", "2P", "1E", "1Ki", "7Mi", "500Mi", "1.5Gi", "5Ti", "4Pi",
  "3Ei", "8Ei", "9Ei", "9223372036854775807Ki", "100.035Ki", "0.5Mi", "0.05Gi", "0.025Ti",
  "0.000000000001Ki", "1E-3", "1e3", "2e3", "1.2e3", "1.3E+6", "1.40e9", "0.5e-2", "9.01",
  "100.035k", "7.123456M", "6.987654321G", "1.01E", ".001", ".0001k", "1.", "1.G", "+1.5",
  " 100m ", "\u{a0}1Gi\u{3000}", "9223372036854775807", "9223372036854775", "1e15", "0.3333333333333",
  "00.5", "1E+3", "+.5", "5e-1", "1e-10", "0.000000000000000000000000000001", ".e3", "0e0",
  0, 2, 0.5, 0.1, 1e-7, 1500.0, 0.25, 123456789,
}
local containers = {}
for i, v in ipairs(valid) do
  local req = {memory = v}
  if budget.quantity(v, "cpu") then req.cpu = v end
  containers[i] = {name = "c" .. i, image = "x", resources = {requests = req}}
end
local st, pod = c:call("POST", pods .. "?dryRun=All", {apiVersion = "v1", kind = "Pod",
  metadata = {name = "quantities"}, spec = {containers = containers}})
say(st == 201, "the server accepts every quantity kedge accepts (dry run)", json.encode(pod or {}))
for i, v in ipairs(valid) do
  local got = pod and pod.spec.containers[i].resources.requests or {}
  local text = type(v) == "string" and string.format("%q", v):gsub("\\\n", "\\n") or tostring(v)
  for _, dim in ipairs({"cpu", "memory"}) do
    if containers[i].resources.requests[dim] ~= nil then
      local mine, canon = budget.quantity(v, dim), budget.quantity(got[dim] or "?", dim)
      say(mine ~= nil and mine == canon, string.format("%s as %s: kedge reads %s, the server keeps %s",
        text, dim, tostring(mine), tostring(got[dim])), tostring(canon))
    end
  end
end

local invalid = {
  "1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-", "1K", "1ki",
  "1KiB", "1Zi", "1e", "1e+", "1e1.5", "1e3k", "1E3Ki", "1e+-3", "1..5", "1-", "++1", "1,5",
  "1_000", "0x10", "1/2", "1 Ki", "Inf", "NaN", "", "1e99999999999999999999", "1Gi\n", "\t1",
  true,
}
for _, v in ipairs(invalid) do
  local st2 = c:call("POST", pods .. "?dryRun=All", {apiVersion = "v1", kind = "Pod",
    metadata = {name = "bad"}, spec = {containers = {{name = "c", image = "x",
      resources = {requests = {memory = v}}}}}})
  local mine = budget.quantity(v, "memory")
  local text = string.format("%q", tostring(v)):gsub("\\\n", "\\n")
  say(st2 == 400 and mine == nil, string.format("%s is refused by the server (%s) and by kedge", text,
    tostring(st2)), tostring(mine))
end
EOF

run "$KEDGE" lua "$TMP/quantities.lua" "$KUBE_ADMIN" "$NS"
is "$rc:$err" "0:" "the quantity checks ran"
tap_lines <<<"$out"

# --- sums: ResourceQuota admission against budget.compute ----------------------
cat >"$TMP/objects.yaml" <<EOF
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: $NS}
spec:
  limits:
  - type: Container
    defaultRequest: {cpu: 150m, memory: 100Mi, ephemeral-storage: 10Mi}
---
apiVersion: v1
kind: Pod
metadata: {name: init, namespace: $NS}
spec:
  containers:
  - {name: a, image: x, resources: {requests: {cpu: 100m, memory: 64Mi, ephemeral-storage: 1Gi}}}
  - {name: b, image: x, resources: {requests: {cpu: 200m, memory: 32Mi, ephemeral-storage: 1Gi}}}
  initContainers:
  - {name: i1, image: x, resources: {requests: {cpu: 500m, memory: 8Mi, ephemeral-storage: 1Gi}}}
  - {name: i2, image: x, resources: {requests: {cpu: 50m, memory: 300Mi, ephemeral-storage: 3Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: limits-only, namespace: $NS}
spec:
  containers:
  - {name: a, image: x, resources: {limits: {cpu: 300m, memory: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: bare, namespace: $NS}
spec:
  containers:
  - {name: a, image: x}
  - {name: b, image: x, resources: {requests: {memory: 0}}}
---
apiVersion: v1
kind: Pod
metadata: {name: fractions, namespace: $NS}
spec:
  containers:
  - {name: a, image: x, resources: {requests: {cpu: "0.1", memory: 1.5Gi, ephemeral-storage: 1G}}}
  - {name: b, image: x, resources: {requests: {cpu: 0.25, memory: 1e6, ephemeral-storage: 2e3}}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: $NS}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 5Gi}}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: logs, namespace: $NS}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1.5Gi}}
EOF

cat >"$TMP/overhead.yaml" <<EOF
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: $RC}
handler: runc
overhead:
  podFixed: {cpu: 250m, memory: 50Mi}
---
apiVersion: v1
kind: Pod
metadata: {name: overhead, namespace: $NS}
spec:
  runtimeClassName: $RC
  containers:
  - {name: a, image: x, resources: {requests: {cpu: 100m, memory: 64Mi}}}
EOF

cat >"$TMP/sums.lua" <<'EOF'
local kube = require "kedge.kube"
local budget = require "kedge.budget"
local yaml = require "kedge.yaml"
local json = require "kedge.json"
local c = assert(kube.connect{kubeconfig = arg[1]})
local ns, file, file2 = arg[2], arg[3], arg[4]
local function say(ok, name, diag)
  print(string.format("%d\t%s\t%s", ok and 0 or 1, name:gsub("[\t\n]", " "), (diag or ""):gsub("[\t\n]", " ")))
end
local function create(o)
  local st, body = c:call("POST", assert(c:path(o.apiVersion, o.kind, o.metadata.namespace)), o)
  if st ~= 201 then error(o.kind .. " " .. o.metadata.name .. ": " .. tostring(st) .. " " .. json.encode(body or {})) end
  return body
end
-- The quota controller is not running: play it, so admission can count.
local hard = {["requests.cpu"] = "100", ["requests.memory"] = "1Ti", ["requests.ephemeral-storage"] = "1Ti",
              ["requests.storage"] = "1Ti", pods = "100"}
local used = {}
for k in pairs(hard) do used[k] = "0" end
local quota = create{apiVersion = "v1", kind = "ResourceQuota", metadata = {name = "q", namespace = ns},
  spec = {hard = hard}}
local qpath = assert(c:path("v1", "ResourceQuota", ns, "q"))
local st = c:call("PATCH", qpath .. "/status", {status = {hard = hard, used = used}}, "application/merge-patch+json")
assert(st == 200, "quota status: " .. tostring(st))

local function load(path)
  local f = assert(io.open(path))
  local docs = assert(yaml.decode_all(f:read("a"), {name = path}))
  f:close()
  return docs
end
local objs = load(file)
for _, o in ipairs(objs) do create(o) end
local _, live = c:call("GET", qpath)
local u = live.status.used

local r = budget.compute({name = "t", capacity = {}, policy = {["missing-requests"] = "refuse"}},
  {{bundle = "all", namespace = ns, objects = objs}})
say(#r.errors == 0, "budget.compute: no errors (every container has a request, LimitRange included)",
  table.concat(r.errors, "; "))
local checks = {
  {"requests.cpu", "cpu_req", "cpu"}, {"requests.memory", "memory_req", "memory"},
  {"requests.ephemeral-storage", "ephemeral_storage_req", "ephemeral-storage"},
  {"requests.storage", "storage_req", "storage"}, {"pods", "pods", "pods"},
}
for _, k in ipairs(checks) do
  local server = budget.quantity(u[k[1]], k[3])
  say(server == r.total[k[2]], string.format("%s: kedge %s, ResourceQuota admission %s", k[1],
    budget.format(r.total[k[2]], k[3]), tostring(u[k[1]])), tostring(server))
end
-- the same numbers worked out by hand
say(r.total.cpu_req == 500 + 300 + 300 + 350, "cpu by hand: max(300m, 500m, 50m) + 300m + 2×150m + 350m",
  tostring(r.total.cpu_req))

-- Overhead: this server's quota leaves it out (the scheduler counts it), so
-- check what RuntimeClass admission puts into the pod instead.
local objs2 = load(file2)
for _, o in ipairs(objs2) do create(o) end
local _, pod = c:call("GET", assert(c:path("v1", "Pod", ns, "overhead")))
local oh = pod.spec.overhead or {}
local r2 = budget.compute({name = "t", capacity = {}}, {{bundle = "rc", namespace = ns, objects = objs2}})
local w = r2.rows[1].workloads[1]
say(w.requests.cpu == 100 + (budget.quantity(oh.cpu or "0", "cpu") or -1),
  "RuntimeClass overhead: kedge counts the container plus the overhead the server gave the pod (" ..
  tostring(oh.cpu) .. ")", tostring(w.requests.cpu))
say(w.requests.memory == 64 * 1048576 + (budget.quantity(oh.memory or "0", "memory") or -1),
  "and for memory (" .. tostring(oh.memory) .. ")", tostring(w.requests.memory))
EOF

run "$KEDGE" lua "$TMP/sums.lua" "$KUBE_ADMIN" "$NS" "$TMP/objects.yaml" "$TMP/overhead.yaml"
is "$rc:$err" "0:" "the sum checks ran"
tap_lines <<<"$out"

done_testing

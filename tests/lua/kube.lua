-- kedge.kube's rules that need no server: readiness per kind (the e2e test
-- covers the ones it can play against a real API server), the plan diff,
-- and connect's errors. The client itself is tested in tests/e2e/t0600-kube.sh.
local t = dofile("tests/tap.lua")
local kube = require "kedge.kube"

local function ready(obj)
  local ok, why, fatal = kube.ready(obj)
  return ok, why, fatal
end

local function dep(spec, status, gen)
  return {kind = "Deployment", metadata = {generation = gen or 2}, spec = spec, status = status}
end

-- Deployment
local ok, why = ready(dep({replicas = 3}, {observedGeneration = 1, updatedReplicas = 3, availableReplicas = 3}))
t.ok(not ok and why:find("has not seen generation 2"), "Deployment: an old observedGeneration is not ready")
ok, why = ready(dep({replicas = 3}, {observedGeneration = 2, replicas = 4, updatedReplicas = 3, availableReplicas = 3}))
t.is(why, "1 old replicas still running", "Deployment: old replicas left")
ok = ready(dep({replicas = 3}, {observedGeneration = 2, replicas = 3, updatedReplicas = 3, readyReplicas = 3, availableReplicas = 3}))
t.ok(ok, "Deployment: all updated and available")
ok = ready(dep({}, {observedGeneration = 2, replicas = 1, updatedReplicas = 1, availableReplicas = 1}))
t.ok(ok, "Deployment: replicas default to 1")
local fatal
ok, why, fatal = ready(dep({replicas = 1}, {observedGeneration = 2, conditions = {
  {type = "Progressing", status = "False", reason = "ProgressDeadlineExceeded", message = "ReplicaSet \"x\" has timed out progressing."}}}))
t.ok(not ok and fatal == "failed" and why:find("rollout failed"), "Deployment: ProgressDeadlineExceeded fails at once")

-- StatefulSet
ok, why = ready({kind = "StatefulSet", metadata = {generation = 1}, spec = {replicas = 2},
  status = {observedGeneration = 1, readyReplicas = 2, updatedReplicas = 1, currentRevision = "a", updateRevision = "b"}})
t.is(why, "1 of 2 replicas updated", "StatefulSet: a rolling update in progress")
ok = ready({kind = "StatefulSet", metadata = {generation = 1}, spec = {replicas = 2, updateStrategy = {type = "OnDelete"}},
  status = {observedGeneration = 1, readyReplicas = 2, currentRevision = "a", updateRevision = "b"}})
t.ok(ok, "StatefulSet: OnDelete does not wait for the revision")

-- DaemonSet
ok, why = ready({kind = "DaemonSet", metadata = {generation = 1}, status = {observedGeneration = 1,
  desiredNumberScheduled = 3, updatedNumberScheduled = 3, numberReady = 2, numberAvailable = 2}})
t.is(why, "2 of 3 pods ready", "DaemonSet: pods not ready")
ok = ready({kind = "DaemonSet", metadata = {generation = 1}, status = {observedGeneration = 1,
  desiredNumberScheduled = 3, updatedNumberScheduled = 3, numberReady = 3, numberAvailable = 3}})
t.ok(ok, "DaemonSet: ready")

-- ReplicaSet
ok, why = ready({kind = "ReplicaSet", metadata = {generation = 1}, spec = {replicas = 2},
  status = {observedGeneration = 1, readyReplicas = 2, availableReplicas = 1}})
t.is(why, "1 of 2 replicas available", "ReplicaSet: availability counts")

-- Pod
ok, why = ready({kind = "Pod", status = {phase = "Pending", initContainerStatuses = {
  {name = "init", state = {waiting = {reason = "CrashLoopBackOff"}}}}}})
t.is(why, "container init is waiting: CrashLoopBackOff", "Pod: an init container's reason")
ok, why = ready({kind = "Pod", status = {phase = "Pending", conditions = {
  {type = "PodScheduled", status = "False", reason = "Unschedulable", message = "0/1 nodes are available"}}}})
t.is(why, "not scheduled: 0/1 nodes are available", "Pod: unschedulable")
ok, why, fatal = ready({kind = "Pod", status = {phase = "Failed"}})
t.ok(not ok and fatal == "failed", "Pod: Failed ends the wait")
t.ok((ready({kind = "Pod", status = {phase = "Succeeded"}})), "Pod: Succeeded is done")
t.ok(not ready({kind = "Pod", status = {phase = "Running", conditions = {{type = "Ready", status = "False"}}}}),
  "Pod: Running but not Ready")

-- PVC, Service, CRD, Job
t.ok(not ready({kind = "PersistentVolumeClaim", status = {phase = "Pending"}}), "PVC: Pending")
t.ok((ready({kind = "PersistentVolumeClaim", status = {phase = "Bound"}})), "PVC: Bound")
t.ok((ready({kind = "Service", spec = {type = "ClusterIP"}})), "Service: ClusterIP is ready at once")
ok, why = ready({kind = "Service", spec = {type = "LoadBalancer"}, status = {loadBalancer = {}}})
t.is(why, "waiting for a load balancer address", "Service: a LoadBalancer waits for its address")
t.ok((ready({kind = "Service", spec = {type = "LoadBalancer"}, status = {loadBalancer = {ingress = {{ip = "10.0.0.9"}}}}})),
  "Service: a LoadBalancer with an address")
t.ok(not ready({kind = "CustomResourceDefinition", status = {conditions = {{type = "Established", status = "False"}}}}),
  "CRD: not Established")
ok, why = ready({kind = "Job", status = {active = 1}})
t.is(why, "not complete (1 active, 0 succeeded)", "Job: running")
t.ok((ready({kind = "Job", status = {conditions = {{type = "Complete", status = "True"}}}})), "Job: Complete")

-- generic rules
t.ok((ready({kind = "Widget", metadata = {generation = 3}})), "generic: no status is ready")
ok, why = ready({kind = "Widget", metadata = {generation = 3}, status = {observedGeneration = 2}})
t.ok(not ok and why:find("generation 3"), "generic: observedGeneration behind")
ok, why = ready({kind = "Widget", status = {conditions = {{type = "Ready", status = "False", reason = "Waiting", message = "db"}}}})
t.is(why, "Ready is False: Waiting (db)", "generic: a Ready condition")
ok, why, fatal = ready({kind = "Widget", status = {conditions = {{type = "Stalled", status = "True", message = "bad spec"}}}})
t.ok(not ok and fatal == "failed" and why == "stalled: bad spec", "generic: Stalled fails")

-- diff
local live = {apiVersion = "v1", kind = "ConfigMap",
  metadata = {name = "a", uid = "u1", resourceVersion = "7", managedFields = {{manager = "x"}},
    labels = {keep = "1", old = "x"}},
  data = {a = "1", b = "2"}, status = {phase = "whatever"}}
local want = {apiVersion = "v1", kind = "ConfigMap",
  metadata = {name = "a", uid = "u1", resourceVersion = "8", labels = {keep = "1", new = "y"}},
  data = {a = "1", b = "3"}}
t.same(kube.diff(live, want), {'~ data.b: "2" → "3"', '+ metadata.labels.new: "y"', '- metadata.labels.old: "x"'},
  "diff: changes, additions, removals; server metadata and status left out")
t.same(kube.diff(want, want), {}, "diff: no change, no lines")
t.same(kube.diff({}, {kind = "ConfigMap", data = {a = "1"}}), {'+ data.a: "1"', '+ kind: "ConfigMap"'},
  "diff: an object to create is all additions, no line for the empty live side")
local s1 = {kind = "Secret", data = {password = "aHVudGVyMg=="}}
local s2 = {kind = "Secret", data = {password = "aHVudGVyMw==", user = "YWRtaW4="}}
t.same(kube.diff(s1, s2), {"~ data.password: (secret changed)", "+ data.user: (secret)"},
  "diff: a Secret's values are hidden")

-- connect
local c, err = kube.connect{kubeconfig = "/nonexistent/kubeconfig"}
t.ok(c == nil and err:find("/nonexistent/kubeconfig"), "connect: a missing kubeconfig names it")
t.raises(function() kube.connect("x") end, "options must be a table", "connect: wrong argument type raises")

t.done()

# kedge.kube and `kedge apply-manifests` / `plan-manifests` against a real
# kube-apiserver v1.20.2 and etcd on 127.0.0.1 (tests/servers/kube/: built
# once from Debian's kubernetes source package and cached), or against the
# cluster KEDGE_TEST_KUBECONFIG names (then the checks that need the local
# server's PKI, users or process are skipped, saying so).
. tests/lib.sh
. tests/servers/kube/lib.sh

kube_start

KC="$KEDGE lua tests/servers/kube/kc.lua"
ID=$$$RANDOM
NS=kedge-t$ID
B=t$ID
GROUP=t$ID.kedge.test
M=$TMP/manifests
STATE=$TMP/state
mkdir -p "$M" "$STATE"
export KEDGE_STATE_DIR=$STATE

apply() { run "$KEDGE" apply-manifests --kubeconfig "$KUBE_ADMIN" "$@"; }
plan() { run "$KEDGE" plan-manifests --kubeconfig "$KUBE_ADMIN" "$@"; }
kc() { $KC "$KUBE_ADMIN" "$@"; }
unlike() { # text regex name
	! printf '%s' "$1" | grep -Eq -- "$2"
	tap_report $? "$3" "got:         $1
must not match: $2"
}
skip() { # name reason
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - $1 # SKIP $2"
}

if [ "$KUBE_LOCAL" = 0 ]; then
	# a shared cluster: leave it as it was
	ext_cleanup() {
		kc delete v1 Namespace "" "$NS" >/dev/null 2>&1
		kc delete apiextensions.k8s.io/v1 CustomResourceDefinition "" "widgets.$GROUP" >/dev/null 2>&1
		for b in "$B" "$B-2" "$B-lua"; do
			kc delete v1 ConfigMap kedge-system "kedge-inventory-$b" >/dev/null 2>&1
		done
		kube_cleanup
	}
	trap ext_cleanup EXIT
fi

# --- command line ---------------------------------------------------------------
for cmd in apply-manifests plan-manifests; do
	run "$KEDGE" "$cmd" --help
	like "$rc:$out" "^0:usage: kedge $cmd -f FILE" "$cmd --help"
	run "$KEDGE" "$cmd"
	like "$rc:$err" "^2:kedge: give the manifests with -f FILE\|DIR \(see 'kedge help $cmd'\)" "$cmd without -f: exit 2 and a hint"
done
run "$KEDGE" apply-manifests -f x --prune
like "$rc:$err" "^2:.*--prune needs --bundle NAME" "--prune without --bundle: exit 2"
run "$KEDGE" apply-manifests -f x --wait soon
like "$rc:$err" "^2:.*--wait needs a duration like 120, 90s, 5m or 1h, not 'soon'" "a bad --wait: exit 2"
mkdir -p "$TMP/empty"
run "$KEDGE" apply-manifests -f "$TMP/empty" --bundle x --prune --kubeconfig "$KUBE_ADMIN"
like "$rc:$err" "^3:kedge: no objects in .*empty: nothing to apply" "an empty folder is refused (it would prune the whole bundle)"
run "$KEDGE" apply-manifests -f "$TMP/absent.yaml" --kubeconfig "$KUBE_ADMIN"
like "$rc:$err" "^3:kedge: .*absent.yaml: No such file" "a missing manifest: exit 3"

# --- connection, authentication, discovery ------------------------------------
run "$KEDGE" lua -e '
local c = assert(require("kedge.kube").connect{kubeconfig = arg[1]})
local d = assert(c:discover())
local has = {}
for _, v in ipairs(d.api_versions) do has[v] = true end
print(d.version.gitVersion, has["apps/v1/Deployment"], has["v1"], has["apiextensions.k8s.io/v1"])' "$KUBE_ADMIN"
like "$out" '^v1\.[0-9]+.*	true	true	true$' "discovery: server version and API versions (client certificate auth)"

if [ "$KUBE_LOCAL" = 1 ]; then
	run $KC "$KUBE_TOKEN" get v1 Namespace "" default metadata.name
	is "$out" default "bearer token auth"
	run env KUBECONFIG="$TMP/missing.yaml:$KUBE_TOKEN" $KC "" get v1 Namespace "" default metadata.name
	is "$out" default "KUBECONFIG list: missing files skipped, the next one used"
	printf 'kind: ConfigMap\napiVersion: v1\nmetadata: {name: nope, namespace: default}\n' >"$TMP/nope.yaml"
	run "$KEDGE" apply-manifests --kubeconfig "$KUBE_NOBODY" -f "$TMP/nope.yaml"
	is "$rc" 1 "a user without RBAC grants: exit 1"
	like "$err" '403 Forbidden.*nobody.*lacks RBAC rights' "the 403 names the user and says why (tokenFile read relative to the kubeconfig)"
	kube_write_config "$TMP/files.kubeconfig" "https://127.0.0.1:$KUBE_PORT" \
		"    client-certificate: $KUBE_DIR/pki/admin.crt
    client-key: $KUBE_DIR/pki/admin.key" "    certificate-authority: $KUBE_DIR/pki/ca.crt"
	run $KC "$TMP/files.kubeconfig" get v1 Namespace "" default metadata.name
	is "$out" default "client certificate, key and CA from files"
	kube_write_config "$TMP/insecure.kubeconfig" "https://127.0.0.1:$KUBE_PORT" \
		"    token: admintoken-1234" "    insecure-skip-tls-verify: true"
	run $KC "$TMP/insecure.kubeconfig" get v1 Namespace "" default metadata.name
	is "$out" default "insecure-skip-tls-verify is honoured"
	like "$err" "WARN.*insecure-skip-tls-verify is set: the API server's certificate is NOT verified" "with a loud warning"
	sed 's/^\(    certificate-authority-data:\).*/\1 '"$(base64 -w0 <"$KUBE_DIR/pki/admin.crt")"'/' "$KUBE_ADMIN" >"$TMP/wrongca.kubeconfig"
	run $KC "$TMP/wrongca.kubeconfig" get v1 Namespace "" default
	like "$err" 'certificate|CA' "a server certificate from another CA is refused"
else
	for t in "bearer token auth" "KUBECONFIG list" "403 user" "403 message" "files" "insecure" "warning" "unknown CA"; do
		skip "$t" "needs the local API server's users and PKI"
	done
fi

if [ "$KUBE_LOCAL" = 1 ]; then
	# an aggregated API whose backend is missing answers 503 in discovery
	cat >"$TMP/apisvc.yaml" <<EOF
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1.down$ID.kedge.test}
spec:
  group: down$ID.kedge.test
  version: v1
  groupPriorityMinimum: 100
  versionPriority: 10
  insecureSkipTLSVerify: true
  service: {namespace: default, name: nothing-here, port: 443}
EOF
	kc create "$TMP/apisvc.yaml"
	# until the aggregator has taken the new APIService up (bounded)
	"$KEDGE" lua -e '
local c = assert(require("kedge.kube").connect{kubeconfig = arg[1]})
for _ = 1, 100 do
  if c:call("GET", "/apis/" .. arg[2]) == 503 then return end
  require("kedge.os").sleep(0.1)
end' "$KUBE_ADMIN" "down$ID.kedge.test/v1"
	run "$KEDGE" lua -e '
local c = assert(require("kedge.kube").connect{kubeconfig = arg[1]})
local d = assert(c:discover())
local has = {}
for _, v in ipairs(d.api_versions) do has[v] = true end
print(has["apps/v1"], has[arg[2]] or false)' "$KUBE_ADMIN" "down$ID.kedge.test/v1"
	is "$out" "true	false" "discovery leaves out an aggregated API that answers 503"
	like "$err" "WARN.*leaving out an unavailable API.*down$ID.kedge.test/v1: 503" "and warns naming it"
	kc delete apiregistration.k8s.io/v1 APIService "" "v1.down$ID.kedge.test"
else
	skip "discovery with an unavailable aggregated API" "registers an APIService only on the local server"
	skip "its warning" "registers an APIService only on the local server"
fi

# --- server-side apply: create, update, Service ports without protocol ----------
cat >"$M/10-app.yaml" <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $NS}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: $NS}
data: {color: blue, size: large}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: $NS}
stringData: {password: hunter2}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $NS}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
EOF
cat >"$M/20-gone.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: temporary, namespace: $NS}
data: {x: "1"}
EOF
plan -f "$M" --bundle "$B"
is "$rc" 5 "plan-manifests of a new namespace and its objects: exit 5"
like "$out" "^\+ Namespace $NS" "plan: the namespace would be created"
like "$out" "\+ ConfigMap $NS/settings" "and the objects in it (not dry-run: their namespace does not exist yet)"
like "$out" '\+ data.color: "blue"' "with their fields"
run kc get v1 Namespace "" "$NS"
is "$rc" 3 "plan created nothing"

apply -f "$M" --bundle "$B"
is "$rc" 0 "apply-manifests creates (exit 0)"
like "$out" "created Namespace $NS" "the namespace is created"
like "$out" "created ConfigMap $NS/settings" "objects are reported created"
is "$(kc get v1 Service "$NS" web spec.ports.0.protocol)" TCP "a Service port without protocol applies (kedge fills in TCP for v1.20)"
is "$(kc get v1 ConfigMap "$NS" settings metadata.managedFields.0.manager)" kedge "field manager is kedge"
is "$(kc get v1 ConfigMap "$NS" settings metadata.labels)" "{\"kedge.io/bundle\":\"$B\"}" "objects carry the bundle label"
uid1=$(kc get v1 ConfigMap "$NS" settings metadata.uid)

for f in "$M"/*.yaml; do cat "$f"; echo ---; done | "$KEDGE" apply-manifests --kubeconfig "$KUBE_ADMIN" -f - --bundle "$B" >"$TMP/stdin.out" 2>&1
is "$?" 0 "manifests from stdin (-f -)"
apply -f "$M" --bundle "$B"
is "$rc" 0 "applying the same manifests again"
like "$out" "applied ConfigMap $NS/settings" "reported applied"
is "$(kc get v1 ConfigMap "$NS" settings metadata.uid)" "$uid1" "the object is the same (uid kept)"

plan -f "$M" --bundle "$B"
is "$rc" 0 "plan-manifests: nothing to change (exit 0)"
like "$out" 'plan: 0 to change' "plan says so"

sed -i 's/color: blue/color: green/; s/hunter2/hunter3/' "$M/10-app.yaml"
plan -f "$M" --bundle "$B"
is "$rc" 5 "plan-manifests with a change: exit 5"
like "$out" "~ ConfigMap $NS/settings" "plan names the changed object"
like "$out" 'data\.color: "blue" → "green"' "plan shows the changed field"
like "$out" "data\.password: \(secret changed\)" "plan says a Secret's value changes"
unlike "$out" 'hunter|aHVudGVy' "without showing it"
if printf '%s' "$out" | grep -q 'managedFields\|resourceVersion\|creationTimestamp'; then
	tap_report 1 "plan leaves out managedFields and server metadata" "$out"
else
	tap_report 0 "plan leaves out managedFields and server metadata"
fi
is "$(kc get v1 ConfigMap "$NS" settings data.color)" blue "plan changed nothing"

apply -f "$M" --bundle "$B"
is "$(kc get v1 ConfigMap "$NS" settings data.color)" green "update applied"

# --- conflicts and force -----------------------------------------------------------
cat >"$TMP/other.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: $NS}
data: {size: small}
EOF
ok "another field manager takes over data.size" kc apply-as helm "$TMP/other.yaml" force
apply -f "$M" --bundle "$B"
is "$rc" 1 "a conflict fails the apply (exit 1)"
like "$err" 'conflict.*"helm".*\.data\.size' "the conflict names the manager and the field"
like "$err" 'force' "and says how to take it over"
is "$(kc get v1 ConfigMap "$NS" settings data.size)" small "nothing was changed by the conflicting apply"
apply -f "$M" --bundle "$B" --force
is "$rc" 0 "--force applies"
is "$(kc get v1 ConfigMap "$NS" settings data.size)" large "--force took the field back"

# --- validation: nothing applied ---------------------------------------------------
cat >"$TMP/bad.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: never, namespace: $NS}
---
apiVersion: nowhere.example/v1
kind: Ghost
metadata: {name: boo, namespace: $NS}
EOF
apply -f "$TMP/bad.yaml"
is "$rc" 3 "a kind the server lacks: exit 3"
like "$err" "bad.yaml: document 2: the server has no kind Ghost in nowhere.example/v1" "the error names file, document and kind"
run kc get v1 ConfigMap "$NS" never
is "$rc" 3 "nothing was applied"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: x}\n' >"$TMP/noname.yaml"
apply -f "$TMP/noname.yaml"
is "$rc" 3 "a manifest without a name: exit 3"
like "$err" "noname.yaml: document 1: metadata.name is missing" "the error names file and document"

# --- CRD and custom resources in one apply ----------------------------------------
mkdir -p "$M/crd"
cat >"$M/crd/all.yaml" <<EOF
apiVersion: $GROUP/v1
kind: Widget
metadata: {name: w1, namespace: $NS}
spec: {size: 3}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.$GROUP}
spec:
  group: $GROUP
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, x-kubernetes-preserve-unknown-fields: true}
EOF
apply -f "$M/crd" --bundle "$B-2"
is "$rc" 0 "a CRD and its custom resource in one apply"
is "$(printf '%s\n' "$out" | grep -n "^created" | cut -d: -f1 | tr '\n' ' ')$(printf '%s\n' "$out" | grep -c "CustomResourceDefinition widgets.$GROUP$")" "1 2 1" "the CRD first, then the resource"
is "$(kc get "$GROUP/v1" Widget "$NS" w1 spec.size)" 3 "the custom resource exists"

# --- inventory and prune -------------------------------------------------------------
inv=$(kc get v1 ConfigMap kedge-system "kedge-inventory-$B" data.objects)
like "$inv" "\"name\":\"temporary\"" "the inventory ConfigMap lists the bundle's objects"
like "$inv" "\"uid\":\"[0-9a-f-]+\"" "with their uids"
like "$(cat "$STATE/inventory/$B.json")" "\"name\":\"temporary\"" "and the state dir has a copy"

cat >"$TMP/foreign.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: foreign, namespace: $NS, labels: {kedge.io/bundle: $B}}
data: {mine: "no"}
EOF
ok "someone else creates an object carrying the bundle's label" kc create "$TMP/foreign.yaml"

rm "$M/20-gone.yaml"
plan -f "$M" --bundle "$B" --prune
like "$out" "- ConfigMap $NS/temporary \(pruned" "plan --prune shows what would be pruned"
apply -f "$M" --bundle "$B"
run kc get v1 ConfigMap "$NS" temporary
is "$rc" 0 "without --prune a removed manifest's object stays"
apply -f "$M" --bundle "$B" --prune
is "$rc" 0 "apply --prune"
like "$out" "pruned ConfigMap $NS/temporary" "reports the pruned object"
run kc get v1 ConfigMap "$NS" temporary
is "$rc" 3 "the object whose manifest was removed is deleted"
run kc get v1 ConfigMap "$NS" foreign
is "$rc" 0 "an object kedge does not own is never deleted"
run kc get "$GROUP/v1" Widget "$NS" w1
is "$rc" 0 "another bundle's objects are untouched"
unlike "$(kc get v1 ConfigMap kedge-system "kedge-inventory-$B" data.objects)" '"temporary"' "the pruned object left the inventory"

# an inventory entry that someone deleted and created again is not kedge's
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: reborn, namespace: %s}\ndata: {a: "1"}\n' "$NS" >"$M/30-reborn.yaml"
apply -f "$M" --bundle "$B"
kc delete v1 ConfigMap "$NS" reborn
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: reborn, namespace: %s, labels: {kedge.io/bundle: %s}}\n' "$NS" "$B" >"$TMP/reborn.yaml"
kc create "$TMP/reborn.yaml"
rm "$M/30-reborn.yaml"
apply -f "$M" --bundle "$B" --prune
like "$out" "kept ConfigMap $NS/reborn: it was deleted and created again" "a recreated object (new uid) is kept, with the reason"
run kc get v1 ConfigMap "$NS" reborn
is "$rc" 0 "and still exists"

# a bundle that drops its CRD and custom resource: the resource goes, the CRD stays
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b2-rest, namespace: %s}\n' "$NS" >"$M/crd/all.yaml"
apply -f "$M/crd" --bundle "$B-2" --prune
is "$rc" 0 "a bundle drops its CRD and custom resource"
like "$out" "pruned $GROUP/Widget $NS/w1" "the custom resource is pruned"
like "$out" "kept apiextensions.k8s.io/CustomResourceDefinition widgets.$GROUP: kedge never prunes CRDs" \
	"the CRD is kept, saying why"
run kc get apiextensions.k8s.io/v1 CustomResourceDefinition "" "widgets.$GROUP"
is "$rc" 0 "and still exists"

# --- readiness -----------------------------------------------------------------------
mkdir -p "$M/ready"
cat >"$M/ready/app.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: $NS}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: api, image: "registry.invalid/api:1", ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: api-pod, namespace: $NS, labels: {app: api}}
spec:
  containers: [{name: api, image: "registry.invalid/api:1"}]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: $NS}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
EOF
kc_status_pod_waiting() {
	kc status v1 Pod "$NS" api-pod '{"phase":"Pending","containerStatuses":[{"name":"api","ready":false,"restartCount":0,"image":"registry.invalid/api:1","imageID":"","state":{"waiting":{"reason":"ImagePullBackOff","message":"Back-off pulling image \"registry.invalid/api:1\""}}}]}'
}
if [ "$KUBE_LOCAL" = 1 ]; then
	t0=$(date +%s)
	apply -f "$M/ready" --wait 2s
	t1=$(date +%s)
	is "$rc" 4 "--wait: objects not ready in time: exit 4"
	like "$err" "apps/Deployment $NS/api: no controller has reported status yet" "the timeout names the Deployment and why"
	like "$err" "PersistentVolumeClaim $NS/data: phase Pending, not Bound" "and the claim"
	[ $((t1 - t0)) -le 10 ]
	tap_report $? "the wait is bounded by its timeout ($((t1 - t0)) s)"

	# play the kubelet and the controllers through the status subresource
	kc_status_pod_waiting
	gen=$(kc get apps/v1 Deployment "$NS" api metadata.generation)
	kc status apps/v1 Deployment "$NS" api "{\"observedGeneration\":$gen,\"replicas\":2,\"updatedReplicas\":2,\"readyReplicas\":1,\"availableReplicas\":1}"
	apply -f "$M/ready" --wait 2
	like "$err" "apps/Deployment $NS/api: 1 of 2 replicas available; pod api-pod: container api is waiting: ImagePullBackOff" \
		"a Deployment's timeout names its Pod's ImagePullBackOff"
	like "$err" "Pod $NS/api-pod: container api is waiting: ImagePullBackOff \(Back-off pulling" "a Pod's timeout names the reason and message"

	kc status apps/v1 Deployment "$NS" api "{\"observedGeneration\":$gen,\"replicas\":2,\"updatedReplicas\":2,\"readyReplicas\":2,\"availableReplicas\":2}"
	kc status v1 Pod "$NS" api-pod '{"phase":"Running","conditions":[{"type":"Ready","status":"True"}],"containerStatuses":[{"name":"api","ready":true,"restartCount":0,"image":"x","imageID":"","state":{"running":{}}}]}'
	kc status v1 PersistentVolumeClaim "$NS" data '{"phase":"Bound"}'
	( sleep 1; kc status v1 PersistentVolumeClaim "$NS" data '{"phase":"Bound"}' ) &
	apply -f "$M/ready" --wait 20
	is "$rc" 0 "--wait returns once every object is ready"

	printf 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: once, namespace: %s}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: busybox}]\n' "$NS" >"$TMP/job.yaml"
	apply -f "$TMP/job.yaml"
	kc status batch/v1 Job "$NS" once '{"conditions":[{"type":"Failed","status":"True","reason":"BackoffLimitExceeded","message":"Job has reached the specified backoff limit"}]}'
	t0=$(date +%s)
	apply -f "$TMP/job.yaml" --wait 60
	t1=$(date +%s)
	is "$rc" 4 "a failed Job fails the wait (exit 4)"
	like "$err" "batch/Job $NS/once: failed: Job has reached the specified backoff limit" "naming the Job and its reason"
	[ $((t1 - t0)) -le 10 ]
	tap_report $? "without waiting out the timeout"
else
	for t in "wait timeout" "Deployment reason" "PVC reason" "bounded" "ImagePullBackOff via pods" "Pod reason" "ready" "failed Job" "fast"; do
		skip "readiness: $t" "a real cluster has real kubelets; the test plays them only locally"
	done
fi

# --- Lua API ---------------------------------------------------------------------------
run "$KEDGE" lua -e '
local kube = require "kedge.kube"
local c = assert(kube.connect{kubeconfig = arg[1], namespace = arg[2]})
local objs = {
  {apiVersion = "v1", kind = "ConfigMap", metadata = {name = "lua-a", labels = {tier = "x"}}, data = {k = "v"}},
  {apiVersion = "v1", kind = "ConfigMap", metadata = {name = "lua-b", labels = {tier = "x"}}},
}
local res = assert(c:apply(objs, {bundle = arg[3], wait = 10}))
local got = assert(c:get("v1", "ConfigMap", arg[2], "lua-a"))
local listed = assert(c:list("v1", "ConfigMap", {selector = "tier=x"}))
assert(c:delete(objs[2]))
local _, err = c:get(objs[2])
print(#res.applied, got.data.k, #listed, err, (kube.ready({kind = "Pod", status = {phase = "Pending"}})))' \
	"$KUBE_ADMIN" "$NS" "$B-lua"
is "$out" "2	v	2	not found	false" "Lua: connect, apply (namespace from connect), get, list by label, delete, wait"

# --- templates: lookup and .Capabilities from the live server -------------------
run "$KEDGE" lua -e '
local kube, tmpl = require "kedge.kube", require "kedge.tmpl"
local c = assert(kube.connect{kubeconfig = arg[1]})
local ns = arg[2]
local text = table.concat({
  [[{{ (lookup "v1" "ConfigMap" "]] .. ns .. [[" "settings").data.color }}]],
  [[{{ lookup "v1" "ConfigMap" "]] .. ns .. [[" "absent" }}]],
  [[{{ gt (len (lookup "v1" "ConfigMap" "]] .. ns .. [[" "").items) 3 }}]],
  [[{{ (lookup "v1" "Namespace" "" "]] .. ns .. [[").metadata.name }}]],
  [[{{ .Capabilities.KubeVersion.Major }}.{{ .Capabilities.KubeVersion.Minor }}]],
  [[{{ .Capabilities.APIVersions.Has "apps/v1/Deployment" }}]],
  [[{{ .Capabilities.APIVersions.Has "nowhere.example/v1" }}]],
}, " ")
print(assert(tmpl.render(text, {Values = {}, Capabilities = assert(c:capabilities())},
  {lookup = c:lookup()})))
print(tmpl.render([[{{ lookup "nowhere.example/v1" "Ghost" "" "x" }}]], {}, {lookup = c:lookup()}))' \
	"$KUBE_ADMIN" "$NS"
ver=$(kc get v1 Namespace "" default metadata.name >/dev/null && "$KEDGE" lua -e '
local c = assert(require("kedge.kube").connect{kubeconfig = arg[1]})
local v = assert(c:discover()).version
print(v.major .. "." .. v.minor)' "$KUBE_ADMIN")
like "$out" "^green map\[\] true $NS $ver true false" "a template's lookup reads the live cluster; .Capabilities is the server's"
like "$out" "nil	.*error calling lookup: the server has no kind Ghost" "lookup of a kind the server lacks fails the render"

# --- faults ----------------------------------------------------------------------------
if [ "$KUBE_LOCAL" = 1 ]; then
	kube_proxy_start
	mkdir -p "$M/many"
	for i in $(seq 1 40); do
		printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: many-%d, namespace: %s}\ndata: {i: "%d"}\n' "$i" "$NS" "$i"
	done >"$M/many/all.yaml"

	# the same server behind a certificate from the same CA that lacks IP:127.0.0.1
	proxy=$KUBE_PROXY control=$KUBE_PROXY_CONTROL log=$KUBE_PROXY_LOG
	kube_proxy_start noip
	run $KC "$KUBE_PROXY" get v1 Namespace "" default
	like "$err" "name mismatch: it is not valid for IP address '127\.0\.0\.1' \(its names: DNS:kubernetes" \
		"a server certificate without the IP 127.0.0.1 is refused, naming its names"
	KUBE_PROXY=$proxy KUBE_PROXY_CONTROL=$control KUBE_PROXY_LOG=$log

	printf '429\n503\n500\npass\npass\n502\n' >"$KUBE_PROXY_CONTROL"
	run "$KEDGE" apply-manifests --kubeconfig "$KUBE_PROXY" -f "$M/many" --bundle "$B-many"
	is "$rc" 0 "429, 503, 500 and 502 answers are retried (apply is idempotent)"
	is "$(grep -Ec '^(429|5[0-9][0-9]) ' "$KUBE_PROXY_LOG")" 4 "the proxy injected the four faults"
	is "$(kc count-label v1 ConfigMap "$NS" "kedge.io/bundle=$B-many")" 40 "every object applied"

	printf 'delay:4000\n' >"$KUBE_PROXY_CONTROL"
	t0=$(date +%s)
	run "$KEDGE" apply-manifests --kubeconfig "$KUBE_PROXY" -f "$M/many" --bundle "$B-many" --timeout 1
	t1=$(date +%s)
	is "$rc" 1 "--timeout bounds the whole command (exit 1)"
	like "$err" "timed out|timeout|deadline" "naming the timeout"
	[ $((t1 - t0)) -le 3 ]
	tap_report $? "without waiting for the slow server ($((t1 - t0)) s)"

	for i in $(seq 1 12); do echo 503; done >"$KUBE_PROXY_CONTROL"
	run "$KEDGE" apply-manifests --kubeconfig "$KUBE_PROXY" -f "$M/many" --bundle "$B-many"
	is "$rc" 1 "a server that keeps failing: exit 1"
	like "$err" '503 Service Unavailable: injected 503' "with the last answer"
	: >"$KUBE_PROXY_CONTROL"

	# kedge itself is killed half way: what it created is still its own
	mkdir -p "$M/crash"
	for i in $(seq 1 20); do
		printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: crash-%d, namespace: %s}\n' "$i" "$NS"
	done >"$M/crash/all.yaml"
	for i in $(seq 1 30); do echo delay:200; done >"$KUBE_PROXY_CONTROL"
	"$KEDGE" apply-manifests --kubeconfig "$KUBE_PROXY" -f "$M/crash" --bundle "$B-crash" >/dev/null 2>&1 &
	crash_pid=$!
	sleep 2
	kill -9 "$crash_pid"
	wait "$crash_pid" 2>/dev/null
	sleep 0.5 # the request the proxy still holds (200 ms) reaches the server
	: >"$KUBE_PROXY_CONTROL"
	n=$(kc count-label v1 ConfigMap "$NS" "kedge.io/bundle=$B-crash")
	[ "$n" -gt 0 ] && [ "$n" -lt 20 ]
	tap_report $? "kedge killed -9 in the middle of an apply ($n of 20 created)"
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: crash-1, namespace: %s}\n' "$NS" >"$M/crash/all.yaml"
	apply -f "$M/crash" --bundle "$B-crash" --prune
	is "$rc" 0 "the next apply, without most of those objects, with --prune"
	is "$(kc count-label v1 ConfigMap "$NS" "kedge.io/bundle=$B-crash")" 1 \
		"prunes what the killed run created (it was in the inventory before it was created)"

	# the API server dies in the middle of an apply, then comes back
	sed -i "s/i: \"/i: \"x/" "$M/many/all.yaml"
	for i in $(seq 1 40); do echo delay:150; done >"$KUBE_PROXY_CONTROL"
	"$KEDGE" apply-manifests --kubeconfig "$KUBE_PROXY" -f "$M/many" --bundle "$B-many" \
		>"$TMP/mid.out" 2>"$TMP/mid.err" &
	apply_pid=$!
	sleep 1.5
	kube_stop
	wait "$apply_pid"
	is "$?" 1 "an apply whose API server dies half way fails"
	like "$(cat "$TMP/mid.err")" 'refused|reset|closed|connect|EOF|end' "naming the connection failure"
	: >"$KUBE_PROXY_CONTROL"

	kube_start_api
	run "$KEDGE" apply-manifests --kubeconfig "$KUBE_ADMIN" -f "$M/many" --bundle "$B-many" --prune
	is "$rc" 0 "after the restart the next apply converges"
	is "$(kc get v1 ConfigMap "$NS" many-40 data.i)" x40 "every object has the new content"
	is "$(kc get v1 ConfigMap kedge-system "kedge-inventory-$B-many" data.objects | grep -o '"name":"many-' | wc -l)" 40 \
		"the inventory holds each object once"
else
	for t in "IP SAN" "retries" "faults injected" "all applied" "timeout" "timeout message" "timeout bounded" "kedge killed" "next apply" "prunes after kill" "persistent 503" "killed mid-apply" "message" "converges" "content" "inventory"; do
		skip "faults: $t" "needs the local API server (the test kills it and puts a proxy in front)"
	done
fi

done_testing

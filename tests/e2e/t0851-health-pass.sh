# A pass (`kedge apply`) whose config repo ships Argo CD health scripts
# (health/<group>/<Kind>/health.lua), against a real kube-apiserver
# (tests/servers/kube/): the bundle's chart holds a CRD and one of its
# objects, and the script judges the object by a spec field. Degraded
# fails the pass at once with the script's message; Healthy lets it pass;
# Suspended passes and is reported; a script that loops or raises gives
# Unknown with the error (the wait runs to its timeout), never a crash.
# The report carries what the script said per object.
. tests/lib.sh
. tests/servers/kube/lib.sh

kube_start
KC="$KEDGE lua tests/servers/kube/kc.lua"
ID=$$$RANDOM
GROUP=h$ID.kedge.test
kc() { $KC "$KUBE_ADMIN" "$@"; }
trap 'kc delete apiextensions.k8s.io/v1 CustomResourceDefinition "" "gadgets.$GROUP" >/dev/null 2>&1; kube_cleanup' EXIT

export HOME=$TMP/home
mkdir -p "$HOME" && git config --global user.name t && git config --global user.email t@example.invalid
R=$TMP/repo
mkdir -p "$R/charts/g/templates" "$R/sites" "$R/bundles/g" "$R/health/$GROUP/Gadget"
printf 'apiVersion: v2\nname: g\nversion: 0.1.0\n' >"$R/charts/g/Chart.yaml"
printf 'mode: broken\n' >"$R/charts/g/values.yaml"
cat >"$R/charts/g/templates/crd.yaml" <<YAML
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.$GROUP}
spec:
  group: $GROUP
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
YAML
cat >"$R/charts/g/templates/gadget.yaml" <<YAML
apiVersion: $GROUP/v1
kind: Gadget
metadata: {name: g1}
spec:
  mode: {{ .Values.mode | quote }}
  size: 3
YAML
printf 'name: lab\nlabels: {env: lab}\ncapacity: {cpu: "2", memory: 4Gi, pods: 20}\nreport: [{git-branch: true}]\n' >"$R/sites/lab.yaml"
cat >"$R/bundles/g/bundle.yaml" <<YAML
chart: charts/g
release: g
namespace: h$ID
targets: [{matchLabels: {env: lab}}]
smoke:
  - {name: gadget, type: condition, object: {apiVersion: $GROUP/v1, kind: Gadget, name: g1}}
YAML
cat >"$R/health/$GROUP/Gadget/health.lua" <<'LUA'
local mode = obj.spec.mode
if mode == "broken" then return {status = "Degraded", message = "mode is broken, size " .. obj.spec.size} end
if mode == "paused" then return {status = "Suspended", message = "paused by its owner"} end
if mode == "loop" then while true do end end
if mode == "raise" then error("cannot read the gadget") end
if mode == "garbage" then return 42 end
return {status = "Healthy", message = "all " .. obj.spec.size .. " up"}
LUA
git -C "$R" init -q -b main && git -C "$R" add -A && git -C "$R" commit -qm one
git clone -q --bare "$R" "$TMP/sites.git"
setmode() {
	printf 'mode: %s\n' "$1" >"$R/charts/g/values.yaml"
	git -C "$R" commit -qam "$1" && git -C "$R" push -q "$TMP/sites.git" main
}
pass() { # wait seconds
	start=$(date +%s)
	run "$KEDGE" apply --site lab --repo "$TMP/sites.git" --state-dir "$TMP/state" --wait "$1" \
		--kubeconfig "$KUBE_ADMIN"
	took=$(($(date +%s) - start))
}
# the newest report in the outbox or among the sent ones
last_report() { ls -t "$TMP"/state/outbox/*.json "$TMP"/state/reports/*.json 2>/dev/null | head -1; }

pass 60
is "$rc" 21 "the script's Degraded fails the pass"
like "$err" "Gadget h$ID/g1: Degraded: mode is broken, size 3" "with the script's status and message (3, not 3.0)"
ok "at once, not at the wait's timeout (${took}s)" test "$took" -lt 30
run grep -c '"status": "Degraded"' "$(last_report)"
ok "the report carries the script's status" test "$out" -ge 1
run grep -c "\"script\": \"health/$GROUP/Gadget/health.lua\"" "$(last_report)"
ok "and which script said it" test "$out" -ge 1
run "$KEDGE" fleet status --repo "$TMP/sites.git"
is "$rc" 1 "fleet status: the site is failing"
like "$out" "Degraded g: Gadget h$ID/g1: mode is broken, size 3" "and shows the first Degraded message"
run "$KEDGE" fleet status --repo "$TMP/sites.git" --json
like "$out" '"degraded": "g: Gadget h'"$ID"'/g1: mode is broken, size 3"' "--json has it as degraded"

setmode ok
pass 60
is "$rc" 0 "the script's Healthy lets the pass through"
like "$err" "smoke: g: 1 passed" "and the condition smoke test asks the same script"
run grep -c '"message": "all 3 up"' "$(last_report)"
ok "the report has the Healthy message" test "$out" -ge 1

setmode paused
pass 60
is "$rc" 0 "Suspended counts as ready"
run grep -c '"status": "Suspended"' "$(last_report)"
ok "and is reported" test "$out" -ge 1
cat >"$TMP/agent.yaml" <<YAML
site: lab
repo: $TMP/sites.git
state-dir: $TMP/astate
kubeconfig: $KUBE_ADMIN
wait: 60s
YAML
run "$KEDGE" agent --config "$TMP/agent.yaml" --once
is "$rc" 0 "an agent's tick with the Suspended script succeeds"
run "$KEDGE" status --state-dir "$TMP/astate"
like "$out" "health: +g +Suspended Gadget h$ID/g1: paused by its owner" "kedge status shows what the script said"
run "$KEDGE" status --state-dir "$TMP/astate" --json
like "$out" '"status": "Suspended"' "and --json has it under health"

for m in loop raise garbage; do
	setmode "$m"
	pass 2
	is "$rc" 21 "a script that does '$m' fails the pass at the wait's timeout"
	like "$err" "Gadget h$ID/g1: Unknown: " "as Unknown ($m)"
	ok "no crash ($m)" test "$rc" -lt 128
done
like "$err" "expect table output from Lua script, not number" "garbage: the error says what came back"
setmode raise
pass 2
like "$err" "cannot read the gadget" "raise: the script's error is the message"

done_testing

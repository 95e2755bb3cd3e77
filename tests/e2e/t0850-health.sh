# Argo CD health scripts run as-is: every case of Argo CD's own tests
# (../shared/argocd-health, or $KEDGE_ARGOCD_HEALTH) and `kedge health`
# on good and bad scripts.
. tests/lib.sh

cases=${KEDGE_ARGOCD_HEALTH:-../shared/argocd-health}
if [ ! -d "$cases" ]; then
	echo "1..0 # SKIP no Argo CD health cases in $cases"
	exit 0
fi

run "$KEDGE" lua tests/lua/health_conformance.lua "$cases"
count=$(printf '%s\n' "$out" | grep -E '^[0-9]+/[0-9]+ passed$')
echo "# $count"
is "$rc" 0 "the conformance run passes"
total=${count#*/}
total=${total% passed}
is "${count%%/*}" "$total" "every case passes ($count)"
[ "$rc" = 0 ] || printf '%s\n' "$out" | grep '^#' | grep -v '^# [0-9]* kinds'

# ---- kedge health on Argo CD's scripts ----

D=$cases
run "$KEDGE" health --scripts "$D" "$D/_.crossplane.io/_/testdata/provider_degraded.yaml"
is "$out" "Provider upbound-provider-family-azure: Degraded: ActivePackageRevision UnhealthyPackageRevision" \
	"the script is the object's own kind's, not its folder's"
is "$rc" 1 "not Healthy exits 1"

run "$KEDGE" health --json --scripts "$D" "$D/apps.kruise.io/CloneSet/testdata/healthy.yaml"
like "$out" '"status":"Healthy"' "--json gives the status"
like "$out" '"kind":"CloneSet".*"name":"cloneset-test".*"namespace":"kruise"' "the kind, name and namespace"
like "$out" '"script":"[^"]*apps.kruise.io/CloneSet/health.lua"' "and the script that ran"
is "$rc" 0 "all Healthy exits 0"

cat >"$TMP/multi.yaml" <<'EOF'
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Service, metadata: {name: web, namespace: default}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: cm}}
---
EOF
cat "$D/openfaas.com/Function/testdata/progressing.yaml" >>"$TMP/multi.yaml"
run "$KEDGE" health --scripts "$D" "$TMP/multi.yaml"
is "$(printf '%s\n' "$out" | wc -l)" 3 "every document and a List's items"
like "$out" "Service default/web: no health script" "an object with no script says so"
is "$rc" 1 "a Progressing object exits 1"
run "$KEDGE" health --json --scripts "$D" - <"$TMP/multi.yaml"
like "$out" '"message":"no health script".*"status":""' "no script: an empty status in JSON (stdin read)"

# ---- bad scripts ----

S=$TMP/scripts
mkdir -p "$S/ok.io/Good" "$S/bad.io/Error" "$S/bad.io/Loop" "$S/bad.io/Memory" "$S/bad.io/Garbage" "$S/bad.io/Reach" "$S/bad.io/Syntax"
echo 'return {status = "Healthy", message = obj.status.ready .. "/" .. obj.status.size}' >"$S/ok.io/Good/health.lua"
echo 'local x = obj.spec.missing.field; return {status = "Healthy"}' >"$S/bad.io/Error/health.lua"
echo 'while true do end' >"$S/bad.io/Loop/health.lua"
echo 'local t = {} for i = 1, 1e9 do t[i] = ("x"):rep(4096) .. i end' >"$S/bad.io/Memory/health.lua"
echo 'return "Healthy"' >"$S/bad.io/Garbage/health.lua"
echo 'return {status = "Healthy", message = tostring(io) .. tostring(require) .. tostring(os.execute) .. tostring(load) .. tostring(string.dump) .. tostring(("").dump)}' >"$S/bad.io/Reach/health.lua"
echo 'return {status = ' >"$S/bad.io/Syntax/health.lua"
obj() { printf 'apiVersion: %s/v1\nkind: %s\nmetadata: {name: %s}\nstatus: {ready: 2, size: 3.0}\nspec: {}\n' "$1" "$2" "$3"; }
{ obj ok.io Good g; for k in Error Loop Memory Garbage Reach Syntax; do echo ---; obj bad.io $k $k; done; } >"$TMP/bad.yaml"
start=$(date +%s%N)
run "$KEDGE" health --scripts "$S" "$TMP/bad.yaml"
ms=$((($(date +%s%N) - start) / 1000000))
like "$out" "Good g: Healthy: 2/3$" "whole numbers print as 2 and 3, not 3.0"
like "$out" "Error Error: Unknown: .*attempt to index" "an error gives Unknown with the error"
like "$out" "Loop Loop: Unknown: .*instruction limit" "an endless loop gives Unknown at the instruction limit"
like "$out" "Memory Memory: Unknown: .*(memory limit|deadline)" "a huge table gives Unknown at the memory limit (or the deadline)"
like "$out" "Garbage Garbage: Unknown: expect table output from Lua script, not string" "a string result gives Unknown"
like "$out" "Reach Reach: Healthy: nilnilnilnilnilnil$" "no io, require, os.execute, load, string.dump"
like "$out" "Syntax Syntax: Unknown: .*health.lua:[0-9]+: " "a syntax error gives Unknown with where"
is "$rc" 1 "bad scripts exit 1"
[ "$ms" -lt 5000 ]
tap_report $? "bad scripts are stopped fast (${ms} ms)"

printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n' >"$TMP/pod.yaml"
run "$KEDGE" health --scripts "$TMP/none" "$TMP/pod.yaml"
is "$rc" 1 "a missing scripts folder exits 1"
like "$err" "no scripts folder" "and says so"
run "$KEDGE" health --scripts "$S" "$TMP/absent.yaml"
is "$rc" 1 "an unreadable file exits 1"
run "$KEDGE" health
is "$rc" 2 "no FILE is a usage error"

done_testing

# The release policy's versions, pause and rollback end to end against a
# real kube-apiserver: a chart downgrade held (the bundle keeps running its
# last good revision, the others move on) and then allowed (allowDowngrade,
# --allow-downgrade); a pause in the repo and a local pause with kedge
# pause / resume / status; kedge rollback --to previous and --to COMMIT
# with the config repo out of reach, which pauses the bundle; kedge check
# --base catching an unbumped chart change and a version that went down;
# and the bad input: allowDowngrade not a boolean, a pause without a
# reason, a rollback with no earlier good revision.
. tests/lib.sh
. tests/servers/kube/lib.sh

kube_start
trap 'kube_cleanup' EXIT
KC="$KEDGE lua tests/servers/kube/kc.lua"
kc() { $KC "$KUBE_ADMIN" "$@"; }
export USER=operator-ann

W=$TMP/work
BARE=$TMP/sites.git
git init -q --bare "$BARE"
git init -q "$W"
git -C "$W" config user.email ci@example.org
git -C "$W" config user.name ci
mkdir -p "$W/sites" "$W/bundles/web" "$W/bundles/other" "$W/charts/web/templates" "$W/charts/other/templates"
cat >"$W/sites/edge.yaml" <<'EOF'
name: edge
labels: {env: production}
capacity: {cpu: "4", memory: 8Gi, pods: 50}
EOF
for c in web other; do
	cat >"$W/charts/$c/templates/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  color: {{ .Values.color | quote }}
EOF
done
cat >"$W/charts/other/Chart.yaml" <<'EOF'
apiVersion: v2
name: other
version: 1.0.0
EOF
printf 'color: x\n' >"$W/charts/other/values.yaml"
for b in web other; do
	printf 'chart: charts/%s\nrelease: %s\nnamespace: pol-%s\n' "$b" "$b" "$b" >"$W/bundles/$b/bundle.yaml"
done
web() { # VERSION COLOR [bundle.yaml lines]
	printf 'apiVersion: v2\nname: web\nversion: %s\n' "$1" >"$W/charts/web/Chart.yaml"
	printf 'color: %s\n' "$2" >"$W/charts/web/values.yaml"
	printf 'chart: charts/web\nrelease: web\nnamespace: pol-web\n%s' "${3:-}" >"$W/bundles/web/bundle.yaml"
}
commit() { git -C "$W" add -A && git -C "$W" commit -q -m "$1" && git -C "$W" push -q -f "$BARE" HEAD:main; }
S=$TMP/state
pass() { # plan|apply [options]
	local cmd=$1
	shift
	run "$KEDGE" "$cmd" --site edge --repo "$BARE" --ref main --state-dir "$S" \
		--kubeconfig "$KUBE_ADMIN" --wait 30 "$@"
}
is_rc() {
	[ "$rc" = "$1" ]
	tap_report $? "$2" "got:      $rc
expected: $1
stdout:   $out
stderr:   $err"
}
color() { kc get v1 ConfigMap "pol-$1" "$1-settings" data.color; }
good() { # BUNDLE FIELD: state.json's record of the bundle
	"$KEDGE" lua -e 'local j = require("kedge.json").decode(io.open(arg[1]):read("a"))
local b = j.sites.edge.bundles[arg[2]]
if arg[3] == "history" then
  local c = {}
  for _, h in ipairs(b.history) do c[#c + 1] = h.commit:sub(1, 7) .. "@" .. h.version end
  print(table.concat(c, " "))
else print(b[arg[3]]) end' "$S/state.json" "$1" "$2"
}
short() { git -C "$W" rev-parse --short=7 HEAD; }

# --- versions: up is fine, down is held, allowed only when asked for ---
web 2.0.1 a
commit "web 2.0.1"
C1=$(git -C "$W" rev-parse HEAD)
pass apply
is_rc 0 "the first apply"
is "$(color web)" a "web 2.0.1 runs"
web 2.1.0 b
commit "web 2.1.0"
C2=$(git -C "$W" rev-parse HEAD)
pass apply
is_rc 0 "an upgrade applies"
is "$(color web)" b "web 2.1.0 runs"
is "$(good web version)" 2.1.0 "state.json: the last good version"
is "$(good web history)" "${C2:0:7}@2.1.0 ${C1:0:7}@2.0.1" "and the good history, newest first"

web 2.0.1 c
printf 'color: yankee\n' >"$W/charts/other/values.yaml"
printf 'apiVersion: v2\nname: other\nversion: 1.0.1\n' >"$W/charts/other/Chart.yaml"
commit "web back to 2.0.1, other 1.0.1"
pass plan
is_rc 10 "plan: other's change is pending"
like "$out" "= bundle web held \(downgrade\): chart web 2\.0\.1 < 2\.1\.0 applied; set allowDowngrade to permit" \
	"plan says the downgrade is held, with both versions and the fix"
pass plan --allow-downgrade
like "$out" "ConfigMap pol-web/web-settings" "plan --allow-downgrade: web would change"
! printf '%s' "$out" | grep -q "held"
tap_report $? "and nothing is held"
pass apply
is_rc 0 "a held bundle does not fail the pass"
like "$err" "web held \(downgrade\): chart web 2\.0\.1 < 2\.1\.0 applied; set allowDowngrade to permit" \
	"the progress names the gate and the reason"
is "$(color web)" b "the refused bundle keeps running its last good revision"
is "$(color other)" yankee "the other bundle moved on"
is "$(good web version)" 2.1.0 "state.json still names 2.1.0 for web"
rid=$(printf '%s\n' "$out" | sed -n 's/^pass .*, report \(.*\)$/\1/p')
run "$KEDGE" report show --state-dir "$S" --site edge "$rid"
like "$out" '"status": "held"' "the report: web is held"
like "$out" '"reason": "chart web 2\.0\.1 < 2\.1\.0 applied; set allowDowngrade to permit"' "with the reason"

web 2.0.1 c "allowDowngrade: true
"
commit "web: allowDowngrade"
C3=$(git -C "$W" rev-parse HEAD)
pass apply
is_rc 0 "allowDowngrade: true in the bundle"
is "$(color web)" c "lets the downgrade through"
is "$(good web version)" 2.0.1 "state.json: 2.0.1 is web's good version now"

# --- pause in the repo ---
web 2.2.0 d "paused: true
reason: INC-7, ask ops
"
commit "web paused"
pass apply
is_rc 0 "a pass with a bundle paused in the repo"
like "$err" "web held \(pause\): paused in the repo: INC-7, ask ops" "holds it, with the repo's reason"
is "$(color web)" c "nothing changed for web"
web 2.2.0 d
commit "web unpaused"
C4=$(git -C "$W" rev-parse HEAD)
pass apply
is "$(color web)" d "unpaused in the repo: it moves"

# --- local pause, status, resume ---
run "$KEDGE" pause --site edge --state-dir "$S" --bundle web --reason "replacing the switch"
is_rc 0 "kedge pause --bundle"
like "$out" "bundle web paused on site edge by operator-ann: replacing the switch" "says who and why"
run "$KEDGE" pause --site edge --state-dir "$S" --bundle web
is_rc 2 "kedge pause without --reason: exit 2"
web 2.2.1 e
printf 'apiVersion: v2\nname: other\nversion: 1.0.2\n' >"$W/charts/other/Chart.yaml"
printf 'color: z\n' >"$W/charts/other/values.yaml"
mkdir -p "$W/bundles/fresh"
printf 'chart: charts/other\nrelease: fresh\nnamespace: pol-fresh\n' >"$W/bundles/fresh/bundle.yaml"
commit "web 2.2.1, other 1.0.2, a new bundle"
C5=$(git -C "$W" rev-parse HEAD)
pass apply
is_rc 0 "a pass with a local pause"
like "$err" "web held \(pause\): paused on the site by operator-ann at [0-9TZ:-]+: replacing the switch" \
	"holds it, saying who paused it, when and why"
is "$(color web)" d "web stays"
is "$(color other)" z "the others move"
run "$KEDGE" budget --site edge --state-dir "$S"
like "$out" "(^|[[:space:]])web[[:space:]]" "the budget counts what the held bundle still runs"
like "$err" "web held \(pause\)" "and says it is held"
run "$KEDGE" status --state-dir "$S"
like "$out" "paused: +web +site edge, by operator-ann at .*: replacing the switch" "kedge status shows who paused what and why"
run "$KEDGE" resume --site edge --state-dir "$S" --bundle web
is_rc 0 "kedge resume --bundle"
like "$out" "resumed on site edge: web" "says what it lifted"
pass apply
is "$(color web)" e "resumed: web moves on"
is "$(good web commit)" "$C5" "state.json: web is good at the newest commit"

# --- rollback with the repo out of reach ---
mv "$BARE" "$BARE.away"
pass apply
is_rc 1 "the repo is out of reach: a pass fails in sync"
# the previous good tree must come from the mirror when sync no longer keeps it
rm -rf "$S/rev/$C4"
run "$KEDGE" rollback --site edge --state-dir "$S" --kubeconfig "$KUBE_ADMIN" --bundle web --wait 30
is_rc 0 "kedge rollback --to previous, offline"
like "$out" "web: rolled back from ${C5:0:12} \(2\.2\.1\) to ${C4:0:12} \(2\.2\.0\)" "says from what to what"
like "$out" "web: paused on site edge so the agent does not roll it forward again; kedge resume --bundle web lets it move" \
	"and that it paused the bundle"
is "$(color web)" d "the previous good revision runs again"
is "$(good web commit)" "$C4" "state.json names it as web's good revision"
ls "$S" | grep -q rollback.tmp
tap_report $((!$?)) "the tree read from the mirror is gone again"
run "$KEDGE" status --state-dir "$S"
like "$out" "paused: +web .*rolled back from ${C5:0:12} to ${C4:0:12} by kedge rollback" "status shows the rollback's pause"
run "$KEDGE" rollback --site edge --state-dir "$S" --kubeconfig "$KUBE_ADMIN" --bundle web --to "${C2:0:10}" --wait 30
is_rc 0 "kedge rollback --to COMMIT"
is "$(color web)" b "the named good revision runs"
run "$KEDGE" rollback --site edge --state-dir "$S" --kubeconfig "$KUBE_ADMIN" --bundle web --to deadbeef
is_rc 1 "a commit that was never good here"
like "$err" "commit deadbeef is not among bundle web's good revisions" "is refused, naming it"
run "$KEDGE" rollback --site edge --state-dir "$S" --kubeconfig "$KUBE_ADMIN" --bundle fresh
is_rc 1 "a bundle with no earlier good revision"
like "$err" "bundle fresh has no earlier good revision than ${C5:0:12}" "cannot roll back, and says why"
run "$KEDGE" rollback --site edge --state-dir "$S" --kubeconfig "$KUBE_ADMIN" --bundle nope
like "$err" "bundle nope has no good revision on site edge" "an unknown bundle"
mv "$BARE.away" "$BARE"
pass apply
is_rc 0 "the repo is back"
like "$err" "web held \(pause\): paused on the site by operator-ann .*rolled back" "the rolled-back bundle does not roll forward"
is "$(color web)" b "web stays where it was rolled back to"
run "$KEDGE" resume --site edge --state-dir "$S"
pass apply
is "$(color web)" e "kedge resume: web rolls forward to the repo's revision"
run "$KEDGE" rollback --site edge --state-dir "$S" --kubeconfig "$KUBE_ADMIN" --wait 30
is_rc 0 "kedge rollback without --bundle"
like "$out" "bundle fresh has no earlier good revision than ${C5:0:12} .*: left as it is" \
	"a bundle with nothing earlier is named and left alone"
is "$(color web)" b "web went back to its previous good revision"
is "$(color other)" yankee "and other to its own"
is "$(color fresh)" z "fresh stays"

# --- kedge check --base: chart versions in the repo's CI ---
run "$KEDGE" check --repo "$W" --base HEAD
is_rc 0 "check --base HEAD on an unchanged checkout"
printf '  extra: "1"\n' >>"$W/charts/web/templates/cm.yaml"
run "$KEDGE" check --repo "$W" --base HEAD
is_rc 1 "a chart changed without a version bump"
like "$err" "charts/web/Chart\.yaml: chart web changed since HEAD \([0-9a-f]{12}\) but its version did not: 2\.2\.1 then and now \(bump the version in charts/web/Chart\.yaml above 2\.2\.1\)" \
	"names the chart, the versions and the fix"
printf 'apiVersion: v2\nname: web\nversion: 2.3.0\n' >"$W/charts/web/Chart.yaml"
run "$KEDGE" check --repo "$W" --base HEAD
is_rc 0 "bumped: no problem"
printf 'apiVersion: v2\nname: other\nversion: 1.0.2-rc.1\n' >"$W/charts/other/Chart.yaml"
run "$KEDGE" check --repo "$W" --base "$C5"
is_rc 1 "a version that went down (a prerelease of the same version is lower)"
like "$err" "charts/other/Chart\.yaml: chart other went down from 1\.0\.2 at ${C5:0:40} \(${C5:0:12}\) to 1\.0\.2-rc\.1" \
	"names the chart and both versions"
like "$err" "set a version above 1\.0\.2, or allowDowngrade: true" "and the fix"
run "$KEDGE" check --repo "$W" --base no-such-ref
is_rc 2 "an unknown --base: exit 2"
git -C "$W" checkout -q -- .

# --- bad input ---
web 2.2.1 e 'allowDowngrade: "yes"
'
run "$KEDGE" check --repo "$W"
is_rc 1 "allowDowngrade that is not a boolean"
like "$err" "bundles/web/bundle\.yaml:4:[0-9]+: allowDowngrade must be a boolean, not a string" "is named at its line"
web 2.2.1 e 'paused: true
'
run "$KEDGE" check --repo "$W"
like "$err" "bundles/web/bundle\.yaml:4:[0-9]+: paused: true needs a reason:" "a pause without a reason"
web 2.2.1 e 'paused: true
reason: [a, b]
'
run "$KEDGE" check --repo "$W"
like "$err" "reason must be a string, not a list" "a reason that is not a string"
git -C "$W" checkout -q -- .

done_testing

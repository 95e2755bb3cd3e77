# A staged rollout across three sites that are each a cluster of their
# own: three kube-apiservers (kube_start_extra: one etcd, a key prefix per
# cluster), the bundle's objects in a namespace per site (the site's
# values name it), every site's reports pushed to its status branch of one
# config repo. A canary (selector wave, a soak of seconds) and two sites
# in a percent: 100 wave:
#   (a) a good revision reaches the canary's cluster first; the others
#       hold (waiting on the canary's health, then until its soak ends),
#       then apply on theirs;
#   (b) a revision whose smoke test fails is rolled back on the canary's
#       cluster, the rollout halts, the others' clusters keep the good one;
#   (c) kedge rollback on one site with the config repo out of reach puts
#       the revision before back on its cluster and pauses the bundle;
#   (d) no site's objects are on another site's cluster.
# Durations are seconds around the real clock (kedge is static: faketime
# cannot move its clock), every wait bounded.
. tests/lib.sh
. tests/servers/kube/lib.sh

kube_start
if [ "$KUBE_LOCAL" != 1 ]; then
	echo "1..0 # SKIP needs local API servers (KEDGE_TEST_KUBECONFIG names one cluster)"
	exit 0
fi
SITES="c1 s2 s3"
# shellcheck disable=SC2086
kube_start_extra $SITES
KC="$KEDGE lua tests/servers/kube/kc.lua"
kcs() { # SITE ARGS...: kc.lua against that site's cluster
	local s=$1
	shift
	$KC "$KUBE_DIR/$s.kubeconfig" "$@"
}
color() { kcs "$1" get v1 ConfigMap "site-$1" web-settings data.color; }
colors() { echo "$(color c1) $(color s2) $(color s3)"; }

R=$TMP/work
BARE=$TMP/sites.git
mkdir -p "$R/sites" "$R/bundles/web" "$R/charts/cm/templates"
printf 'apiVersion: v2\nname: cm\nversion: 1.0.0\n' >"$R/charts/cm/Chart.yaml"
printf 'color: blue\nns: nowhere\n' >"$R/charts/cm/values.yaml"
cat >"$R/charts/cm/templates/cm.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: {{ .Values.ns }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-settings
  namespace: {{ .Values.ns }}
data:
  color: {{ .Values.color | quote }}
EOF
for s in $SITES; do
	ring=$([ $s = c1 ] && echo canary || echo main)
	cat >"$R/sites/$s.yaml" <<EOF
name: $s
labels: {ring: $ring}
exec: true
capacity: {cpu: "2", memory: 2Gi, pods: 20}
values: {web: {ns: site-$s}}
report: [{git-branch: true}]
EOF
done
HEALTHY=$TMP/healthy
touch "$HEALTHY"
SMOKE="smoke:
  - {name: healthy, type: exec, command: [/usr/bin/test, -f, $HEALTHY]}"
bundle() { printf 'chart: charts/cm\n%s\n%s\n' "$SMOKE" "${1:-}" >"$R/bundles/web/bundle.yaml"; }
bundle
git init -q -b main "$R"
git init -q --bare "$BARE"
commit() { git -C "$R" add -A && git -C "$R" -c user.name=t -c user.email=t@example.org commit -qm "$1" &&
	git -C "$R" push -q "$BARE" main; }
commit "blue, without a rollout"
C0=$(git -C "$R" rev-parse HEAD)

pass() { # plan|apply SITE [options]
	run "$KEDGE" "$1" --site "$2" --repo "$BARE" --state-dir "$TMP/state-$2" \
		--kubeconfig "$KUBE_DIR/$2.kubeconfig" --wait 30 --no-progress "${@:3}"
}
for s in $SITES; do
	pass apply $s
	is "$rc" 0 "$s applies the first revision (no rollout yet)"
done
is "$(colors)" "blue blue blue" "each cluster runs it in its site's namespace"

# ---- (a) a good revision, in wave order ----
SOAK=8
ROLLOUT="rollout:
  waves:
    - {name: canary, selector: {matchLabels: {ring: canary}}, soak: ${SOAK}s}
    - {name: all, percent: 100}"
printf 'color: green\nns: nowhere\n' >"$R/charts/cm/values.yaml"
bundle "$ROLLOUT"
commit "green, in waves"
C1=$(git -C "$R" rev-parse HEAD)
pass apply s2
is "$rc" 0 "before the canary reported, s2's apply holds the bundle (exit 0)"
like "$err$out" "held \(wave\): wave all \(2/2\) waits on health: 0 of 1 canary sites succeeded on ${C1:0:7}, 1 needed" \
	"waiting on the canary's health"
pass apply c1
is "$rc" 0 "the canary applies the new revision"
t_c1=$(date +%s)
is "$(colors)" "green blue blue" "only the canary's cluster runs it"
git -C "$BARE" ls-tree -r --name-only kedge/status/c1 | grep -q -- "-${C1:0:7}-"
tap_report $? "the canary's report of it is on its status branch"
pass apply s2
is "$rc" 0 "s2's apply during the canary's soak: exit 0"
like "$err$out" "held \(wave\): wave all \(2/2\) opens at [0-9T:-]+Z after canary's ${SOAK}s soak" \
	"held until the canary's soak ends"
opens=$(grep -oE 'opens at [0-9T:-]+Z' <<<"$err$out" | head -1 | cut -d' ' -f3)
t_open=$(date -u -d "$opens" +%s)
ok "it opens ${SOAK}s after the canary's report ($((t_open - t_c1)) s after its apply ended)" \
	test $((t_open - t_c1)) -ge $((SOAK - 5)) -a $((t_open - t_c1)) -le $SOAK
pass plan s3
is "$rc" 0 "s3's plan: nothing to do while the canary soaks"
like "$out" "= bundle web held \(wave\): wave all \(2/2\) opens at $opens after canary's ${SOAK}s soak" \
	"held until the same second"
is "$(colors)" "green blue blue" "s2 and s3's clusters still run the revision before"
run "$KEDGE" rollout status --repo "$BARE" --at "$opens" --json
like "$out" '"state": "applying"' "rollout status --at the opening: the last wave applies then"
for _ in $(seq 30); do [ "$(date +%s)" -ge "$t_open" ] && break; sleep 1; done
for s in s2 s3; do
	pass apply $s
	is "$rc" 0 "the soak is over: $s applies"
done
is "$(colors)" "green green green" "the good revision runs on all three clusters"
run "$KEDGE" rollout status --repo "$BARE" --json
is "$(grep -c '"state": "done"' <<<"$out")" 5 "rollout status: every site and both waves done"

# ---- (b) a bad revision: rolled back on the canary, the rollout halts ----
printf 'color: red\nns: nowhere\n' >"$R/charts/cm/values.yaml"
commit red
C2=$(git -C "$R" rev-parse HEAD)
rm -f "$HEALTHY"
pass apply c1
isnt_zero=$([ "$rc" != 0 ] && echo yes)
is "$isnt_zero" yes "the canary's smoke test fails: its apply fails (exit $rc)"
like "$err$out" "rolled back to ${C1:0:12}" "and rolls back to the good revision"
touch "$HEALTHY"
is "$(color c1)" green "the canary's cluster runs the good revision again"
for s in s2 s3; do
	pass apply $s
	is "$rc" 0 "$s: held, not failed"
	like "$err$out" "held \(wave\): rollout halted: 1 of 1 canary sites failed on ${C2:0:7}" "$s: the rollout halted"
done
is "$(colors)" "green green green" "s2 and s3's clusters keep the good revision"
run "$KEDGE" rollout status --repo "$BARE"
is "$rc" 1 "rollout status: halted (exit 1)"
like "$out" "rollout halted: 1 of 1 canary sites failed on ${C2:0:7}" "and why"

# ---- (c) kedge rollback on s3, the config repo out of reach ----
mv "$BARE" "$BARE.away"
run "$KEDGE" rollback --site s3 --state-dir "$TMP/state-s3" --kubeconfig "$KUBE_DIR/s3.kubeconfig" --bundle web --wait 30
is "$rc" 0 "kedge rollback on s3, offline"
like "$out" "web: rolled back from ${C1:0:12} \(1\.0\.0\) to ${C0:0:12} \(1\.0\.0\)" "from the good revision to the one before"
like "$out" "web: paused on site s3 so the agent does not roll it forward again; kedge resume --bundle web lets it move" \
	"and says it paused the bundle"
is "$(colors)" "green green blue" "s3's cluster runs the revision before, the others are untouched"
mv "$BARE.away" "$BARE"
pass apply s3
like "$err$out" "held \(pause\)" "s3's next pass holds the paused bundle"
is "$(color s3)" blue "and keeps what the rollback put there"

# ---- (d) each cluster holds its own site's objects only ----
for s in $SITES; do
	for o in $SITES; do
		[ $o = $s ] && continue
		kcs $s get v1 Namespace "" "site-$o" >/dev/null 2>&1
		is $? 3 "$o's namespace is not on $s's cluster"
	done
	inv=$(kcs $s get v1 ConfigMap kedge-system kedge-inventory-web data.objects)
	like "$inv" "site-$s" "$s's inventory names its own namespace"
	others=$(for o in $SITES; do [ $o = $s ] || printf '%s|' $o; done)
	! grep -Eq "site-(${others%|})" <<<"$inv"
	tap_report $? "and no other site's"
done
$KC "$KUBE_ADMIN" get v1 ConfigMap kedge-system kedge-inventory-web >/dev/null 2>&1
is $? 3 "the shared etcd's own cluster holds no kedge inventory"

done_testing

# Soaks with smoke reruns, and the agent waking for the release policy,
# end to end: two resident agents (a canary site and a site of the last
# wave) against a real kube-apiserver, their reports pushed to their
# status branches of one config repo. While the canary wave soaks
# (soak: {duration:, smoke: every ...}) the canary's agent reruns its smoke
# tests at that interval with nothing new in the repo; the other site's
# agent, held by the wave gate until the canary's soak ends, wakes at that
# time and applies. Then a revision whose smoke test starts failing during
# the soak: the canary rolls back to the revision before, its report says
# why, and the rollout halts for the last wave, which keeps what it runs.
#
# Durations are seconds around the real clock (kedge is static: faketime
# cannot move its clock), every wait bounded.
. tests/lib.sh
. tests/servers/kube/lib.sh

kube_start
agent_pids=()
trap 'for p in "${agent_pids[@]}"; do kill "$p" 2>/dev/null; done; kube_cleanup' EXIT
KC="$KEDGE lua tests/servers/kube/kc.lua"
kc() { $KC "$KUBE_ADMIN" "$@"; }

R=$TMP/work
BARE=$TMP/sites.git
mkdir -p "$R/sites" "$R/bundles/web" "$R/charts/cm/templates"
printf 'apiVersion: v2\nname: cm\nversion: 1.0.0\n' >"$R/charts/cm/Chart.yaml"
printf 'color: blue\n' >"$R/charts/cm/values.yaml"
cat >"$R/charts/cm/templates/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-settings
data:
  color: {{ .Values.color | quote }}
EOF
for s in c1 s2; do
	ring=$([ $s = c1 ] && echo canary || echo main)
	printf 'name: %s\nlabels: {ring: %s}\nexec: true\ncapacity: {cpu: "2", memory: 2Gi, pods: 20}\nreport: [{git-branch: true}]\n' \
		$s $ring >"$R/sites/$s.yaml"
done
HEALTHY=$TMP/healthy
touch "$HEALTHY"
SMOKE="smoke:
  - {name: healthy, type: exec, command: [/usr/bin/test, -f, $HEALTHY]}"
printf 'chart: charts/cm\nnamespace: soak\n%s\n' "$SMOKE" >"$R/bundles/web/bundle.yaml"
git init -q -b main "$R"
commit() { git -C "$R" add -A && git -C "$R" -c user.name=t -c user.email=t@example.org commit -qm "$1" &&
	git -C "$R" push -q "$BARE" main; }
git init -q --bare "$BARE"
commit "without a rollout"
C0=$(git -C "$R" rev-parse HEAD)

agent_cfg() { # SITE
	cat >"$TMP/$1.yaml" <<EOF
site: $1
repo: $BARE
state-dir: $TMP/state-$1
kubeconfig: $KUBE_ADMIN
interval: 300s
jitter: 1s
drift-interval: 0
wait: 20s
EOF
}
agent_cfg c1
agent_cfg s2
run "$KEDGE" agent --once --config "$TMP/c1.yaml"
is "$rc" 0 "the canary runs the first revision (no rollout yet)"
is "$(kc get v1 ConfigMap soak web-settings data.color)" blue "applied"

# ---- kedge check: the soak's syntax ----
cp -r "$R" "$TMP/bad"
cat >>"$TMP/bad/bundles/web/bundle.yaml" <<'EOF'
rollout:
  waves:
    - {name: canary, selector: {matchLabels: {ring: canary}}, soak: {duration: 10m, smoke: every 20m}}
    - {name: all, percent: 100, soak: {duration: 1h, smoke: 5m}}
EOF
run "$KEDGE" check --repo "$TMP/bad"
is "$rc" 1 "a bad soak: check fails"
like "$err" "bundles/web/bundle.yaml:[0-9]+:[0-9]+: smoke every 20m is longer than the soak \(10m\)" \
	"a rerun interval longer than the soak, with file, line and field"
like "$err" "bundles/web/bundle.yaml:[0-9]+:[0-9]+: smoke must say how often to rerun the smoke tests while the wave soaks, like \"every 10m\", not 5m" \
	"a rerun that is not 'every DURATION'"

# ---- a good revision: the canary soaks with smoke reruns, the last wave wakes when it ends ----
SOAK=12
ROLLOUT="rollout:
  waves:
    - {name: canary, selector: {matchLabels: {ring: canary}}, soak: {duration: ${SOAK}s, smoke: every 3s}}
    - {name: all, percent: 100}"
printf 'color: green\n' >"$R/charts/cm/values.yaml"
printf 'chart: charts/cm\nnamespace: soak\n%s\n%s\n' "$SMOKE" "$ROLLOUT" >"$R/bundles/web/bundle.yaml"
commit "green, in waves"
C1=$(git -C "$R" rev-parse HEAD)
run "$KEDGE" check --repo "$R"
is "$rc" 0 "soak: {duration:, smoke: every ...} passes kedge check"

"$KEDGE" agent --config "$TMP/c1.yaml" 2>"$TMP/c1.log" &
agent_pids+=($!)
wait_for() { # SECONDS CONDITION...: polls once a second
	local n=$1
	shift
	for _ in $(seq "$n"); do "$@" && return 0; sleep 1; done
	return 1
}
reruns() { grep -c 'agent: pass for soak' "$TMP/c1.log"; }
reported() { # SITE COMMIT: a report of that commit on the site's status branch
	git -C "$BARE" ls-tree -r --name-only "kedge/status/$1" 2>/dev/null | grep -q -- "-${2:0:7}-"
}
ok "the canary applies the new revision and reports it" wait_for 20 reported c1 "$C1"
t_applied=$(date +%s)
"$KEDGE" agent --config "$TMP/s2.yaml" 2>"$TMP/s2.log" &
agent_pids+=($!)
two_reruns() { [ "$(reruns)" -ge 2 ]; }
ok "the canary's agent reruns its smoke tests while it soaks, with nothing new in the repo" wait_for 20 two_reruns
like "$(cat "$TMP/c1.log")" "rollout: bundle web soaks in wave canary until .*; its smoke tests rerun every 3s" \
	"the pass says until when and how often"
like "$(cat "$TMP/s2.log")" "held \(wave\): wave all \(2/2\) opens at .* after canary's ${SOAK}s soak" \
	"the last wave's site is held until the canary's soak ends"
good_of() { # SITE: the bundle's good commit in its state.json, and the one that failed its soak
	"$KEDGE" lua -e 'local f = io.open(arg[1]); if not f then return end
local b = (require("kedge.json").decode(f:read("a")).sites[arg[2]].bundles or {}).web or {}
print(tostring(b.commit) .. " " .. tostring(b.failed_soak and b.failed_soak.commit))' "$TMP/state-$1/state.json" "$1"
}
s2_applied() { [ "$(good_of s2)" = "$C1 nil" ]; }
ok "it wakes when the hold ends and applies, though the repo did not move" wait_for 25 s2_applied
like "$(cat "$TMP/s2.log")" "agent: pass for held" "woken for the hold"
t_s2=$(date +%s)
ok "on time: $((t_s2 - t_applied)) s after the canary reported (soak ${SOAK}s)" \
	test $((t_s2 - t_applied)) -ge $((SOAK - 3)) -a $((t_s2 - t_applied)) -le $((SOAK + 8))
sleep 2
n=$(reruns)
sleep 5
is "$(reruns)" "$n" "once the soak is over the reruns stop"

# ---- a revision that fails during the soak: rolled back, the rollout halts ----
printf 'color: red\n' >"$R/charts/cm/values.yaml"
commit red
C2=$(git -C "$R" rev-parse HEAD)
for p in "${agent_pids[@]}"; do kill -USR1 "$p"; done
c1_red() { [ "$(good_of c1)" = "$C2 nil" ]; }
ok "the canary applies the next revision" wait_for 20 c1_red
is "$(kc get v1 ConfigMap soak web-settings data.color)" red "red runs on the canary"
rm -f "$HEALTHY"
c1_back() { grep -q "rolled back to ${C1:0:12}" "$TMP/c1.log"; }
ok "a smoke rerun during the soak fails: the canary rolls back to the revision before" wait_for 15 c1_back
is "$(kc get v1 ConfigMap soak web-settings data.color)" green "the revision before runs again"
touch "$HEALTHY"
for p in "${agent_pids[@]}"; do kill "$p"; done
wait "${agent_pids[@]}"
agent_pids=()
is "$(good_of c1)" "$C1 $C2" "state.json: the good revision is the one before, and which one failed its soak"
run "$KEDGE" rollout status --repo "$BARE" --json
is "$rc" 1 "kedge rollout status: halted (exit 1)"
like "$out" '"halted": true' "the canary's failure, read from its status branch, halts the rollout"
run "$KEDGE" rollout status --repo "$BARE"
like "$out" "rollout halted: 1 of 1 canary sites failed on ${C2:0:7}" "and says why"
run "$KEDGE" report show --state-dir "$TMP/state-c1" --site c1
like "$out" '"status": "failed"' "the canary's report: the bundle failed"
like "$out" '"name": "healthy"' "with its smoke results"
like "$out" "rolled back to $C1" "and the rollback"
is "$(good_of s2)" "$C1 nil" "the last wave's site never applied the failed revision"
run "$KEDGE" plan --site s2 --repo "$BARE" --state-dir "$TMP/state-s2" --kubeconfig "$KUBE_ADMIN" --no-progress
is "$rc" 0 "the last wave's site: nothing to do"
like "$out" "= bundle web held \(wave\): rollout halted: 1 of 1 canary sites failed on ${C2:0:7}" "it is held: halted"

[ "$tap_failed" = 0 ] || for f in c1 s2; do sed "s/^/# $f: /" "$TMP/$f.log" | grep -v ' INFO  \(render\|budget\|record\|load\|sync\):' | tail -40; done
done_testing

# Deployment windows end to end. kedge check names bad windows (an unknown
# zone with a did-you-mean, a zone this node lacks, bad days, garbage
# times, from = to) and warns of a repeated one; kedge plan, kedge apply
# and the agent, against a real kube-apiserver, hold a bundle outside its
# window (exit codes as with nothing to do; the plan, the report and kedge
# status say until when), hold drift corrections inside a deny window,
# apply once a window is open, and --ignore-windows lets a bundle through,
# logged and reported.
#
# The windows are written around the real clock (now plus or minus hours,
# in UTC and in a fixed offset): kedge is a static binary, which faketime's
# LD_PRELOAD cannot reach. DST changes and midnight are in
# tests/lua/windows.lua, with explicit times.
. tests/lib.sh
. tests/servers/kube/lib.sh

# ---- kedge check: bad input ----
B=$TMP/bad
mkdir -p "$B/sites" "$B/bundles/web" "$B/charts/cm/templates"
cat >"$B/charts/cm/Chart.yaml" <<'EOF'
apiVersion: v2
name: cm
version: 1.0.0
EOF
printf 'color: blue\n' >"$B/charts/cm/values.yaml"
cat >"$B/charts/cm/templates/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  color: {{ .Values.color | quote }}
EOF
cat >"$B/bundles/web/bundle.yaml" <<'EOF'
chart: charts/cm
namespace: win
windows:
  - {kind: allow, days: [mon, funday], from: "22:00", to: "05:00", timezone: Europe/Berlln}
  - {kind: allow, from: "%s%n%x", to: "25:00", timezone: UTC}
  - {kind: permit, from: "01:00", to: "01:00", timezone: "../../etc/passwd"}
EOF
cat >"$B/sites/s1.yaml" <<'EOF'
name: s1
capacity: {cpu: "2", memory: 2Gi, pods: 20}
EOF
run "$KEDGE" check --repo "$B"
is "$rc" 1 "bad windows: check fails"
like "$err" 'bundles/web/bundle.yaml:4:[0-9]+: windows\[0\]\.days\[1\]: day "funday" is not one of mon, tue, wed, thu, fri, sat, sun' \
	"a bad day, with file, line and field"
like "$err" 'windows\[0\]\.timezone: unknown time zone "Europe/Berlln": this node has no .*zoneinfo/Europe/Berlln \(did you mean "Europe/Berlin"\?\)' \
	"an unknown zone, with a did-you-mean"
like "$err" 'windows\[1\]\.from: from must be a time "HH:MM" \(00:00 to 23:59\), not "%s%n%x"' "percent garbage as a time"
like "$err" 'windows\[1\]\.to: to must be a time "HH:MM" \(00:00 to 24:00\), not "25:00"' "25:00"
like "$err" 'windows\[2\]\.kind: kind must be allow or deny, not "permit"' "an unknown kind"
like "$err" 'windows\[2\]\.to: from and to are both 01:00: a window of no length' "from = to"
like "$err" 'windows\[2\]\.timezone: "\.\./\.\./etc/passwd" is not a time zone name' "a path is not a zone"
cat >"$B/bundles/web/bundle.yaml" <<'EOF'
chart: charts/cm
namespace: win
windows:
  - {kind: deny, days: [sat], from: "01:00", to: "02:00", timezone: Europe/Berlin}
  - {kind: deny, days: [sat], from: "01:30", to: "03:00", timezone: Europe/Berlin}
  - {kind: deny, days: [sat], from: "01:00", to: "02:00", timezone: Europe/Berlin}
EOF
run "$KEDGE" check --repo "$B"
is "$rc" 0 "overlapping windows are fine"
like "$err" 'warning: bundles/web/bundle.yaml:6:[0-9]+: windows\[2\]: window deny sat 01:00-02:00 Europe/Berlin repeats windows\[0\] \(remove one\)' \
	"a repeated window is a warning"
mkdir -p "$TMP/nozones"
TZDIR=$TMP/nozones run "$KEDGE" check --repo "$B"
is "$rc" 1 "a zone this node lacks: check fails (not a surprise at 3 am)"
like "$err" "unknown time zone \"Europe/Berlin\": this node has no $TMP/nozones/Europe/Berlin \\(install the tzdata package" \
	"and says what to install"

# ---- a site against a real API server ----
kube_start
trap 'kube_cleanup' EXIT
KC="$KEDGE lua tests/servers/kube/kc.lua"
kc() { $KC "$KUBE_ADMIN" "$@"; }

W=$TMP/repo
cp -r "$B" "$W"
cat >"$W/bundles/web/bundle.yaml" <<'EOF'
chart: charts/cm
namespace: win
EOF
git init -q -b main "$W"
commit() { git -C "$W" add -A && git -C "$W" -c user.name=t -c user.email=t@example.org commit -qm "$1"; }
now=$(date -u +%s)
hm() { date -u -d "@$1" +%H:%M; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
# closed: every day from two hours ahead, for an hour (the pass runs well
# within those two hours, so the next opening is that minute)
opens=$(( (now + 7200) / 60 * 60 ))
closed="  - {kind: allow, from: \"$(hm "$opens")\", to: \"$(hm $((opens + 3600)))\", timezone: UTC}"
printf 'windows:\n%s\n' "$closed" >"$W/kedge.yaml"
commit closed

# kedge check explains it too: which bundle a pass would hold now, why,
# until when (exit 0: a closed window is no problem of the repo)
run "$KEDGE" check --repo "$W"
is "$rc" 0 "check with the window closed: no problem"
like "$out" "held now: web \(window\): outside its deployment windows \(kedge.yaml allows only allow every day $(hm "$opens")-$(hm $((opens + 3600))) UTC\) until $(iso "$opens")" \
	"check says which bundle is held now, why and until when"
run "$KEDGE" check --repo "$W" --json
like "$out" '"gate": "window"' "check --json: the held bundle's gate"
like "$out" "\"until\": \"$(iso "$opens")\"" "...and until when"

S=$TMP/state
pass() { # plan|apply [options]
	local cmd=$1
	shift
	run "$KEDGE" "$cmd" --site s1 --repo "$W" --ref main --state-dir "$S" --kubeconfig "$KUBE_ADMIN" --wait 30 "$@"
}
pass plan
is "$rc" 0 "plan, every bundle held: exit 0 (nothing would change)"
like "$out" "= bundle web held \(window\): outside its deployment windows \(kedge.yaml allows only allow every day $(hm "$opens")-$(hm $((opens + 3600))) UTC\) until $(iso "$opens")" \
	"the plan says which window and until when"
like "$out" "plan: 0 changes in 0 bundles" "nothing is planned"
pass apply
is "$rc" 0 "apply, held: exit 0"
run kc get v1 ConfigMap win web-settings
is "$rc" 3 "nothing was applied"
run "$KEDGE" report show --state-dir "$S" --site s1
like "$out" '"status": "held"' "the report: held"
like "$out" "\"until\": \"$(iso "$opens")\"" "until when"
like "$out" '"gate": "window"' "by the window gate"

# --ignore-windows: an emergency
pass apply --ignore-windows
is "$rc" 0 "apply --ignore-windows: exit 0"
like "$err" "bundle web: outside its deployment windows .*going ahead \(--ignore-windows\)" "it is logged"
is "$(kc get v1 ConfigMap win web-settings data.color)" blue "and the bundle applied"
run "$KEDGE" report show --state-dir "$S" --site s1
like "$out" '"overridden"' "the report says a window was overridden"
like "$out" '"by": "--ignore-windows"' "and by what"
pass plan --ignore-windows
is "$rc" 0 "plan --ignore-windows: nothing left to change"
like "$out" "! bundle web let through by --ignore-windows: outside its deployment windows" "the plan says what it let through"

# a change waits for the window; it goes once the window is open
printf 'color: red\n' >"$W/charts/cm/values.yaml"
commit red
pass apply
is "$rc" 0 "a new revision outside the window: held"
is "$(kc get v1 ConfigMap win web-settings data.color)" blue "the old revision keeps running"
# open now, in a fixed offset: from two hours ago to two hours ahead at +05:30
o=19800
open="  - {kind: allow, from: \"$(hm $((now + o - 7200)))\", to: \"$(hm $((now + o + 7200)))\", timezone: \"+05:30\"}"
printf 'windows:\n%s\n' "$open" >"$W/kedge.yaml"
commit open
pass plan
is "$rc" 10 "inside the window: the plan has changes (exit 10)"
like "$out" "~ ConfigMap win/web-settings \(bundle web\)" "the change"
pass apply
is "$rc" 0 "apply inside the window"
is "$(kc get v1 ConfigMap win web-settings data.color)" red "the new revision is applied"

# a deny window on the site: drift corrections wait too
cat >>"$W/sites/s1.yaml" <<EOF
windows:
  - {kind: deny, from: "$(hm $((now - 3600)))", to: "$(hm $((now + 3600)))", timezone: Etc/UTC}
EOF
commit deny
pass apply --ignore-windows
is "$rc" 0 "the deny's commit, applied with --ignore-windows"
cat >"$TMP/drift.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata: {name: web-settings, namespace: win}
data: {color: green}
EOF
kc apply-as someone-else "$TMP/drift.yaml" force >/dev/null
pass apply --progress
is "$rc" 0 "inside a deny window: held"
like "$err" "web held \(window\): outside its deployment windows \(inside deny every day .* Etc/UTC of sites/s1.yaml\)" \
	"the deny of the site file wins over kedge.yaml's allow"
is "$(kc get v1 ConfigMap win web-settings data.color)" green "the drift is not corrected"
pass apply --ignore-windows
is "$rc" 0 "apply --ignore-windows at the same commit"
is "$(kc get v1 ConfigMap win web-settings data.color)" red "corrects it"

# the agent (its own state dir: a first pass): one tick, then kedge status
# says until when
cat >"$TMP/agent.yaml" <<EOF
site: s1
repo: $W
state-dir: $TMP/agent-state
kubeconfig: $KUBE_ADMIN
EOF
run "$KEDGE" agent --once --config "$TMP/agent.yaml"
is "$rc" 0 "an agent tick with the bundle held: exit 0"
run "$KEDGE" status --state-dir "$TMP/agent-state"
like "$out" "held: +web +window: outside its deployment windows \(inside deny .*\), until $(iso $(( (now + 3600) / 60 * 60 )))" \
	"kedge status: which bundle, why and until when"
like "$out" "wake: +$(iso $(( (now + 3600) / 60 * 60 ))) for held \(bundle web\)" \
	"...and when the agent runs its next pass for it"
printf 'ignore-windows: true\n' >>"$TMP/agent.yaml"
run "$KEDGE" agent --once --config "$TMP/agent.yaml"
is "$rc" 0 "ignore-windows: true in the agent's config"
like "$err" "agent: pass for held" "a pass runs for the held bundle, though the repo did not move"
like "$err" "going ahead \(--ignore-windows\)" "is logged"
run "$KEDGE" status --state-dir "$TMP/agent-state"
is "$(printf '%s\n' "$out" | grep -c '^held:')" 0 "kedge status: nothing held any more"
like "$out" "bundle: +web +cm 1.0.0, good at" "the bundle is good"
printf 'ignore-windows: sometimes\n' >"$TMP/bad-agent.yaml"
printf 'site: s1\nrepo: %s\n' "$W" >>"$TMP/bad-agent.yaml"
run "$KEDGE" agent --once --config "$TMP/bad-agent.yaml"
is "$rc" 1 "a bad ignore-windows: the config is invalid"
like "$err" "bad-agent.yaml:1:1: ignore-windows: want true or false, not a string" "and named"

done_testing

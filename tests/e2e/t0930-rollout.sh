# Staged rollouts (rollout: waves) end to end: 50 simulated sites in one
# config repo on the real git server (lighttpd + git http-backend over
# TLS), each with its own status branch holding reports in kedge's own
# format (tests/fleet/waves.lua, fast-import). `kedge rollout status --at`
# replays a bad and a good revision hour by hour; `kedge plan` against a
# real kube-apiserver shows the wave gate holding and releasing sites on
# the real clock (faketime cannot move the clock of a static binary: it
# works by LD_PRELOAD).
. tests/lib.sh
. tests/gitlib.sh
. tests/servers/kube/lib.sh

kube_start
trap 'for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null; done; kube_cleanup' EXIT

G=$TMP/git
make_ca "$G" || { echo "Bail out! no CA"; exit 1; }
start_git_http "$G"
BARE=$G/repos/fleet.git
git init -q --bare "$BARE"
URL=$GOOD_URL/fleet.git
gen() { "$KEDGE" lua tests/fleet/waves.lua "$@"; }
at() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
REPORTS=$TMP/reports.txt
: >"$REPORTS"
publish() { gen status <"$REPORTS" | git -C "$BARE" fast-import --quiet --force; }
status_at() { run "$KEDGE" rollout status --repo "$BARE" --at "$(at "$1")" "${@:2}"; }
state_of() { # SITE: its state in the last --json answer
	"$KEDGE" lua -e 'local m = require("kedge.json").decode(io.read("a"))
for _, w in ipairs(m.bundles[1].waves) do for _, s in ipairs(w.sites) do
if s.name == arg[1] then print(w.name .. " " .. s.state) end end end' "$1" <<<"$out"
}

# --- the waves: canary by label, the next 10% and the rest by the hash order ---
T1=1796000000
gen config 50 $T1 2h 6h bad | git -C "$BARE" fast-import --quiet
C1=$(git -C "$BARE" rev-parse main)
status_at $((T1 + 60)) --json
is "$rc" 0 "rollout status --json: exit 0 while nothing failed"
early=$("$KEDGE" lua -e 'local m = require("kedge.json").decode(io.read("a"))
local l = {}; for _, s in ipairs(m.bundles[1].waves[2].sites) do l[#l + 1] = s.name end
print(table.concat(l, " "))' <<<"$out")
want=$("$KEDGE" lua -e 'local r = require "kedge.report"; local l = {}
for i = 4, 50 do local n = string.format("site-%02d", i); l[#l + 1] = {n = n, h = r.fnv(n .. "/web")} end
table.sort(l, function(a, b) return a.h < b.h end)
local e = {}; for i = 1, 5 do e[i] = l[i].n end; table.sort(e); print(table.concat(e, " "))')
is "$early" "$want" "early is the first 5 (10% of 47, rounded up) of the FNV order of site/web"
E1=${early%% *}
for i in $(seq -w 4 50); do
	[[ " $early " == *" site-$i "* ]] || { A1=site-$i; break; }
done
is "$(state_of site-01)" "canary applying" "at the commit's time the canary wave applies"
is "$(state_of "$E1")" "early waiting on health" "early waits on the canary's health"
is "$(state_of "$A1")" "all not yet" "all waits for early"

# --- a bad revision fails in the canary wave and halts the rollout ---
cat >>"$REPORTS" <<EOF
site-01 $C1 $((T1 + 600)) ok
site-02 $C1 $((T1 + 720)) failed
site-03 $C1 $((T1 + 900)) ok
EOF
publish
status_at $((T1 + 700))
is "$rc" 0 "before the failure is reported: not halted"
status_at $((T1 + 720))
is "$rc" 1 "once a canary site reports the failure: halted, exit 1"
like "$out" "bundle web: rolling out ${C1:0:12} .*HALTED" "the bundle says HALTED"
like "$out" "rollout halted: 1 of 3 canary sites failed on ${C1:0:7} \(maxFailures 0\)" "and why"
status_at $((T1 + 48 * 3600)) --json
halted_sites=$(grep -c '"state": "halted"' <<<"$out")
is "$halted_sites" 49 "two days later the 47 later-wave sites and both later waves are still halted"
is "$(state_of "$E1")" "early halted" "an early site is halted"

# --- a good revision reaches 100% in order and on time ---
T2=$((T1 + 50 * 3600))
gen config 50 $T2 2h 6h good "$C1" | git -C "$BARE" fast-import --quiet
C2=$(git -C "$BARE" rev-parse main)
status_at $((T2 + 60))
is "$rc" 0 "a new commit starts the rollout over"
{
	echo "site-01 $C2 $((T2 + 600)) ok"
	echo "site-02 $C2 $((T2 + 1200)) ok"
	echo "site-03 $C2 $((T2 + 1800)) ok"
	echo "site-01 $C2 $((T2 + 7000)) unchanged"
} >>"$REPORTS"
EOPEN=$((T2 + 1800 + 7200))
for s in $early; do echo "$s $C2 $((EOPEN + 3600)) ok"; done >>"$REPORTS"
AOPEN=$((EOPEN + 3600 + 6 * 3600))
for i in $(seq -w 4 50); do
	[[ " $early " == *" site-$i "* ]] || echo "site-$i $C2 $((AOPEN + 600 + 10#$i)) ok"
done >>"$REPORTS"
publish
status_at $((T2 + 1799)) --json
is "$(state_of "$E1")" "early waiting on health" "2 of 3 canaries done: early still waits"
status_at $((EOPEN - 1))
like "$out" "next: wave early \(2/3\) opens at $(at $EOPEN) after canary's 2h soak" \
	"the soak counts from the last canary's success, not the later unchanged pass"
status_at $EOPEN --json
is "$(state_of "$E1")" "early applying" "at that second early opens"
is "$(state_of "$A1")" "all waiting on health" "all waits on early's health"
status_at $((EOPEN + 3600))
like "$out" "wave 2/3 early +5 sites +soaking" "early soaks once it succeeded"
like "$out" "next: wave all \(3/3\) opens at $(at $AOPEN) after early's 6h soak" "all opens 6h later"
status_at $((AOPEN - 1)) --json
is "$(state_of "$A1")" "all not yet" "a second before: all waits"
status_at $AOPEN --json
is "$(state_of "$A1")" "all applying" "then it applies"
status_at $((AOPEN + 3600)) --json
is "$rc" 0 "at the end: exit 0"
done_sites=$(grep -c '"state": "done"' <<<"$out")
is "$done_sites" 53 "100%: every site and every wave done"

# --- corrupt reports are skipped with a warning ---
echo "corrupt site-03 $C2 $((T2 + 9000))" >>"$REPORTS"
publish
status_at $((AOPEN + 3600))
is "$rc" 0 "a corrupt report: still exit 0"
like "$err" "warning: skipped kedge/status/site-03:reports/site-03-.*-${C2:0:7}-ffffffff.json: not JSON" \
	"a warning names the corrupt report"
like "$out" "wave 3/3 all +42 sites +done" "and the rest is read"

# --- over HTTPS: synced into a state directory first ---
run "$KEDGE" rollout status --repo "$URL" --ca-file "$G/ca.crt" --state-dir "$TMP/rs" --no-progress \
	--at "$(at $((AOPEN + 3600)))" --bundle web
is "$rc" 0 "over HTTPS: the same answer"
like "$out" "wave 3/3 all +42 sites +done" "every wave done"

# --- usage ---
run "$KEDGE" rollout status --repo "$BARE" --at yesterday
is "$rc" 2 "--at that is not RFC 3339: exit 2"
run "$KEDGE" rollout status --repo "$BARE" --at 2026-12-07T15:00:00+01:00 --json
like "$out" '"at": "2026-12-07T14:00:00Z"' "--at takes an offset"
run "$KEDGE" rollout status --repo "$BARE" --bundle nope
is "$rc" 1 "an unknown bundle: exit 1"
run "$KEDGE" rollout
is "$rc" 2 "no subcommand: exit 2"

# --- kedge check: bad rollout input, file and field named ---
CK=$TMP/check
git clone -q "$BARE" "$CK"
sed -i 's/percent: 10,/percent: 101,/' "$CK/bundles/web/bundle.yaml"
run "$KEDGE" check --repo "$CK"
is "$rc" 1 "percent > 100: check fails"
like "$err$out" "bundles/web/bundle.yaml:[0-9]+:[0-9]+: percent must be a whole number from 1 to 100, not 101" "naming file and field"
git -C "$CK" checkout -q .
sed -i 's/ring: canary}}/ring: nowhere}}/' "$CK/bundles/web/bundle.yaml"
run "$KEDGE" check --repo "$CK"
like "$err" "warning: bundles/web/bundle.yaml:[0-9]+:[0-9]+: rollout.waves.0.selector of wave canary matches no site" \
	"a selector matching no site: a warning"

# --- the gate in a pass, on the real clock ---
NOW=$(date +%s)
gen config 50 $((NOW - 3 * 3600)) 2h 6h live "$C2" | git -C "$BARE" fast-import --quiet
C3=$(git -C "$BARE" rev-parse main)
{
	echo "site-01 $C3 $((NOW - 3 * 3600 + 600)) ok"
	echo "site-02 $C3 $((NOW - 3 * 3600 + 900)) ok"
	echo "site-03 $C3 $((NOW - 3 * 3600 + 1200)) ok"
} >>"$REPORTS"
publish
plan() { # SITE
	run "$KEDGE" plan --site "$1" --repo "$URL" --ref main --ca-file "$G/ca.crt" --state-dir "$TMP/s-$1" \
		--kubeconfig "$KUBE_ADMIN" --no-progress
}
plan "$E1"
is "$rc" 10 "an early site 2h40m after the canaries passed: its wave is open, changes pending"
like "$out" "\+ ConfigMap web/web \(bundle web\)" "it would create the bundle's ConfigMap"
plan "$A1"
is "$rc" 0 "a site of the last wave: nothing to do"
like "$out" "= bundle web held \(wave\): wave all \(3/3\) waits on health: 0 of 5 early sites succeeded on ${C3:0:7}, 5 needed" \
	"held: its wave waits on early's health (the status branches came with the sync)"
for s in $early; do echo "$s $C3 $((NOW - 600)) ok"; done >>"$REPORTS"
publish
plan "$A1"
like "$out" "= bundle web held \(wave\): wave all \(3/3\) opens at $(at $((NOW - 600 + 6 * 3600))) after early's 6h soak until $(at $((NOW - 600 + 6 * 3600)))" \
	"once early succeeded: held until its soak ends"
echo "$E1 $C3 $((NOW - 300)) smoke-failed" >>"$REPORTS"
publish
plan "$A1"
like "$out" "held \(wave\): rollout halted: 1 of 5 early sites failed on ${C3:0:7}" "a failed smoke test in early halts all"
plan site-02
is "$rc" 10 "a canary site is never held by its own rollout"
done_testing

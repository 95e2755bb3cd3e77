# The pass narrows itself after load (README: "Security", "Privilege"):
# no_new_privs, and Landlock letting it write only to the state directory,
# the site's dir: report destinations, the temp folder and /dev/null.
# Exec smoke tests run as children of the pass and inherit both, so they
# probe it from inside a real `kedge apply` against the real
# kube-apiserver: a write outside is refused (permission denied), writes
# into the allowed places work, and NoNewPrivs is 1 for the pass (the
# smoke command's parent). kedge.os.narrow is checked alone in a kedge lua
# process too. The resident agent is not narrowed: after its tick (whose
# child ran the pass) it still writes its metrics outside those places.
#
# The state, the stick and the "outside" folder live under /var/tmp, not
# under $TMP: /tmp is one of the allowed places, so a test there would
# prove nothing. A kernel without Landlock (ABI < 2) skips the Landlock
# checks, saying so, and still checks no_new_privs.
. tests/lib.sh
. tests/servers/kube/lib.sh

V=$(mktemp -d /var/tmp/kedge-t0355.XXXXXX)
kube_start
trap 'kube_cleanup; rm -rf "$TMP" "$V"' EXIT

ABI=$("$KEDGE" lua -e 'print((require("kedge.os").narrow{}).landlock_abi)')
LL=1
if [ "${ABI:-0}" -lt 2 ]; then
	LL=0
	echo "# Landlock checks skipped: the kernel's Landlock ABI is ${ABI:-none} (kedge needs 2, Linux 5.19);" \
		"only no_new_privs is checked"
fi

# --- kedge.os.narrow alone ---
mkdir -p "$V/lua/in/a" "$V/lua/in/b" "$V/lua/out"
run "$KEDGE" lua -e '
local kos = require "kedge.os"
local V = ...
local r = assert(kos.narrow{dirs = {V .. "/in"}, files = {"/dev/null"}})
print("abi", r.landlock_abi, "landlock", r.landlock, "rules", r.rules, "why", r.why)
local f = assert(io.open(V .. "/in/a/x", "w")); f:write("x"); f:close()
print("rename", os.rename(V .. "/in/a/x", V .. "/in/b/x"))
print("out", io.open(V .. "/out/x", "w"))
print("null", io.open("/dev/null", "w") ~= nil)
for l in io.lines("/proc/self/status") do
  if l:match("^NoNewPrivs") then print(l) end
end' "$V/lua"
like "$out" "NoNewPrivs:	1" "kedge.os.narrow: no_new_privs set"
if [ $LL = 1 ]; then
	like "$out" "abi	$ABI	landlock	true	rules	2	why	nil" "kedge.os.narrow: Landlock on, a rule per path"
	like "$out" "rename	true" "kedge.os.narrow: a rename across folders inside works (refer)"
	like "$out" "out	nil	$V/lua/out/x: Permission denied	13" "kedge.os.narrow: a file outside cannot be made"
	like "$out" "null	true" "kedge.os.narrow: /dev/null opens for writing"
else
	like "$out" "landlock	false.*why	the kernel" "kedge.os.narrow: without Landlock, why is said"
fi

# --- a pass probing itself from an exec smoke test ---
W=$TMP/work
mkdir -p "$W/sites" "$W/bundles/probe" "$W/charts/cm/templates" "$V/state" "$V/stick" "$V/outside"
cat >"$W/charts/cm/Chart.yaml" <<'EOF'
apiVersion: v2
name: cm
version: 1.0.0
EOF
cat >"$W/charts/cm/templates/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  a: b
EOF
cat >"$W/sites/lab.yaml" <<EOF
name: lab
labels: {env: lab}
exec: true
capacity: {cpu: "2", memory: 2Gi, pods: 20}
report:
  - dir: $V/stick
EOF
# outside: exit 3 when the write is refused (the test expects 3), 0 when
# it went through; inside: every allowed place written, NoNewPrivs of the
# pass (the command's parent) printed
OUTSIDE_TEST="
  - name: outside
    type: exec
    command: [sh, -c, 'if echo x >$V/outside/f; then exit 0; else exit 3; fi']
    status: 3"
[ $LL = 1 ] || OUTSIDE_TEST=
cat >"$W/bundles/probe/bundle.yaml" <<EOF
chart: charts/cm
release: probe
namespace: probe
targets:
  - matchLabels: {env: lab}
smoke:
  - name: inside
    type: exec
    command: [sh, -c, 'grep NoNewPrivs /proc/\$PPID/status && echo s >$V/state/probe && echo t >/tmp/kedge-t0355-\$PPID && rm /tmp/kedge-t0355-\$PPID && echo n >/dev/null && mkdir -p $V/stick/made && echo ok']
$OUTSIDE_TEST
EOF
git init -q -b main "$W"
git -C "$W" add -A && git -C "$W" -c user.name=t -c user.email=t@t commit -q -m probe
git clone -q --bare "$W" "$TMP/sites.git"

run "$KEDGE" --log-level debug apply --site lab --repo "$TMP/sites.git" --state-dir "$V/state" \
	--kubeconfig "$KUBE_ADMIN" --wait 30 --no-progress
is "$rc" 0 "apply: the narrowed pass succeeds (exit 0)"
[ "$rc" = 0 ] || printf '%s\n%s\n' "$out" "$err" | sed 's/^/# /' | tail -40
R=$(cat "$V"/stick/kedge-reports/lab/*.json 2>/dev/null)
like "$R" '"result": "ok"' "apply: its report reached the dir: destination (a rule for the stick)"
like "$R" 'NoNewPrivs:\\t1' "apply: NoNewPrivs is 1 for the pass"
is "$(cat "$V/state/probe" 2>/dev/null)" s "apply: a smoke command writes into the state directory"
ok "apply: a smoke command makes a folder on the dir: destination" test -d "$V/stick/made"
ok "apply: state.json and the outbox were written" test -s "$V/state/state.json"
if [ $LL = 1 ]; then
	ok "apply: nothing was written outside" test ! -e "$V/outside/f"
	like "$R" "$V/outside/f: Permission denied" \
		"apply: a write outside fails with permission denied"
	like "$err" "pass narrowed: no new privileges; writes only to $V/state, $V/stick, .*/tmp and /dev/null" \
		"apply: the debug log names the allowed places"
else
	like "$err" "writes are not restricted" "apply: without Landlock the log says writes are not restricted"
fi

# plan is narrowed too and changes nothing
run "$KEDGE" plan --site lab --repo "$TMP/sites.git" --state-dir "$V/state" \
	--kubeconfig "$KUBE_ADMIN" --no-progress
is "$rc" 0 "plan: narrowed, nothing to change (exit 0)"

# --- the agent: its tick's pass is narrowed, the agent itself is not ---
cat >"$V/agent.yaml" <<EOF
site: lab
repo: $TMP/sites.git
ref: main
state-dir: $V/state
kubeconfig: $KUBE_ADMIN
interval: 1h
wait: 30s
metrics:
  textfile: $V/outside/metrics/kedge.prom
EOF
mkdir -p "$V/outside/metrics"
git -C "$W" commit -q --allow-empty -m again && git -C "$W" push -q "$TMP/sites.git" HEAD:main
"$KEDGE" agent --config "$V/agent.yaml" >"$TMP/agent.log" 2>&1 &
AGENT=$!
for _ in $(seq 1 600); do
	grep -q '"last_pass"' "$V/state/agent.json" 2>/dev/null && break
	sleep 0.1
done
like "$(cat "$V/state/agent.json" 2>/dev/null)" '"result": "success"' "agent: the tick's pass succeeded"
like "$(grep NoNewPrivs /proc/$AGENT/status)" "NoNewPrivs:	0" "agent: the resident process is not narrowed"
ok "agent: it wrote its metrics outside the pass's places" test -s "$V/outside/metrics/kedge.prom"
kill $AGENT
wait $AGENT 2>/dev/null
done_testing

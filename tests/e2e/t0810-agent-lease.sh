# Two kedge agents for one site (two nodes of a multi-node site) with
# leader election against the real kube-apiserver: exactly one applies; a
# SIGKILLed leader is replaced within one lease duration; no pass runs on
# both; SIGTERM releases the lease so the other takes over at once.
. tests/lib.sh
. tests/gitlib.sh
. tests/servers/kube/lib.sh

kube_start
trap 'kill -9 $A_PID $B_PID 2>/dev/null; kube_cleanup' EXIT
. tests/agent/lib.sh
SITE=multi-$$
agent_repo "$SITE"
printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: kedge-system}\n' >"$AG/ns.yaml"
kc create "$AG/ns.yaml" >/dev/null 2>&1

LEASE=3
node_config() { # node
	mkdir -p "$AG/$1"
	cat >"$AG/$1/agent.yaml" <<EOT
site: $SITE
repo: $BARE
ref: main
state-dir: $AG/$1/state
kubeconfig: $KUBE_ADMIN
interval: 300ms
jitter: 0s
drift-interval: 0s
leader-election: {namespace: kedge-system, name: kedge-agent-$SITE, lease-duration: ${LEASE}s}
EOT
}
node_json() { STATE=$AG/$1/state agent_json "$2"; }
node_start() { # node: sets ${NODE}_PID via echo
	"$KEDGE" agent --config "$AG/$1/agent.yaml" >>"$AG/$1/out" 2>>"$AG/$1/log" &
	echo $!
}
node_config a
node_config b
A_PID=$(node_start a)
# up to 60 s: a loaded machine (CI runs two tests at a time) may take that long for the first tick
for i in $(seq 1 600); do [ "$(node_json a 'st.leader')" = true ] && break; sleep 0.1; done
B_PID=$(node_start b)
sleep 3

is "$(node_json a 'st.leader')" true "node a leads"
is "$(node_json b 'st.leader')" false "node b does not"
is "$(node_json b 'st.last_tick.result')" standby "node b stands by"
is "$(node_json b '(st.passes.success or 0) + (st.passes.failed or 0)')" 0 "node b ran no pass"
like "$(node_json a 'st.passes.success')" '^[1-9]' "node a applied"

# kill -9 the leader: b takes over within one lease duration (plus a tick)
kill -9 "$A_PID"
for p in $(pgrep -f -- "agent --tick-child"); do grep -qa "$AG/a/" "/proc/$p/environ" 2>/dev/null && kill -9 "$p"; done
t0=$(date +%s.%N)
printf 'color: after-a\n' >"$W/charts/cm/values.yaml"
agent_push "after a died"
ok_b=1
for i in $(seq 1 $((LEASE * 10 + 30))); do
	[ "$(node_json b 'st.leader')" = true ] && { ok_b=0; break; }
	sleep 0.1
done
took=$(awk "BEGIN{print $(date +%s.%N) - $t0}")
tap_report $ok_b "node b takes over after the leader's SIGKILL (in ${took}s; lease ${LEASE}s)"
awk "BEGIN{exit !($took <= $LEASE + 2)}"
tap_report $? "within one lease duration (plus a tick)"
for i in $(seq 1 100); do
	[ "$(kc get v1 ConfigMap agent-$SITE app-settings data.color)" = after-a ] && break
	sleep 0.1
done
is "$(kc get v1 ConfigMap agent-$SITE app-settings data.color)" after-a "node b applies the new commit"

# a comes back and stands by; SIGTERM of b hands the lease over at once
A_PID=$(node_start a)
sleep 2
is "$(node_json a 'st.leader')" false "node a, restarted, stands by"
n=$(node_json a '(st.passes.success or 0)')
kill -TERM "$B_PID"
wait "$B_PID" 2>/dev/null
for i in $(seq 1 30); do [ "$(node_json a 'st.leader')" = true ] && break; sleep 0.1; done
is "$(node_json a 'st.leader')" true "node b's SIGTERM releases the lease: a leads within a tick"

# never both: the passes' times from both nodes' reports do not overlap
overlap=$("$KEDGE" lua -e 'local json = require "kedge.json"
local spans = {}
for _, n in ipairs({"a", "b"}) do
  local dir = arg[1] .. "/" .. n .. "/state/reports"
  local ok, names = pcall(require("kedge.os").read_dir, dir)
  for _, f in ipairs(ok and names or {}) do
    if f:match("%.json$") then
      local d = json.decode(io.open(dir .. "/" .. f):read("a"))
      if d.started and d.finished then spans[#spans + 1] = {d.started, d.finished, n} end
    end
  end
end
local bad = 0
for i = 1, #spans do for j = i + 1, #spans do
  local x, y = spans[i], spans[j]
  if x[3] ~= y[3] and x[1] < y[2] and y[1] < x[2] then bad = bad + 1 end
end end
print(bad)' "$AG")
is "$overlap" 0 "no pass ran on both nodes at once"
kill -TERM "$A_PID"
wait "$A_PID" 2>/dev/null

done_testing

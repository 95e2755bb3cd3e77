# kedge agent end to end with real parts: a config repo on disk, the real
# kube-apiserver (tests/servers/kube/), systemd's notify protocol read from a
# unix datagram socket bound here, metrics checked by Debian's promtool, and
# signals sent to the resident process.
. tests/lib.sh
. tests/gitlib.sh
. tests/servers/kube/lib.sh

kube_start
trap 'kill $AGENT_PID $NOTIFY_PID 2>/dev/null; kube_cleanup' EXIT
. tests/agent/lib.sh
SITE=edge-$$
agent_repo "$SITE"
agent_config "$SITE"

# --- help and a broken config ---
run "$KEDGE" help agent
like "$out" "^usage: kedge agent" "help agent prints its usage"
like "$out" "--drift-interval" "and lists every config key as a flag"
printf 'site: x\nrepo: /r\nintervall: 5m\n' >"$AG/bad.yaml"
run "$KEDGE" agent --config "$AG/bad.yaml" --once
is "$rc" 1 "a bad config: --once exits 1"
like "$err" "bad.yaml:3:1: .*intervall.*interval" "naming the file, the line and the key it meant"
run "$KEDGE" agent --config "$AG/none.yaml" --once
is "$rc" 1 "a missing config: exit 1"
like "$err" "none.yaml" "naming the file"

# --- one tick at a time (--once) ---
run "$KEDGE" agent --config "$CONF" --once
is "$rc" 0 "the first tick applies the site (exit 0)"
is "$(kc get v1 ConfigMap agent-$SITE app-settings data.color)" blue "the bundle is on the cluster"
is "$(agent_json 'st.last_tick.ran')" true "agent.json: the tick ran a pass"
is "$(agent_json 'st.last_tick.reasons[1]')" commit "because the commit moved"
c1=$(git -C "$W" rev-parse HEAD)
is "$(agent_json 'st.commit')" "$c1" "agent.json names the commit"
run "$KEDGE" agent --config "$CONF" --once
is "$rc" 0 "an unchanged repo: exit 0"
is "$(agent_json 'st.last_tick.ran')" false "no pass when nothing moved"
is "$(agent_json 'st.last_tick.result')" unchanged "the tick says unchanged"
printf 'color: green\n' >"$W/charts/cm/values.yaml"
agent_push "green"
run "$KEDGE" agent --config "$CONF" --once
is "$(kc get v1 ConfigMap agent-$SITE app-settings data.color)" green "a new commit is applied at the next tick"
# a good pass the agent did not see (a one-shot `kedge apply`, or a tick
# child killed after its record step): the next tick finds state.json at
# the head and agent.json follows it
printf 'color: teal\n' >"$W/charts/cm/values.yaml"
agent_push "teal"
run "$KEDGE" apply --site "$SITE" --repo "$BARE" --ref main --state-dir "$STATE" --kubeconfig "$KUBE_ADMIN"
is "$rc" 0 "a one-shot kedge apply of the next commit"
run "$KEDGE" agent --config "$CONF" --once
is "$(agent_json 'st.last_tick.result')" unchanged "the agent's tick then has nothing to do"
is "$(agent_json 'st.last_success.commit')" "$(git -C "$W" rev-parse HEAD)" \
	"and its last success is the commit state.json records as applied"
run "$KEDGE" agent --config "$CONF" --once --interval soon
is "$rc" 1 "a bad duration given as a flag: exit 1"
like "$err" "soon" "naming it"

# --- kedge status ---
run "$KEDGE" status --config "$CONF"
is "$rc" 1 "status: exit 1 when no agent runs"
like "$out" "agent: +not running" "status says the agent is not running"
like "$out" "site: +$SITE" "names the site"
like "$out" "bundle: +app +cm 1.0.0" "lists each bundle with its chart and version"
like "$out" "outbox: +[0-9]+ reports? pending" "and the outbox backlog"
run "$KEDGE" status --state-dir "$STATE" --json
like "$out" '"site": "'"$SITE"'"' "status --json is agent.json"
run "$KEDGE" status --state-dir "$AG/nothing"
is "$rc" 3 "status without agent state: exit 3"

# --- the resident agent: notify, metrics, signals ---
cat >"$AG/notify.pl" <<'EOT'
use IO::Socket::UNIX;
my $s = IO::Socket::UNIX->new(Type => SOCK_DGRAM, Local => $ARGV[0]) or die "bind: $!";
open(my $o, '>>', $ARGV[1]) or die;
$o->autoflush(1);
while (1) { my $m; $s->recv($m, 4096); print $o "$m\n"; }
EOT
perl "$AG/notify.pl" "$AG/notify.sock" "$AG/notify.log" &
NOTIFY_PID=$!
for i in $(seq 1 100); do [ -S "$AG/notify.sock" ] && break; sleep 0.05; done
kube_free_port
MPORT=$port
agent_config "$SITE" "metrics:
  textfile: $AG/metrics/kedge.prom
  listen: 127.0.0.1:$MPORT"
mkdir -p "$AG/metrics"
NOTIFY_SOCKET=$AG/notify.sock agent_start
wait_for 'st.ticks' 1
is "$?" 0 "the resident agent ticks at once"
# the listener writes what it receives on its own time: wait for it (bounded)
for i in $(seq 1 200); do grep -q "READY=1" "$AG/notify.log" 2>/dev/null && break; sleep 0.05; done
like "$(cat "$AG/notify.log")" "READY=1" "it tells systemd READY=1"
like "$(cat "$AG/notify.log")" "STATUS=" "and a STATUS line"
run "$KEDGE" status --config "$CONF"
is "$rc" 0 "status: exit 0 while it runs and its tick succeeded"
like "$out" "agent: +running \(pid $AGENT_PID\)" "status says running, with the pid"
ok "the metrics textfile passes promtool check metrics" promtool check metrics <"$AG/metrics/kedge.prom"
like "$(cat "$AG/metrics/kedge.prom")" 'kedge_bundle_info\{bundle="app",chart="cm",version="1.0.0"' "it has kedge_bundle_info"
http() { # PATH
	exec 3<>"/dev/tcp/127.0.0.1/$MPORT" && printf 'GET %s HTTP/1.1\r\nHost: x\r\n\r\n' "$1" >&3 && timeout 5 cat <&3
	exec 3<&-
}
got=$(http /metrics)
like "$got" "^HTTP/1.1 200" "GET /metrics: 200"
like "$got" "kedge_up 1" "with kedge_up 1"
like "$got" "kedge_pass_total" "and kedge_pass_total"
printf '%s\n' "$got" | sed '1,/^\r$/d' >"$AG/scraped.prom"
ok "the served metrics pass promtool" promtool check metrics <"$AG/scraped.prom"
like "$(http /other)" "^HTTP/1.1 404" "another path: 404"

# SIGUSR1: tick now
n=$(agent_json 'st.ticks')
kill -USR1 "$AGENT_PID"
wait_for_at_least 'st.ticks' $((n + 1)) 60
is "$?" 0 "SIGUSR1 makes it tick now"

# SIGHUP with a broken config: logged, the old one kept
cp "$CONF" "$AG/good.yaml"
printf 'site: [\n' >"$CONF"
kill -HUP "$AGENT_PID"
sleep 0.5
like "$(cat "$AG/agent.log")" "not valid; keeping the old one" "a bad config on SIGHUP is logged and the old one kept"
kill -0 "$AGENT_PID"
is "$?" 0 "the agent keeps running"
cp "$AG/good.yaml" "$CONF"

# a repo that is gone: the tick fails, backs off, and recovers
mv "$BARE" "$BARE.away"
n=$(agent_json 'st.ticks')
kill -USR1 "$AGENT_PID"
wait_for 'st.ticks' $((n + 1)) 60
is "$(agent_json 'st.last_tick.result')" sync-failed "an unreachable repo: the tick fails"
is "$(agent_json 'st.consecutive_failures')" 1 "counted as a failure in agent.json"
run "$KEDGE" status --config "$CONF"
like "$out" "error: .*sites.git" "status names the repo in the error"
like "$(http /metrics)" "kedge_sync_failures_total 1" "and the metrics count it"
mv "$BARE.away" "$BARE"
kill -USR1 "$AGENT_PID"
wait_for 'st.consecutive_failures' 0 20
is "$?" 0 "once the repo is back, the next tick succeeds and the count resets"

# a kubeconfig that no longer works
printf 'color: red\n' >"$W/charts/cm/values.yaml"
agent_push "red"
cp "$KUBE_ADMIN" "$AG/kubeconfig"
sed -i "s|^kubeconfig: .*|kubeconfig: $AG/kubeconfig|" "$CONF"
printf 'not: [a kubeconfig\n' >"$AG/kubeconfig.broken"
cp "$AG/kubeconfig.broken" "$AG/kubeconfig"
kill -HUP "$AGENT_PID"
wait_for 'st.consecutive_failures' 1 30
is "$?" 0 "a broken kubeconfig: the pass fails and is counted"
like "$(agent_json 'st.last_pass.error')" "kubeconfig" "the error names the kubeconfig"
cp "$KUBE_ADMIN" "$AG/kubeconfig"
kill -USR1 "$AGENT_PID"
wait_for 'st.consecutive_failures' 0 30
is "$(kc get v1 ConfigMap agent-$SITE app-settings data.color)" red "fixed: the agent recovers by itself"

# SIGTERM: exit 0 within 10 s, STOPPING=1
t0=$(date +%s)
agent_stop
is "$AGENT_RC" 0 "SIGTERM: exit 0"
[ $(($(date +%s) - t0)) -le 10 ]
tap_report $? "within 10 s"
for i in $(seq 1 200); do grep -q "STOPPING=1" "$AG/notify.log" 2>/dev/null && break; sleep 0.05; done
like "$(cat "$AG/notify.log")" "STOPPING=1" "it tells systemd STOPPING=1"

# --- drift: changed or deleted objects are put back, ignore is honoured ---
cp "$CONF" "$AG/nodrift.yaml"
echo "drift-interval: 1s" >>"$CONF"
run "$KEDGE" agent --config "$CONF" --once
is "$rc" 0 "a tick at the applied commit (the drift clock starts)"
cat >"$AG/edit.yaml" <<EOT
apiVersion: v1
kind: ConfigMap
metadata: {name: app-settings, namespace: agent-$SITE}
data: {color: purple}
EOT
kc apply-as someone-else "$AG/edit.yaml" force >/dev/null
kc delete v1 ConfigMap "agent-$SITE" app-extra >/dev/null
sleep 1.2
before=$(agent_json 'st.drift_corrections')
run "$KEDGE" agent --config "$CONF" --once
is "$rc" 0 "a drift check passes"
is "$(agent_json 'st.last_tick.reasons[1]')" drift "the pass ran for drift alone"
is "$(kc get v1 ConfigMap agent-$SITE app-settings data.color)" red "a changed field is reverted"
run kc get v1 ConfigMap "agent-$SITE" app-extra
is "$rc" 0 "a deleted object is created again"
is "$(agent_json 'st.drift_corrections')" $((before + 2)) "both corrections are counted in agent.json"
rep=$(ls -t "$STATE"/outbox/*.json | grep -v done | head -n 1)
like "$(cat "$rep")" '"object": "ConfigMap/agent-'"$SITE"'/app-settings"' "the report names the object"
like "$(cat "$rep")" '"action": "recreated"' "and what was done"
like "$(cat "$rep")" 'color' "and the fields"
cat >"$AG/ignore.yaml" <<EOT
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-settings
  namespace: agent-$SITE
  annotations: {kedge.io/drift: ignore}
data: {color: orange}
EOT
kc apply-as someone-else "$AG/ignore.yaml" force >/dev/null
sleep 1.2
run "$KEDGE" agent --config "$CONF" --once
is "$rc" 0 "a drift check with an ignored object passes"
is "$(kc get v1 ConfigMap agent-$SITE app-settings data.color)" orange "kedge.io/drift: ignore is left alone"
cp "$AG/nodrift.yaml" "$CONF"

# --- no config at start: the agent waits for one ---
mv "$CONF" "$AG/later.yaml"
agent_start
sleep 1
kill -0 "$AGENT_PID"
is "$?" 0 "without a config the agent keeps running"
like "$(cat "$AG/agent.log")" "agent.yaml" "and says which file it lacks"
mv "$AG/later.yaml" "$CONF"
n=$(agent_json 'st.ticks')
kill -HUP "$AGENT_PID"
wait_for 'st.ticks' 1 20
is "$?" 0 "given one (and SIGHUP), it starts ticking"
agent_stop
is "$AGENT_RC" 0 "and stops cleanly"

# --- the binary replaced in place (an upgrade): the next tick runs the new one ---
cp "$KEDGE" "$AG/kedge-old"
"$AG/kedge-old" agent --config "$CONF" >>"$AG/agent.out" 2>>"$AG/upgrade.log" &
AGENT_PID=$!
wait_for 'st.pid' "$AGENT_PID" 20
n=$(agent_json 'st.ticks')
cp "$KEDGE" "$AG/kedge-new" && mv -f "$AG/kedge-new" "$AG/kedge-old"
kill -USR1 "$AGENT_PID"
wait_for_at_least 'st.ticks' $((n + 1)) 60
is "$?" 0 "after the binary was replaced, the next tick still runs"
is "$(agent_json 'st.consecutive_failures')" 0 "and succeeds"
agent_stop
is "$AGENT_RC" 0 "and the agent stops cleanly"

done_testing

# A full disk under the state directory (a small tmpfs mounted there): the
# tick fails with an error naming the state directory and the cause, the
# agent keeps running and backs off, what it wrote before still parses, the
# metrics it serves count the failure, and once space is back the next
# tick applies the commit that was waiting.
. tests/lib.sh
. tests/gitlib.sh
. tests/servers/kube/lib.sh

kube_start
. tests/agent/lib.sh
mount -t tmpfs -o size=8m kedge-test-full "$STATE" || { echo "Bail out! cannot mount a tmpfs on $STATE (needs root)"; exit 1; }
trap 'kill $AGENT_PID 2>/dev/null; umount "$STATE" 2>/dev/null; kube_cleanup' EXIT
SITE=full-$$
agent_repo "$SITE"
kube_free_port
MPORT=$port
agent_config "$SITE" "metrics:
  listen: 127.0.0.1:$MPORT"
http() { # PATH
	exec 3<>"/dev/tcp/127.0.0.1/$MPORT" && printf 'GET %s HTTP/1.1\r\nHost: x\r\n\r\n' "$1" >&3 && timeout 5 cat <&3
	exec 3<&-
}

agent_start
wait_for 'st.ticks' 1
is "$(agent_json 'st.last_tick.result')" success "the first tick applies the site"

# fill the state directory's file system to the last byte
dd if=/dev/zero of="$STATE/filler" bs=64k count=200 2>/dev/null
is "$(df --output=avail "$STATE" | tail -1 | tr -d ' ')" 0 "the state directory's disk is full"
printf 'color: green\n' >"$W/charts/cm/values.yaml"
agent_push "green"
cp "$STATE/state.json" "$AG/state.before"
kill -USR1 "$AGENT_PID"
for i in $(seq 1 100); do
	grep -q "No space left on device" "$AG/agent.log" && break
	sleep 0.1
done
like "$(cat "$AG/agent.log")" "$STATE.*No space left on device|No space left on device.*$STATE" \
	"the log names the state directory and the cause"
sleep 0.5
kill -0 "$AGENT_PID"
is "$?" 0 "the agent keeps running"
is "$(kc get v1 ConfigMap agent-$SITE app-settings data.color)" blue "nothing of the new commit is applied"
cmp -s "$STATE/state.json" "$AG/state.before"
is "$?" 0 "state.json is as it was"
like "$(agent_json st.site)" "^$SITE$" "agent.json still parses"
like "$(http /metrics)" 'kedge_pass_total\{result="failed"\} [1-9]|kedge_sync_failures_total [1-9]' \
	"the served metrics count the failure"
run "$KEDGE" status --config "$CONF"
like "$out" "site: +$SITE" "kedge status still reads the state directory"

# space is back: the next tick (a signal here, the backoff otherwise) recovers
rm -f "$STATE/filler"
kill -USR1 "$AGENT_PID"
c2=$(git -C "$W" rev-parse HEAD)
wait_for 'st.commit' "$c2" 30
is "$?" 0 "space back: the next tick succeeds"
is "$(agent_json 'st.consecutive_failures')" 0 "and the failures reset"
is "$(kc get v1 ConfigMap agent-$SITE app-settings data.color)" green "the waiting commit is applied"
# full with nothing left to fetch: the commit is already fetched and checked
# out (kedge sync into the same state directory), then the disk fills; the
# tick still fails cleanly (the sync's record of the commit cannot be
# written), and the next tick with space applies and records it
printf 'color: red\n' >"$W/charts/cm/values.yaml"
agent_push "red"
c3=$(git -C "$W" rev-parse HEAD)
run "$KEDGE" sync --repo "$BARE" --ref main --state-dir "$STATE"
is "$rc" 0 "kedge sync fetched the next commit into the state directory"
dd if=/dev/zero of="$STATE/filler" bs=64k count=200 2>/dev/null
cp "$STATE/state.json" "$AG/state.before"
n=$(grep -c "agent: tick" "$AG/agent.log")
kill -USR1 "$AGENT_PID"
for i in $(seq 1 100); do
	[ "$(grep -c "agent: tick" "$AG/agent.log")" -ge $((n + 2)) ] && break
	sleep 0.1
done
like "$(tail -5 "$AG/agent.log")" "agent: tick failed" "the tick fails"
cmp -s "$STATE/state.json" "$AG/state.before"
is "$?" 0 "state.json is whole and as it was"
rm -f "$STATE/filler"
kill -USR1 "$AGENT_PID"
wait_for 'st.commit' "$c3" 30
is "$?" 0 "space back: the commit is recorded"
like "$(agent_json 'st.last_tick.result')" "^success$" "by a tick that succeeds"
is "$(kc get v1 ConfigMap agent-$SITE app-settings data.color)" red "and the cluster has it"
agent_stop
is "$AGENT_RC" 0 "SIGTERM: exit 0"
done_testing

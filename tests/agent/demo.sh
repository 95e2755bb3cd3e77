# ./build.sh demo: a newcomer's first run. Starts the test control plane
# (the cached kube-apiserver and etcd of the tests) on 127.0.0.1, clones
# tests/example-repo into a temporary bare repo, runs `kedge agent` for
# site lab-01 for two ticks with a commit pushed between them, prints
# `kedge status`, and stops everything it started.
set -u
. tests/lib.sh
. tests/gitlib.sh
. tests/servers/kube/lib.sh
say() { printf '\n== %s\n' "$*"; }

say "starting a kube-apiserver and etcd on 127.0.0.1 (built once, cached)"
kube_start >/dev/null
trap 'kill $AGENT_PID 2>/dev/null; kube_cleanup' EXIT
D=$TMP/demo
mkdir -p "$D"
git init -q --bare "$D/sites.git"
git clone -q "$D/sites.git" "$D/work" 2>/dev/null
cp -r tests/example-repo/. "$D/work/"
git -C "$D/work" add -A && git -C "$D/work" commit -qm "the example repo" &&
	git -C "$D/work" push -q origin HEAD:main
cat >"$D/agent.yaml" <<EOT
site: lab-01
repo: $D/sites.git
ref: main
state-dir: $D/state
kubeconfig: $KUBE_ADMIN
interval: 1h
jitter: 0s
wait: 0s        # no kubelet here: nothing would ever become ready
EOT
say "the agent's config ($D/agent.yaml)"
cat "$D/agent.yaml"
say "kedge agent: the first tick"
"$KEDGE" agent --config "$D/agent.yaml" 2>"$D/agent.log" &
AGENT_PID=$!
ticks() { "$KEDGE" lua -e 'local f = io.open(arg[1]); if not f then print(0) return end
local ok, st = pcall(require("kedge.json").decode, f:read("a")); print(ok and st.ticks or 0)' "$D/state/agent.json"; }
for i in $(seq 1 600); do [ "$(ticks)" -ge 1 ] && break; sleep 0.1; done
cat "$D/agent.log"
say "a commit: the web bundle's message changes; SIGUSR1 ticks now"
sed -i 's/Hello from kedge/Hello from the demo/' "$D/work/bundles/web/bundle.yaml"
git -C "$D/work" commit -qam "demo: a change" && git -C "$D/work" push -q origin HEAD:main
kill -USR1 "$AGENT_PID"
for i in $(seq 1 600); do [ "$(ticks)" -ge 2 ] && break; sleep 0.1; done
tail -n +1 "$D/agent.log" | tail -n 20
say "kedge status"
"$KEDGE" status --state-dir "$D/state"
kill -TERM "$AGENT_PID"
wait "$AGENT_PID"
say "stopped the agent, the kube-apiserver and etcd"

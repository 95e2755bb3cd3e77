# The site pass end to end with real parts: `kedge plan` and `kedge apply`
# fetch the config repo from lighttpd + git http-backend over TLS
# (tests/gitlib.sh), apply to a real kube-apiserver with etcd
# (tests/servers/kube/), run smoke tests against a real HTTPS server, and
# deliver reports to a webhook (a CGI behind lighttpd with TLS on
# 127.0.0.1 that keeps every body it is sent) and to a status branch pushed
# to the config repo.
#
# There is no kubelet here, so Deployments and Pods never become ready: the
# bundles that get applied hold ConfigMaps and Services (ready at once, by
# kedge.kube's readiness rules), and the only Deployment (the over-budget
# bundle) must never reach the server at all.
. tests/lib.sh
. tests/gitlib.sh
. tests/servers/kube/lib.sh

kube_start
trap 'for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null; done; kube_cleanup' EXIT

KC="$KEDGE lua tests/servers/kube/kc.lua"
kc() { $KC "$KUBE_ADMIN" "$@"; }
G=$TMP/git
make_ca "$G" || { echo "Bail out! no CA"; exit 1; }
start_git_http "$G"
echo pong >"$G/www/ping.txt"
BARE=$G/repos/sites.git
URL=$GOOD_URL/sites.git
W=$TMP/work
git init -q --bare "$BARE"
git -C "$BARE" config http.receivepack true
git init -q "$W"
git -C "$W" remote add origin "$BARE"

# --- the webhook: lighttpd + a CGI keeping each POST body ---
H=$TMP/hook
mkdir -p "$H/got" "$H/www"
echo hook-token-123 >"$H/token"
cat >"$H/hook-cgi" <<EOF
#!/bin/sh
if [ "\$HTTP_AUTHORIZATION" != "Bearer hook-token-123" ]; then
	printf 'Status: 401 Unauthorized\r\nContent-Type: text/plain\r\n\r\nno\n'
	exit 0
fi
n=\$(date +%s%N)
cat >"$H/got/\$n.json"
printf 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n'
EOF
chmod +x "$H/hook-cgi"
free_port
HOOK_PORT=$port
cat >"$H/lighttpd.conf" <<EOF
server.document-root = "$H/www"
server.bind          = "127.0.0.1"
server.port          = $HOOK_PORT
server.pid-file      = "$H/lighttpd.pid"
server.errorlog      = "$H/error.log"
server.modules       = ("mod_openssl", "mod_alias", "mod_cgi")
alias.url            = ("/hook" => "$H/hook-cgi")
\$HTTP["url"] =~ "^/hook" { cgi.assign = ("" => "") }
ssl.engine  = "enable"
ssl.pemfile = "$G/good.crt"
ssl.privkey = "$G/good.key"
EOF
# A restarted lighttpd may lose its port to a moment of load (it exits
# when the bind fails): it gets three tries before the test bails out.
hook_start() {
	local try i
	for try in 1 2 3; do
		lighttpd -D -f "$H/lighttpd.conf" 2>>"$H/stderr" &
		HOOK_PID=$!
		server_pids+=($HOOK_PID)
		for i in $(seq 1 400); do
			listening "$HOOK_PORT" && return 0
			kill -0 "$HOOK_PID" 2>/dev/null || break
			sleep 0.05
		done
		kill "$HOOK_PID" 2>/dev/null
		wait "$HOOK_PID" 2>/dev/null
	done
	wait_listening "$HOOK_PORT" "$H/stderr"
}
hook_stop() {
	kill "$HOOK_PID"
	wait "$HOOK_PID" 2>/dev/null
	local i
	for i in $(seq 1 100); do listening "$HOOK_PORT" || break; sleep 0.05; done
}
hook_start
# ids of the reports the webhook got, one line each, sorted
hook_ids() { cat "$H"/got/*.json 2>/dev/null | sed -n 's/^  "id": "\(.*\)",$/\1/p' | sort; }

# --- the config repo ---
mkdir -p "$W/sites" "$W/bundles"/{web,metrics,labtools,heavy} "$W/charts/cm/templates" \
	"$W/charts/heavy/templates" "$W/recipes"
cat >"$W/charts/cm/Chart.yaml" <<'EOF'
apiVersion: v2
name: cm
version: 1.4.0
EOF
printf 'color: blue\n' >"$W/charts/cm/values.yaml"
cat >"$W/charts/cm/templates/cm.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  color: {{ .Values.color | quote }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}
spec:
  ports:
    - port: 80
  selector:
    app: {{ .Release.Name }}
EOF
cat >"$W/charts/heavy/Chart.yaml" <<'EOF'
apiVersion: v2
name: heavy
version: 0.1.0
EOF
cat >"$W/charts/heavy/templates/deploy.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: heavy
spec:
  replicas: 3
  selector: {matchLabels: {app: heavy}}
  template:
    metadata: {labels: {app: heavy}}
    spec:
      containers:
        - name: app
          image: registry.invalid/heavy:1
          resources:
            requests: {cpu: 500m, memory: 256Mi}
EOF
cat >"$W/sites/berlin.yaml" <<EOF
name: berlin
labels: {env: production, region: eu}
capacity: {cpu: "4", memory: 8Gi, pods: 50}
report:
  - webhook: https://127.0.0.1:$HOOK_PORT/hook
    token-file: $H/token
    ca-file: $G/ca.crt
  - git-branch: kedge/status/berlin
EOF
cat >"$W/sites/lab.yaml" <<'EOF'
name: lab
labels: {env: staging}
capacity: {cpu: "4", memory: 8Gi, pods: 50}
EOF
cat >"$W/sites/tiny.yaml" <<'EOF'
name: tiny
labels: {tier: tiny}
capacity: {cpu: "1", memory: 1Gi, pods: 10}
reserve: {cpu: 200m}
EOF
web_bundle() { # extra smoke tests (YAML lines)
	cat >"$W/bundles/web/bundle.yaml" <<EOF
chart: charts/cm
release: web
namespace: web
targets:
  - matchLabels: {env: production}
  - matchLabels: {env: staging}
smoke:
  - name: ping
    type: http
    url: https://127.0.0.1:$GOOD_PORT/ping.txt
    ca-file: $G/ca.crt
    status: 200
    body: pong
$1
EOF
}
web_bundle ""
for b in metrics labtools; do
	cat >"$W/bundles/$b/bundle.yaml" <<EOF
chart: charts/cm
release: $b
namespace: $b
targets:
  - matchLabels: {env: $([ $b = metrics ] && echo production || echo staging)}
dependsOn: [web]
EOF
done
cat >"$W/bundles/heavy/bundle.yaml" <<'EOF'
chart: charts/heavy
release: heavy
namespace: heavy
targets:
  - matchLabels: {tier: tiny}
EOF
push() { git -C "$W" add -A && git -C "$W" commit -q -m "$1" && git -C "$W" push -q -f origin HEAD:main; }
push "first"

S=$TMP/state
pass() { # plan|apply SITE [options]
	local cmd=$1 site=$2
	shift 2
	run "$KEDGE" "$cmd" --site "$site" --repo "$URL" --ref main --ca-file "$G/ca.crt" \
		--state-dir "$S-$site" --kubeconfig "$KUBE_ADMIN" --wait 30 "$@"
}
# is_rc WANT NAME: the last run's exit status, with its stderr when wrong
is_rc() {
	[ "$rc" = "$1" ]
	tap_report $? "$2" "got:      $rc
expected: $1
stderr:   $err"
}
# the id of the report the last pass wrote (its last stdout line names it;
# `report show` without an id could pick another one of the same second)
pass_report() { printf '%s\n' "$out" | sed -n 's/^pass .*, report \(.*\)$/\1/p' | tail -n1; }
status_commits() { git -C "$BARE" rev-list --count kedge/status/berlin 2>/dev/null || echo 0; }

# --- two sites, different labels, different bundles ---
pass plan berlin
is_rc 10 "plan: changes pending on a fresh cluster (exit 10)"
like "$out" "ConfigMap metrics/metrics-settings" "plan berlin: the production bundle"
! printf '%s' "$out" | grep -q labtools
tap_report $? "plan berlin: not the staging bundle"
pass plan lab
is_rc 10 "plan lab: changes pending"
like "$out" "labtools/labtools-settings" "plan lab: the staging bundle"
! printf '%s' "$out" | grep -q "metrics-settings"
tap_report $? "plan lab: not the production bundle"
run kc get v1 Namespace "" web
is_rc 3 "plan created nothing"

pass apply berlin
is_rc 0 "apply berlin: the pass succeeds"
like "$err" "apply: metrics: 3 created" "the progress lines name the step and the counts"
is "$(kc get v1 ConfigMap web web-settings data.color)" blue "web's ConfigMap applied"
is "$(kc get v1 ConfigMap metrics metrics-settings data.color)" blue "metrics' ConfigMap applied"
run kc get v1 ConfigMap labtools labtools-settings
is_rc 3 "the staging bundle is not applied to berlin"
pass plan berlin
is_rc 0 "plan after apply: nothing to change (exit 0)"
like "$out" "plan: 0 changes in 2 bundles" "plan says so"
is "$(hook_ids | wc -l)" 1 "the webhook got the report"
is "$(status_commits)" 1 "the status branch has one commit"
first_id=$(hook_ids | head -n1)
run "$KEDGE" report show --state-dir "$S-berlin" --site berlin "$first_id"
like "$out" '"result": "ok"' "report show: the report's JSON"

# --- over budget: refused before anything exists ---
pass apply tiny
is_rc 20 "the over-budget site is refused (exit 20)"
like "$err" "cpu" "the refusal shows the budget table"
like "$err" "nothing was applied" "and says nothing was applied"
run kc get apps/v1 Deployment heavy heavy
is_rc 3 "no Deployment was created"
run kc get v1 Namespace "" heavy
is_rc 3 "not even its namespace"
run "$KEDGE" budget --site tiny --repo "$W"
is_rc 20 "kedge budget on the checkout: 20"
like "$out" "heavy" "kedge budget prints the table with the bundle"

# --- a smoke failure fails the pass and rolls the bundle back ---
printf 'color: red\n' >"$W/charts/cm/values.yaml"
free_port
web_bundle "  - name: backend port
    type: tcp
    host: 127.0.0.1
    port: $port
    timeout: 2"
push "red, and a smoke test that fails"
pass apply berlin
is_rc 22 "a failed smoke test fails the pass (exit 22)"
rid=$(pass_report)
like "$rid" "^berlin-[0-9]{8}T[0-9]{6}Z-[0-9a-f]{7}-" "the pass names its report on stdout"
like "$err" "backend port" "the error names the test"
is "$(kc get v1 ConfigMap web web-settings data.color)" blue "the bundle is rolled back to its last good revision"
run "$KEDGE" report show --state-dir "$S-berlin" --site berlin "$rid"
like "$out" '"result": "smoke-failed"' "the report's result is smoke-failed"
like "$out" '"name": "backend port"' "the report names the failed test"
like "$out" "refused|connect" "and says why"
like "$out" "rolled back|rolled_back" "and that the bundle was rolled back"

# --- the webhook down: the report waits in the outbox, then goes once ---
web_bundle ""
push "drop the failing test"
hook_stop
before=$(hook_ids | wc -l)
pass apply berlin
is_rc 23 "webhook down: the pass applied but the report is undelivered (exit 23)"
is "$(kc get v1 ConfigMap web web-settings data.color)" red "the new revision is applied"
pending=$(ls "$S-berlin/outbox"/*.json 2>/dev/null | wc -l)
[ "$pending" -ge 1 ]
tap_report $? "the report stays in the outbox ($pending)"
hook_start
pass apply berlin
is_rc 0 "the next pass succeeds"
after=$(hook_ids | wc -l)
is "$after" $((before + 2)) "the webhook got the waiting report and the new one"
is "$(hook_ids | uniq -d | wc -l)" 0 "each report id exactly once"
is "$(status_commits)" 4 "the status branch has one commit per pass"
pass apply berlin
is "$(hook_ids | uniq -d | wc -l)" 0 "still no id twice after another pass"
hook_stop
pass apply berlin
is_rc 23 "the webhook down again: exit 23"
hook_start
before=$(hook_ids | wc -l)
run "$KEDGE" report send --site berlin --state-dir "$S-berlin"
is_rc 0 "kedge report send drains the outbox"
like "$out" "^1 delivered, 0 pending" "one delivery: the webhook (the status branch had it)"
is "$(hook_ids | wc -l)" $((before + 1)) "the webhook got it"
run "$KEDGE" report send --site berlin --state-dir "$S-berlin"
like "$out" "^0 delivered, 0 pending" "a second send has nothing to do"
is "$(status_commits)" 6 "one status commit per pass, none for the send"

# --- a custom recipe adds a step and a Lua smoke test ---
cat >"$W/recipes/berlin.lua" <<'EOF'
-- the built-in pass with one extra step before apply
return function(pass)
  pass.smoke_func("colors", function(ctx, test)
    return #ctx.objects > 0, "no objects"
  end)
  if not (pass.load() and pass.select() and pass.render() and pass.budget()) then return end
  if not pass.step("change-window", function()
    pass.log("inside the change window", {site = pass.info().site})
    return true
  end) then return end
  for _, name in ipairs(pass.info().bundles) do
    if not (pass.apply(name) and pass.smoke(name)) then break end
  end
end
EOF
printf 'recipe: recipes/berlin.lua\n' >>"$W/sites/berlin.yaml"
web_bundle "  - name: lua check
    type: lua
    function: colors"
push "a recipe"
pass apply berlin
is_rc 0 "the custom recipe's pass succeeds"
rid=$(pass_report)
like "$err" "change-window" "its extra step ran"
like "$err" "inside the change window" "and logged through the pass object"
run "$KEDGE" report show --state-dir "$S-berlin" --site berlin "$rid"
like "$out" '"name": "lua check"' "the Lua smoke test is in the report"
like "$out" '"change-window"' "the extra step is in the report"

hostile() { # name code expected-message
	printf '%s\n' "$2" >"$W/recipes/berlin.lua"
	push "hostile: $1"
	pass apply berlin
	is_rc 1 "hostile recipe ($1): the pass fails"
	like "$err" "$3" "hostile recipe ($1): a clear error"
	rid=$(pass_report)
}
hostile "infinite loop" 'return function(pass) while true do end end' "instruction limit of [0-9]+ exceeded"
hostile "huge allocation" 'return function(pass) local t = {} for i = 1, 1e9 do t[i] = string.rep("x", 4096) .. i end end' "memory limit of [0-9]+ bytes exceeded"
hostile "os.execute" 'return function(pass) os.execute("touch /tmp/kedge-pwned") end' "execute is not available: a recipe runs in kedge.s sandbox"
hostile "io" 'return function(pass) io.open("/etc/passwd") end' "io is not available"
hostile "raises" 'return function(pass) pass.load() error("no luck today") end' "no luck today"
run "$KEDGE" report show --state-dir "$S-berlin" --site berlin "$rid"
like "$out" "stack traceback" "a recipe that raises: its traceback is in the report"
is "$(kc get v1 ConfigMap web web-settings data.color)" red "nothing changed on the cluster"

# --- an apply failure: exit 21, later bundles skipped ---
sed -i '/^recipe:/d' "$W/sites/berlin.yaml"
printf 'color: green\n' >"$W/charts/cm/values.yaml"
printf 'apiVersion: nowhere.example/v1\nkind: Ghost\nmetadata:\n  name: boo\n' >"$W/charts/cm/templates/ghost.yaml"
push "a kind the server does not serve"
pass apply berlin
is_rc 21 "a bundle that cannot be applied fails the pass (exit 21)"
like "$err" "bundle web: invalid: .*Ghost" "naming the bundle and the object"
rid=$(pass_report)
run "$KEDGE" report show --state-dir "$S-berlin" --site berlin "$rid"
like "$out" '"result": "apply-failed"' "the report's result is apply-failed"
like "$out" '"status": "skipped"' "metrics (after web) is skipped"
is "$(kc get v1 ConfigMap web web-settings data.color)" red "nothing of the failed revision was applied"

# --- lookup answers from the cluster in a pass, as helm install's does ---
rm "$W/charts/cm/templates/ghost.yaml"
web_bundle ""
cat >"$W/charts/cm/templates/seen.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-seen
data:
  given: {{ dig "data" "k" "absent" (lookup "v1" "ConfigMap" .Release.Namespace "given") | quote }}
  listed: {{ dig "items" (list) (lookup "v1" "ConfigMap" .Release.Namespace "") | len | quote }}
EOF
push "lookup"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: given\n  namespace: web\ndata:\n  k: from-the-cluster\n' >"$TMP/given.yaml"
pass plan berlin
is_rc 10 "plan with lookup: the new object is pending"
like "$out" 'given: .?absent' "before the object exists, lookup is an empty map"
ok "the test creates the object the chart looks up" kc create "$TMP/given.yaml"
pass apply berlin
is_rc 0 "apply with lookup"
is "$(kc get v1 ConfigMap web web-seen data.given)" from-the-cluster "the chart rendered what lookup read from the cluster"
listed=$(kc get v1 ConfigMap web web-seen data.listed)
[ "$listed" -ge 2 ] 2>/dev/null
tap_report $? "lookup with an empty name lists the namespace's objects ($listed)"
run "$KEDGE" render web "$W/charts/cm" --namespace web
like "$out" 'given: "absent"' "kedge render keeps helm template's offline lookup"

done_testing

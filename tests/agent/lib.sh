# Helpers for the agent's end-to-end tests (sourced after tests/lib.sh,
# tests/gitlib.sh and tests/servers/kube/lib.sh, after kube_start): a config
# repo on disk with one site and a bundle of ConfigMaps, the agent's config,
# and a resident agent to start, signal and stop.

AG=$TMP/agent
W=$AG/work
BARE=$AG/sites.git
STATE=$AG/state
CONF=$AG/agent.yaml
mkdir -p "$AG" "$STATE"
KC="$KEDGE lua tests/servers/kube/kc.lua"
kc() { $KC "$KUBE_ADMIN" "$@"; }

# agent_repo SITE: the config repo with SITE and bundle app (namespace
# agent-<SITE>: ConfigMaps app-settings and app-extra).
agent_repo() {
	local site=$1
	git init -q --bare "$BARE"
	git init -q "$W"
	git -C "$W" remote add origin "$BARE"
	mkdir -p "$W/sites" "$W/bundles/app" "$W/charts/cm/templates"
	printf 'apiVersion: v2\nname: cm\nversion: 1.0.0\n' >"$W/charts/cm/Chart.yaml"
	printf 'color: blue\n' >"$W/charts/cm/values.yaml"
	cat >"$W/charts/cm/templates/cm.yaml" <<'EOT'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  color: {{ .Values.color | quote }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-extra
data:
  size: "1"
EOT
	cat >"$W/sites/$site.yaml" <<EOT
name: $site
labels: {env: edge}
capacity: {cpu: "4", memory: 8Gi, pods: 50}
EOT
	cat >"$W/bundles/app/bundle.yaml" <<EOT
chart: charts/cm
release: app
namespace: agent-$site
targets:
  - matchLabels: {env: edge}
EOT
	agent_push "first"
}

agent_push() { git -C "$W" add -A && git -C "$W" commit -q -m "$1" && git -C "$W" push -q -f origin HEAD:main; }

# agent_config SITE [EXTRA YAML LINES]
agent_config() {
	cat >"$CONF" <<EOT
site: $1
repo: $BARE
ref: main
state-dir: $STATE
kubeconfig: $KUBE_ADMIN
interval: 1h
jitter: 0s
${2:-}
EOT
}

# agent_start [FLAGS...]: a resident agent in the background ($AGENT_PID),
# its stderr in $AG/agent.log
agent_start() {
	"$KEDGE" agent --config "$CONF" "$@" >>"$AG/agent.out" 2>>"$AG/agent.log" &
	AGENT_PID=$!
}

# agent_json FIELD-PATH (Lua expression on the decoded agent.json, as `st`)
agent_json() {
	"$KEDGE" lua -e 'local json = require "kedge.json"
local f = io.open(arg[1]); if not f then print("nil"); return end
local ok, st = pcall(json.decode, f:read("a")); f:close()
if not ok then print("torn"); return end
local v = load("local st = ...; return " .. arg[2])(st)
print(tostring(v))' "$STATE/agent.json" "$1"
}

# wait_for EXPR WANT [SECONDS]: until agent_json EXPR prints WANT
wait_for() {
	local i n=$((${3:-30} * 10))
	for i in $(seq 1 "$n"); do
		[ "$(agent_json "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# wait_for_at_least EXPR N [SECONDS]: as wait_for, until the number is N or
# more (a count the agent may pass between two looks)
wait_for_at_least() {
	local i v n=$((${3:-30} * 10))
	for i in $(seq 1 "$n"); do
		v=$(agent_json "$1")
		[ -n "$v" ] && [ "$v" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# ticks: how many ticks agent.json has seen end (by last_tick.at and count)
agent_stop() {
	kill -TERM "$AGENT_PID" 2>/dev/null
	local i
	for i in $(seq 1 150); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
	wait "$AGENT_PID" 2>/dev/null
	AGENT_RC=$?
}

# agent_webhook: a TLS webhook on 127.0.0.1 (lighttpd + a CGI keeping each
# POST body in $HOOK/got/); sets HOOK_URL, HOOK_CA, HOOK_TOKEN_FILE. Needs
# tests/gitlib.sh's make_ca.
agent_webhook() {
	HOOK=$AG/hook
	mkdir -p "$HOOK/got" "$HOOK/www"
	make_ca "$HOOK" || { echo "Bail out! no CA"; exit 1; }
	echo hook-token-agent >"$HOOK/token"
	cat >"$HOOK/hook-cgi" <<EOT
#!/bin/sh
[ "\$HTTP_AUTHORIZATION" = "Bearer hook-token-agent" ] || { printf 'Status: 401 Unauthorized\r\n\r\n'; exit 0; }
# a receiver that honours Idempotency-Key, as kedge asks of one: a report
# sent again (a kill between the 200 and kedge's record of it) is
# acknowledged and counted in resent, not kept twice
key=\$(printf '%s' "\$HTTP_IDEMPOTENCY_KEY" | tr -cd 'A-Za-z0-9._-')
if [ -n "\$key" ] && [ -e "$HOOK/got/\$key.json" ]; then
	cat >/dev/null
	echo "\$key" >>"$HOOK/resent"
else
	name=\${key:-\$(date +%s%N)}
	cat >"$HOOK/got/\$name.json.tmp" && mv "$HOOK/got/\$name.json.tmp" "$HOOK/got/\$name.json"
fi
printf 'Status: 200 OK\r\nContent-Type: text/plain\r\n\r\nok\n'
EOT
	chmod +x "$HOOK/hook-cgi"
	free_port
	HOOK_PORT=$port
	cat >"$HOOK/lighttpd.conf" <<EOT
server.document-root = "$HOOK/www"
server.bind          = "127.0.0.1"
server.port          = $HOOK_PORT
server.errorlog      = "$HOOK/error.log"
server.modules       = ("mod_openssl", "mod_alias", "mod_cgi")
alias.url            = ("/hook" => "$HOOK/hook-cgi")
\$HTTP["url"] =~ "^/hook" { cgi.assign = ("" => "") }
ssl.engine  = "enable"
ssl.pemfile = "$HOOK/good.crt"
ssl.privkey = "$HOOK/good.key"
EOT
	lighttpd -D -f "$HOOK/lighttpd.conf" 2>>"$HOOK/stderr" &
	server_pids+=($!)
	wait_listening "$HOOK_PORT" "$HOOK/error.log"
	HOOK_URL=https://127.0.0.1:$HOOK_PORT/hook HOOK_CA=$HOOK/ca.crt HOOK_TOKEN_FILE=$HOOK/token
}

# The report ids the webhook kept, one per line, sorted (duplicates kept:
# a report kept twice would mean two different Idempotency-Keys for it).
hook_ids() { cat "$HOOK"/got/*.json 2>/dev/null | sed -n 's/^  "id": "\(.*\)",$/\1/p' | sort; }

# kedge.smoke against real servers on 127.0.0.1: lighttpd with TLS (a test
# CA made here, as for the sync tests) and CGI scripts for the http kind,
# lighttpd's port and a closed one for tcp, real commands for exec, and the
# real kube-apiserver (tests/servers/kube/) for condition and helm-test.
#
# The local API server runs without a kubelet or controllers, so nothing
# ever sets an object's status by itself. The test plays those parts the
# honest way: it writes status through the status subresource, as a
# kubelet or controller would (kc.lua status), and the smoke tests under
# test only read what the API server serves. For helm-test a bounded loop
# in the background acts as the kubelet: it finds each test Pod kedge
# created and sets its phase. Pod logs come from the kubelet, so with none
# the API server refuses pods/log and the result says so.
. tests/lib.sh
. tests/gitlib.sh
. tests/servers/kube/lib.sh

for tool in lighttpd openssl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool is not installed (./build.sh test installs it)"
		exit 0
	fi
done
if [ ! -e /usr/lib/lighttpd/mod_openssl.so ]; then
	echo "1..0 # SKIP lighttpd-mod-openssl is not installed (./build.sh test installs it)"
	exit 0
fi

kube_start
# lighttpd first: kube_cleanup waits for every child
trap 'for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null; done; kube_cleanup' EXIT

unlike() { # text regex name
	! printf '%s' "$1" | grep -Eq -- "$2"
	tap_report $? "$3" "got:         $1
must not match: $2"
}

# --- the HTTPS server ------------------------------------------------------------
SRV=$TMP/srv
mkdir -p "$SRV/www/cgi"
make_ca "$SRV" || { echo "Bail out! openssl could not make the test CA"; exit 1; }
printf 'status: ready\n' >"$SRV/www/healthz.txt"
printf 'status: starting\n' >"$SRV/www/starting.txt"
# echoes the credentials it was sent, as a careless server might
cat >"$SRV/www/cgi/echo.sh" <<'EOF'
printf 'Content-Type: text/plain\r\n\r\n'
printf 'auth=%s key=%s probe=%s\n' "${HTTP_AUTHORIZATION:-}" "${HTTP_X_API_KEY:-}" "${HTTP_X_PROBE:-}"
EOF
# 503 for the first two hits, then 200
cat >"$SRV/www/cgi/warming.sh" <<'EOF'
state="${SCRIPT_FILENAME%/*}/state-$QUERY_STRING"
n=$(cat "$state" 2>/dev/null || echo 0)
n=$((n + 1))
echo "$n" >"$state"
if [ "$n" -le 2 ]; then
	printf 'Status: 503 Service Unavailable\r\nContent-Type: text/plain\r\n\r\nwarming up, hit %s\n' "$n"
else
	printf 'Content-Type: text/plain\r\n\r\nwarm, hit %s\n' "$n"
fi
EOF
free_port
TLS_PORT=$port
free_port
PLAIN_PORT=$port
cat >"$SRV/lighttpd.conf" <<EOF
server.document-root = "$SRV/www"
server.bind          = "127.0.0.1"
server.port          = $PLAIN_PORT
server.pid-file      = "$SRV/lighttpd.pid"
server.errorlog      = "$SRV/error.log"
server.modules       = ("mod_openssl", "mod_cgi")
cgi.assign           = (".sh" => "/bin/sh")
mimetype.assign      = (".txt" => "text/plain")
\$SERVER["socket"] == "127.0.0.1:$TLS_PORT" {
	ssl.engine  = "enable"
	ssl.pemfile = "$SRV/good.crt"
	ssl.privkey = "$SRV/good.key"
}
EOF
lighttpd -D -f "$SRV/lighttpd.conf" 2>"$SRV/lighttpd.stderr" &
server_pids+=($!)
wait_listening "$TLS_PORT"
wait_listening "$PLAIN_PORT"
HTTPS=https://127.0.0.1:$TLS_PORT
free_port
CLOSED=$port

# runs the smoke tests in $1 (YAML) with the objects in $2 (optional);
# prints name|status|message|output per result (newlines in output as \n)
cat >"$TMP/run.lua" <<'EOF'
local smoke = require "kedge.smoke"
local yaml = require "kedge.yaml"
local kube = require "kedge.kube"
local function read(p)
  local f = assert(io.open(p))
  local s = f:read("a")
  f:close()
  return s
end
local tests = assert(yaml.decode(read(arg[1]), {name = arg[1]}))
assert(smoke.validate(tests, arg[1]))
local objects = arg[2] and assert(yaml.decode_all(read(arg[2]), {name = arg[2]})) or {}
local c = os.getenv("SMOKE_KUBE") and assert(kube.connect{kubeconfig = os.getenv("SMOKE_KUBE")})
local res = smoke.run(tests, {kube = c, bundle = "web", release = "web", namespace = os.getenv("SMOKE_NS"),
  objects = objects, allow_exec = os.getenv("SMOKE_EXEC") == "1", funcs = {}})
for _, r in ipairs(res) do
  print(string.format("%s|%s|%s|%s", r.name, r.status, r.message, (r.output:gsub("\n", "\\n"))))
  assert(type(r.duration) == "number" and r.kind)
end
if os.getenv("SMOKE_JUNIT") then
  local f = assert(io.open(os.getenv("SMOKE_JUNIT"), "w"))
  f:write(smoke.junit({{name = "web", results = res}}))
  f:close()
end
os.exit(smoke.failed(res) == 0 and 0 or 1)
EOF
smoke() { run "$KEDGE" lua "$TMP/run.lua" "$@"; }
line() { # name: the result line of that test
	printf '%s\n' "$out" | grep "^$1|"
}

# --- http ---------------------------------------------------------------------------------
printf 'tok-very-secret-123\n' >"$TMP/token"
cat >"$TMP/http.yaml" <<EOF
- {name: ready, type: http, url: "$HTTPS/healthz.txt", ca-file: "$SRV/ca.crt", body: "(?i)^STATUS: (ready|ok)"}
- {name: plain, type: http, url: "http://127.0.0.1:$PLAIN_PORT/healthz.txt", status: 200}
- {name: not-ready, type: http, url: "$HTTPS/starting.txt", ca-file: "$SRV/ca.crt", body: "ready"}
- {name: missing, type: http, url: "$HTTPS/nope", ca-file: "$SRV/ca.crt"}
- {name: gone, type: http, url: "$HTTPS/nope", ca-file: "$SRV/ca.crt", status: 404}
- {name: untrusted, type: http, url: "$HTTPS/healthz.txt"}
- {name: other-ca, type: http, url: "$HTTPS/healthz.txt", ca-file: "$SRV/otherca.crt"}
- {name: head, type: http, method: HEAD, url: "$HTTPS/healthz.txt", ca-file: "$SRV/ca.crt"}
- name: echo
  type: http
  url: "$HTTPS/cgi/echo.sh"
  ca-file: "$SRV/ca.crt"
  token-file: "$TMP/token"
  headers: {X-Api-Key: key-secret-456, X-Probe: kedge}
  secret-headers: [x-api-key]
  body: "nothing like this"
- {name: warming, type: http, url: "$HTTPS/cgi/warming.sh?a", ca-file: "$SRV/ca.crt", retries: 3, backoff: 0.2}
- {name: cold, type: http, url: "$HTTPS/cgi/warming.sh?b", ca-file: "$SRV/ca.crt", retries: 1, backoff: 0.2}
- {name: slow-net, type: http, url: "https://127.0.0.1:$CLOSED/", timeout: 1}
EOF
SMOKE_JUNIT=$TMP/junit.xml smoke "$TMP/http.yaml"
is "$rc" 1 "http: a failed test fails the run"
like "$(line ready)" "^ready\|passed\|GET $HTTPS/healthz.txt: status 200, body matches /\(\?i\)\^STATUS: \(ready\|ok\)/\|status: ready" "https with the site's CA, body regex (RE2 syntax)"
like "$(line plain)" "^plain\|passed\|GET http://127.0.0.1:$PLAIN_PORT/healthz.txt: status 200\|" "plain http"
like "$(line not-ready)" "^not-ready\|failed\|GET .*: status 200, but the body does not match /ready/\|status: starting" "a body that does not match fails, output has the body"
like "$(line missing)" "^missing\|failed\|GET $HTTPS/nope: status 404, expected 200\|" "an unexpected status fails"
like "$(line gone)" "^gone\|passed\|" "an expected 404 passes"
like "$(line untrusted)" "^untrusted\|failed\|.*(certificate|verif)" "the system CAs do not trust the test CA"
like "$(line other-ca)" "^other-ca\|failed\|.*(certificate|verif)" "a ca-file of another CA fails"
like "$(line head)" "^head\|passed\|HEAD $HTTPS/healthz.txt: status 200\|$" "HEAD: no body"
like "$(line echo)" "^echo\|failed\|.*\|auth=Bearer \[redacted\] key=\[redacted\] probe=kedge" "secrets: token and secret header sent, blanked out of the output"
unlike "$out$err$(cat "$TMP/junit.xml")" "tok-very-secret|key-secret-456" "secrets: in no result, log line or JUnit file"
like "$(line warming)" "^warming\|passed\|.*status 200\|warm, hit 3" "retries: 503, 503, then 200 passes"
like "$(line cold)" "^cold\|failed\|.*status 503, expected 200 \(after 2 attempts\)\|warming up, hit 2" "retries: too few attempts fail, message says how many"
like "$(line slow-net)" "^slow-net\|failed\|.*cannot connect to 127.0.0.1:$CLOSED.*refused" "http: a closed port"
like "$err" "smoke attempt failed, retrying" "retries are logged"
if command -v xmllint >/dev/null 2>&1; then
	run xmllint --noout "$TMP/junit.xml"
	is "$rc:$err" "0:" "junit: well-formed XML (xmllint)"
else
	tap_n=$((tap_n + 1))
	echo "ok $tap_n - junit: well-formed XML # SKIP xmllint is not installed"
fi
like "$(cat "$TMP/junit.xml")" '<testsuite name="web" tests="12" failures="7"' "junit: counts from a real run"

# --- tcp ------------------------------------------------------------------------------------
cat >"$TMP/tcp.yaml" <<EOF
- {name: open, type: tcp, host: 127.0.0.1, port: $TLS_PORT}
- {name: by-name, type: tcp, host: localhost, port: $PLAIN_PORT, timeout: 2}
- {name: closed, type: tcp, host: 127.0.0.1, port: $CLOSED, retries: 1, backoff: 0.1}
EOF
smoke "$TMP/tcp.yaml"
like "$(line open)" "^open\|passed\|connected to 127.0.0.1:$TLS_PORT\|" "tcp: a listener"
like "$(line by-name)" "^by-name\|passed\|" "tcp: a host name"
like "$(line closed)" "^closed\|failed\|cannot connect to 127.0.0.1:$CLOSED: Connection refused \(after 2 attempts\)" "tcp: refused"

# --- exec ------------------------------------------------------------------------------------
cat >"$TMP/exec.yaml" <<EOF
- {name: ok-cmd, type: exec, command: ["true"]}
- {name: fail-cmd, type: exec, command: ["false"]}
- {name: sleep, type: exec, command: [sleep, "37.5"], timeout: 0.5}
- {name: huge, type: exec, command: [sh, -c, "head -c 5000000 /dev/zero | tr '\\\\0' x; echo; echo last line"]}
- {name: quoting, type: exec, command: [printf, "%s|", "a b", "\$HOME", "*"]}
EOF
smoke "$TMP/exec.yaml"
like "$(line ok-cmd)" "^ok-cmd\|failed\|exec tests are off for this site" "exec: refused unless the site allows it"
SMOKE_EXEC=1 smoke "$TMP/exec.yaml"
like "$(line ok-cmd)" "^ok-cmd\|passed\|true: exit status 0\|$" "exec: true"
like "$(line fail-cmd)" "^fail-cmd\|failed\|false: exit status 1, expected 0\|$" "exec: false"
like "$(line sleep)" "^sleep\|failed\|sleep 37.5: timed out after 0.5s and was killed" "exec: a timeout kills it"
like "$(line huge)" "^huge\|passed\|.*\|\[4995979 earlier bytes of output left out\]\\\\n.*x\\\\nlast line\\\\n$" "exec: 5 MB of output kept to a 4 KiB tail"
like "$(line quoting)" '^quoting\|passed\|.*\|a b\|\$HOME\|\*\|$' "exec: argv without a shell (no word splitting, expansion or globbing)"
run pgrep -f "sleep 37.5"
is "$out" "" "exec: nothing left running after the timeout"

# --- condition --------------------------------------------------------------------------------
KC="$KEDGE lua tests/servers/kube/kc.lua"
kc() { $KC "$KUBE_ADMIN" "$@"; }
ID=$$$RANDOM
NS=kedge-smoke-$ID
export SMOKE_KUBE=$KUBE_ADMIN SMOKE_NS=$NS
cat >"$TMP/ns.yaml" <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: $NS}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $NS}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
EOF
ok "a namespace and a Deployment" kc create "$TMP/ns.yaml"
cat >"$TMP/cond.yaml" <<EOF
- {name: available, type: condition, object: {apiVersion: apps/v1, kind: Deployment, name: web}, condition: Available, timeout: 30}
- {name: ready, type: condition, object: {apiVersion: apps/v1, kind: Deployment, name: web, namespace: $NS}, timeout: 30}
- {name: web, type: condition, apiVersion: apps/v1, kind: Deployment, condition: Available, timeout: 30}
- {name: progressing, type: condition, object: {apiVersion: apps/v1, kind: Deployment, name: web}, condition: Progressing, timeout: 1.5}
- {name: absent, type: condition, object: {apiVersion: apps/v1, kind: Deployment, name: nope}, timeout: 1}
EOF
# the deployment controller's part, two seconds late
(sleep 2; kc status apps/v1 Deployment "$NS" web '{"observedGeneration":1,"replicas":1,"updatedReplicas":1,"readyReplicas":1,"availableReplicas":1,"conditions":[{"type":"Available","status":"True","reason":"MinimumReplicasAvailable","lastUpdateTime":"2024-01-01T00:00:00Z","lastTransitionTime":"2024-01-01T00:00:00Z"}]}') &
status_pid=$!
smoke "$TMP/cond.yaml"
wait "$status_pid"
like "$(line available)" "^available\|passed\|Deployment $NS/web: Available is True \(MinimumReplicasAvailable\)\|" "condition: waits until the condition is set"
like "$(line ready)" "^ready\|passed\|Deployment $NS/web: ready" "condition: no type given, kedge.kube's readiness rules"
like "$(line web)" "^web\|passed\|Deployment $NS/web: Available is True" "condition: the flat form, the object named like the test"
like "$(line progressing)" "^progressing\|failed\|Deployment $NS/web: no Progressing condition yet \(gave up after 1.5s\)\|.*Available" "condition: gives up at its timeout, output has the status"
like "$(line absent)" "^absent\|failed\|Deployment $NS/nope: not found \(gave up after 1s\)" "condition: an absent object"

# --- helm-test ----------------------------------------------------------------------------------
# test_pod NAME POLICY WEIGHT: a chart's test hook as kedge.chart renders it
test_pod() {
	cat <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $1
  annotations:
    helm.sh/hook: test
    helm.sh/hook-weight: "$3"
$([ -n "$2" ] && echo "    helm.sh/hook-delete-policy: $2")
spec:
  restartPolicy: Never
  containers: [{name: test, image: busybox, command: [wget, -q, "web:80"]}]
---
EOF
}
# The kubelet's part: every test Pod that exists and is still Pending gets a
# final phase
# (Failed when its name says fail, else Succeeded). Bounded: 60 s at most.
kubelet() {
	local i p
	for i in $(seq 1 300); do
		for p in "$@"; do
			if kc get v1 Pod "$NS" "$p" status.phase >"$TMP/phase" 2>/dev/null &&
				[ "$(cat "$TMP/phase")" = Pending ]; then
				case $p in
				*fail*) kc status v1 Pod "$NS" "$p" '{"phase":"Failed","reason":"Error","message":"wget: bad address"}' ;;
				*) kc status v1 Pod "$NS" "$p" '{"phase":"Succeeded"}' ;;
				esac
			fi
		done
		[ -e "$TMP/kubelet.stop" ] && return 0
		sleep 0.2
	done
}
helm_test() { # objects file: runs the chart tests with the kubelet stand-in
	rm -f "$TMP/kubelet.stop"
	kubelet t-ok t-keep t-fail t-next >/dev/null 2>&1 &
	local kpid=$!
	smoke "$TMP/helm.yaml" "$1"
	touch "$TMP/kubelet.stop"
	wait "$kpid"
}
printf -- '- {name: chart, type: helm-test, timeout: 30}\n' >"$TMP/helm.yaml"
{ test_pod t-keep "" 0; test_pod t-ok hook-succeeded -1; } >"$TMP/pass.yaml"
helm_test "$TMP/pass.yaml"
is "$rc" 0 "helm-test: all test pods succeeded"
[ "$rc" = 0 ] || printf '%s\n' "$out" "$err" | sed 's/^/#   /'

like "$out" "^chart: Pod/t-ok\|passed\|pod succeeded\|.*
chart: Pod/t-keep\|passed" "helm-test: one result per test pod, in hook-weight order"
like "$(line "chart: Pod/t-ok")" "--- t-ok/test: no logs \(the pod has not run on a node\)" "helm-test: logs asked for (none: no kubelet ran the pod)"
run kc get v1 Pod "$NS" t-ok metadata.name
is "$rc" 3 "helm-test: hook-succeeded deletes the passed pod"
run kc get v1 Pod "$NS" t-keep metadata.uid
keep_uid=$out
is "$rc" 0 "helm-test: the default policy (before-hook-creation) keeps it"
helm_test "$TMP/pass.yaml"
run kc get v1 Pod "$NS" t-keep metadata.uid
like "$rc:$out" "^0:" "helm-test: runs again over its leftover"
[ "$out" != "$keep_uid" ]
tap_report $? "helm-test: before-hook-creation replaced the leftover pod (new uid)"

{ test_pod t-fail hook-failed 1; test_pod t-next "" 2; } >"$TMP/fail.yaml"
helm_test "$TMP/fail.yaml"
is "$rc" 1 "helm-test: a failed test pod fails the run"
like "$(line "chart: Pod/t-fail")" "^chart: Pod/t-fail\|failed\|pod failed: .*" "helm-test: the failure and why"
like "$(line "chart: Pod/t-next")" "^chart: Pod/t-next\|failed\|not run: an earlier test failed" "helm-test: later tests do not run (as helm test)"
run kc get v1 Pod "$NS" t-fail metadata.name
is "$rc" 3 "helm-test: hook-failed deletes the failed pod"
run kc get v1 Pod "$NS" t-next metadata.name
is "$rc" 3 "helm-test: the test after the failure was never created"

printf -- '- {name: chart, type: helm-test}\n' >"$TMP/helm.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: plain}\n' >"$TMP/none.yaml"
smoke "$TMP/helm.yaml" "$TMP/none.yaml"
like "$rc:$out" "^0:chart\|passed\|the chart has no helm.sh/hook: test objects" "helm-test: a chart without tests"

if [ "$KUBE_LOCAL" = 0 ]; then
	kc delete v1 Namespace "" "$NS" >/dev/null 2>&1
fi
done_testing

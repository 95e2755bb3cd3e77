# A real Kubernetes API server for kedge's end-to-end tests (sourced after
# tests/lib.sh). kube_start either uses the cluster KEDGE_TEST_KUBECONFIG
# names, or builds (cached, build-apiserver.sh) and starts etcd and
# kube-apiserver v1.20.2 on 127.0.0.1 with a PKI made here by openssl.
#
# After kube_start:
#   KUBE_LOCAL      1 for the local server, 0 for KEDGE_TEST_KUBECONFIG
#   KUBE_ADMIN      kubeconfig with full rights (client certificate locally)
#   KUBE_TOKEN      local only: the same admin rights through a bearer token
#   KUBE_NOBODY     local only: a token user without any RBAC grant
#   KUBE_CA         local only: the CA file; KUBE_PORT the TLS port
# kube_stop / kube_restart stop and restart the API server (etcd keeps
# running, so objects survive). kube_start_extra NAME... starts more API
# servers, each a cluster of its own (local only; see there). The EXIT
# trap stops everything.

KUBE_DIR=$TMP/kube
KUBE_LOCAL=0
kube_pids=()
kube_api_pid=

kube_listening() { # port
	local hex
	hex=$(printf ':%04X' "$1")
	grep -q "^ *[0-9]*: 0100007F$hex 00000000:0000 0A" /proc/net/tcp
}

# Is the port in use on 127.0.0.1 in any state (a connection's local port
# blocks a listener there too)?
kube_port_used() { # port
	local hex
	hex=$(printf ':%04X' "$1")
	grep -q "^ *[0-9]*: [0-9A-F]*$hex " /proc/net/tcp
}

kube_taken=" "
kube_free_port() { # sets $port
	local i
	for i in $(seq 1 200); do
		# below the kernel's ephemeral range (32768 and up), where outgoing
		# connections would take ports away
		port=$((20000 + RANDOM % 12000))
		[[ $kube_taken == *" $port "* ]] && continue
		kube_port_used "$port" && continue
		kube_taken+="$port "
		return 0
	done
	echo "Bail out! no free port found"
	exit 1
}

kube_cleanup() {
	local p
	[ -n "$kube_api_pid" ] && kill "$kube_api_pid" 2>/dev/null
	for p in "${kube_pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}

kube_pki() {
	local d=$KUBE_DIR/pki
	mkdir -p "$d" && cd "$d" || return 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-keyout ca.key -out ca.crt -subj "/CN=kedge test kube CA" 2>/dev/null || return 1
	# serving certificate: the IP SAN is what kedge must check itself
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout server.key -out server.csr -subj "/CN=kube-apiserver" 2>/dev/null &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:kubernetes,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >server.ext &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-days 2 -extfile server.ext -out server.crt 2>/dev/null || return 1
	# the same server name without the IP, for the IP-SAN refusal test
	printf 'subjectAltName=DNS:kubernetes\nextendedKeyUsage=serverAuth\n' >noip.ext &&
		openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-days 2 -extfile noip.ext -out noip.crt 2>/dev/null || return 1
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout admin.key -out admin.csr -subj "/O=system:masters/CN=kedge-admin" 2>/dev/null &&
		printf 'extendedKeyUsage=clientAuth\n' >client.ext &&
		openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
			-days 2 -extfile client.ext -out admin.crt 2>/dev/null || return 1
	openssl genrsa -out sa.key 2048 2>/dev/null && openssl rsa -in sa.key -pubout -out sa.pub 2>/dev/null || return 1
	printf '%s\n' 'admintoken-1234,token-admin,1001,"system:masters"' \
		'nobodytoken-5678,nobody,1002' >tokens.csv
	cd - >/dev/null
}

kube_b64() { base64 -w0 <"$1"; }

# kube_write_config FILE SERVER USER-YAML [CA-LINE]
kube_write_config() {
	cat >"$1" <<EOC
apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: $2
${4:-    certificate-authority-data: $(kube_b64 "$KUBE_DIR/pki/ca.crt")}
users:
- name: u
  user:
$3
contexts:
- name: test
  context: {cluster: test, user: u, namespace: default}
current-context: test
EOC
}

kube_start_api() {
	local try
	for try in 1 2 3; do
		if kube_start_api_once; then
			kube_write_configs
			return 0
		fi
		# another program took the port between the check and the bind
		kube_free_port
		KUBE_PORT=$port
	done
	echo "Bail out! kube-apiserver did not start: $(tail -n 5 "$KUBE_DIR/apiserver.log")"
	exit 1
}

kube_start_api_once() {
	: >"$KUBE_DIR/apiserver.log"
	kube_apiserver_args "$KUBE_PORT"
	"$KUBE_BIN/kube-apiserver" "${kube_args[@]}" >>"$KUBE_DIR/apiserver.log" 2>&1 &
	kube_api_pid=$!
	kube_wait_ready
}

# kube_apiserver_args PORT [FLAG...]: sets kube_args, the API server's
# command line on that port with the test PKI and etcd
kube_apiserver_args() {
	kube_args=(--bind-address=127.0.0.1 --advertise-address=127.0.0.1
		--secure-port="$1"
		--etcd-servers="http://127.0.0.1:$KUBE_ETCD_PORT"
		--tls-cert-file="$KUBE_DIR/pki/server.crt" --tls-private-key-file="$KUBE_DIR/pki/server.key"
		--client-ca-file="$KUBE_DIR/pki/ca.crt" --token-auth-file="$KUBE_DIR/pki/tokens.csv"
		--service-account-issuer=https://kubernetes.default.svc.cluster.local
		--service-account-key-file="$KUBE_DIR/pki/sa.pub"
		--service-account-signing-key-file="$KUBE_DIR/pki/sa.key"
		--authorization-mode=RBAC --service-cluster-ip-range=10.0.0.0/24
		--endpoint-reconciler-type=none --allow-privileged=true
		--disable-admission-plugins=ServiceAccount
		--enable-priority-and-fairness=false "${@:2}")
}

# 0 once ready; 1 when it exited because its port was taken
kube_wait_ready() {
	local up
	kube_wait_up "$kube_api_pid" "$KUBE_PORT" "$KUBE_DIR/apiserver.log"
	up=$?
	[ $up = 0 ] && return 0
	wait "$kube_api_pid" 2>/dev/null
	kube_api_pid=
	[ $up = 1 ] && return 1
	[ $up = 2 ] && echo "Bail out! kube-apiserver exited: $(tail -n 5 "$KUBE_DIR/apiserver.log")"
	[ $up = 3 ] && echo "Bail out! kube-apiserver not ready after 60 s: $(tail -n 5 "$KUBE_DIR/apiserver.log")"
	exit 1
}

# kube_wait_up PID PORT LOG: 0 once the server answers /readyz; 1 when it
# exited because its port was taken, 2 when it exited otherwise, 3 when it
# is not ready after 60 s
kube_wait_up() {
	local i
	for i in $(seq 1 300); do
		if curl_ready "$2"; then return 0; fi
		if ! kill -0 "$1" 2>/dev/null; then
			grep -q "address already in use" "$3" && return 1
			return 2
		fi
		sleep 0.2
	done
	return 3
}

# /readyz as the admin, with kedge itself (no curl needed); PORT default
# the main server's
curl_ready() { # [PORT]
	"$KEDGE" lua -e 'local r = require("kedge.http").get(arg[1], {timeout = 2, attempts = 1, insecure = true,
		cert_file = arg[2] .. "/admin.crt", key_file = arg[2] .. "/admin.key"})
		os.exit(r and r.status == 200 and 0 or 1)' "https://127.0.0.1:${1:-$KUBE_PORT}/readyz" "$KUBE_DIR/pki" >/dev/null 2>&1
}

kube_stop() {
	[ -n "$kube_api_pid" ] || return 0
	kill "$kube_api_pid" 2>/dev/null
	wait "$kube_api_pid" 2>/dev/null
	kube_api_pid=
}

kube_restart() {
	kube_stop
	kube_start_api
}

kube_start() {
	trap kube_cleanup EXIT
	mkdir -p "$KUBE_DIR"
	if [ -n "${KEDGE_TEST_KUBECONFIG:-}" ]; then
		KUBE_ADMIN=$KEDGE_TEST_KUBECONFIG
		return 0
	fi
	for tool in openssl etcd go rsync; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "1..0 # SKIP $tool is not installed (./build.sh test installs it)"
			exit 0
		fi
	done
	KUBE_BIN=$(tests/servers/kube/build-apiserver.sh) || {
		echo "Bail out! building kube-apiserver failed"
		exit 1
	}
	KUBE_LOCAL=1
	kube_pki || { echo "Bail out! openssl could not make the test PKI"; exit 1; }
	kube_free_port; KUBE_ETCD_PORT=$port
	kube_free_port; local peer=$port
	etcd --data-dir "$KUBE_DIR/etcd" --name kedge-test \
		--listen-client-urls "http://127.0.0.1:$KUBE_ETCD_PORT" \
		--advertise-client-urls "http://127.0.0.1:$KUBE_ETCD_PORT" \
		--listen-peer-urls "http://127.0.0.1:$peer" \
		--initial-advertise-peer-urls "http://127.0.0.1:$peer" \
		--initial-cluster "kedge-test=http://127.0.0.1:$peer" >"$KUBE_DIR/etcd.log" 2>&1 &
	kube_pids+=($!)
	kube_free_port; KUBE_PORT=$port
	KUBE_CA=$KUBE_DIR/pki/ca.crt
	local i
	for i in $(seq 1 100); do
		kube_listening "$KUBE_ETCD_PORT" && break
		sleep 0.1
	done
	KUBE_ADMIN=$KUBE_DIR/admin.kubeconfig
	KUBE_TOKEN=$KUBE_DIR/token.kubeconfig
	KUBE_NOBODY=$KUBE_DIR/nobody.kubeconfig
	kube_start_api
	echo nobodytoken-5678 >"$KUBE_DIR/nobody.token"
}

# The kubeconfigs for the server's current port.
kube_write_configs() {
	kube_write_config "$KUBE_ADMIN" "https://127.0.0.1:$KUBE_PORT" \
		"    client-certificate-data: $(kube_b64 "$KUBE_DIR/pki/admin.crt")
    client-key-data: $(kube_b64 "$KUBE_DIR/pki/admin.key")"
	kube_write_config "$KUBE_TOKEN" "https://127.0.0.1:$KUBE_PORT" \
		"    token: admintoken-1234"
	kube_write_config "$KUBE_NOBODY" "https://127.0.0.1:$KUBE_PORT" \
		"    tokenFile: nobody.token"
}

# kube_start_extra NAME...: one more API server per NAME, on the same etcd
# under the key prefix /kedge-NAME (so a cluster of its own: nothing of
# the others is in it), on its own port with the same PKI; started
# together, then waited for. Writes $KUBE_DIR/NAME.kubeconfig (the admin's
# client certificate) and sets kube_extra_port[NAME]. The EXIT trap stops
# them. Local servers only.
declare -A kube_extra_port=()
kube_start_extra() {
	local name try up left=("$@") again pids=()
	for try in 1 2 3; do
		pids=()
		for name in "${left[@]}"; do
			kube_free_port
			kube_extra_port[$name]=$port
			: >"$KUBE_DIR/$name.apiserver.log"
			kube_apiserver_args "$port" --etcd-prefix="/kedge-$name"
			"$KUBE_BIN/kube-apiserver" "${kube_args[@]}" >>"$KUBE_DIR/$name.apiserver.log" 2>&1 &
			pids+=($!)
			kube_pids+=($!)
		done
		again=()
		local i=0
		for name in "${left[@]}"; do
			kube_wait_up "${pids[$i]}" "${kube_extra_port[$name]}" "$KUBE_DIR/$name.apiserver.log"
			up=$?
			i=$((i + 1))
			case $up in
			0) kube_write_config "$KUBE_DIR/$name.kubeconfig" "https://127.0.0.1:${kube_extra_port[$name]}" \
				"    client-certificate-data: $(kube_b64 "$KUBE_DIR/pki/admin.crt")
    client-key-data: $(kube_b64 "$KUBE_DIR/pki/admin.key")" ;;
			1) again+=("$name") ;; # another program took the port first
			*)
				echo "Bail out! kube-apiserver $name did not start: $(tail -n 5 "$KUBE_DIR/$name.apiserver.log")"
				exit 1
				;;
			esac
		done
		[ ${#again[@]} = 0 ] && return 0
		left=("${again[@]}")
	done
	echo "Bail out! kube-apiserver ${left[*]} did not start: ports taken"
	exit 1
}

# kube_proxy_start [CERT]: the fault-injecting HTTPS proxy (faultproxy.py)
# in front of the local API server, serving pki/CERT.crt (default server);
# sets KUBE_PROXY (a kubeconfig with the admin token through the proxy),
# KUBE_PROXY_CONTROL (fates, one per line) and KUBE_PROXY_LOG (one line per
# request).
kube_proxy_start() {
	kube_free_port
	KUBE_PROXY_PORT=$port
	KUBE_PROXY_CONTROL=$KUBE_DIR/proxy.control
	KUBE_PROXY_LOG=$KUBE_DIR/proxy.log
	: >"$KUBE_PROXY_CONTROL"
	: >"$KUBE_PROXY_LOG"
	python3 tests/servers/kube/faultproxy.py "$KUBE_PROXY_PORT" "$KUBE_PORT" \
		"$KUBE_DIR/pki/${1:-server}.crt" "$KUBE_DIR/pki/server.key" "$KUBE_DIR/pki/ca.crt" \
		"$KUBE_PROXY_CONTROL" "$KUBE_PROXY_LOG" >"$KUBE_DIR/proxy.out" 2>&1 &
	kube_pids+=($!)
	local i
	for i in $(seq 1 100); do
		kube_listening "$KUBE_PROXY_PORT" && break
		sleep 0.05
	done
	KUBE_PROXY=$KUBE_DIR/proxy-${1:-server}.kubeconfig
	kube_write_config "$KUBE_PROXY" "https://127.0.0.1:$KUBE_PROXY_PORT" "    token: admintoken-1234"
}

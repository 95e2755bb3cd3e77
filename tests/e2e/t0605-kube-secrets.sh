# Kubernetes credentials never reach a message or a log line: kedge.kube and
# `kedge apply-manifests` at --log-level debug against the real
# kube-apiserver (tests/servers/kube/) with a token and a client
# certificate that work, a token the server refuses (401), a client
# certificate from a CA the server does not know (401, and a failed TLS
# handshake with a server that demands a known one), a server certificate
# from another CA, and a key that does not belong to its certificate. Every output is grepped for the token and the key.
. tests/lib.sh
. tests/servers/kube/lib.sh

kube_start
if [ "$KUBE_LOCAL" = 0 ]; then
	echo "1..0 # SKIP needs the local API server's PKI and users"
	exit 0
fi

PKI=$KUBE_DIR/pki
SERVER=https://127.0.0.1:$KUBE_PORT
BAD_TOKEN=wrongtoken-s3cr3t-4242
# what must never show: both tokens, a line of each private key's PEM and
# a stretch of the base64 the kubeconfig holds it as
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-keyout "$TMP/alien-ca.key" -out "$TMP/alien-ca.crt" -subj "/CN=alien CA" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$TMP/alien.key" -out "$TMP/alien.csr" -subj "/O=system:masters/CN=alien" 2>/dev/null
openssl x509 -req -in "$TMP/alien.csr" -CA "$TMP/alien-ca.crt" -CAkey "$TMP/alien-ca.key" \
	-CAcreateserial -days 1 -out "$TMP/alien.crt" 2>/dev/null
SECRETS=(admintoken-1234 "$BAD_TOKEN")
for k in "$PKI/admin.key" "$TMP/alien.key"; do
	SECRETS+=("$(sed -n 2p "$k")" "$(kube_b64 "$k" | cut -c 30-70)")
done

leaks() { # NAME: checks $out and $err for every secret
	local s found=
	for s in "${SECRETS[@]}"; do
		case "$out$err" in *"$s"*) found+=" $s" ;; esac
	done
	tap_report "$([ -z "$found" ] && echo 0 || echo 1)" "$1: no credential in the output" \
		"leaked:$found"
}

# get KUBECONFIG: the default namespace's name, or the error
get() {
	run "$KEDGE" --log-level debug lua -e '
local c, err = require("kedge.kube").connect{kubeconfig = arg[1], attempts = 1}
if not c then io.stderr:write(err, "\n") os.exit(1) end
local o, gerr = c:get("v1", "Namespace", "", "default")
if not o then io.stderr:write(gerr, "\n") os.exit(1) end
print(o.metadata.name)' "$1"
}

printf 'kind: ConfigMap\napiVersion: v1\nmetadata: {name: t0605-%s, namespace: default}\n' "$$" >"$TMP/cm.yaml"
apply() { run "$KEDGE" --log-level debug apply-manifests --kubeconfig "$1" -f "$TMP/cm.yaml"; }

# --- what works -------------------------------------------------------------
get "$KUBE_TOKEN"
is "$rc:$out" "0:default" "a bearer token from the kubeconfig authenticates"
leaks "token"
get "$KUBE_ADMIN"
is "$rc:$out" "0:default" "a client certificate and key (client-key-data) authenticate"
leaks "client certificate"
apply "$KUBE_TOKEN"
is "$rc" 0 "apply-manifests with the token, at debug level"
leaks "apply-manifests with the token"

# --- what fails --------------------------------------------------------------
kube_write_config "$TMP/badtoken.kubeconfig" "$SERVER" "    token: $BAD_TOKEN"
get "$TMP/badtoken.kubeconfig"
like "$rc:$err" "^1:.*401 Unauthorized.*credentials in the kubeconfig were refused" "a wrong token: 401, said so"
leaks "401"
apply "$TMP/badtoken.kubeconfig"
like "$rc:${err//$'\n'/ }" "^1:.*401 Unauthorized" "apply-manifests with a wrong token fails"
leaks "apply-manifests with a wrong token"

kube_write_config "$TMP/alien.kubeconfig" "$SERVER" \
	"    client-certificate-data: $(kube_b64 "$TMP/alien.crt")
    client-key-data: $(kube_b64 "$TMP/alien.key")"
get "$TMP/alien.kubeconfig"
like "$rc:$err" "^1:.*401 Unauthorized" "a client certificate from a CA the API server does not know: 401"
leaks "unknown client CA"

# a TLS server that demands a client certificate from the kube CA: the
# handshake with the alien one fails (the API server itself only asks)
kube_free_port
openssl s_server -quiet -accept "127.0.0.1:$port" -cert "$PKI/server.crt" -key "$PKI/server.key" \
	-Verify 1 -verify_return_error -CAfile "$PKI/ca.crt" -www >/dev/null 2>&1 &
kube_pids+=($!)
for _ in $(seq 1 100); do kube_listening "$port" && break; sleep 0.1; done
kube_write_config "$TMP/mtls.kubeconfig" "https://127.0.0.1:$port" \
	"    client-certificate-data: $(kube_b64 "$TMP/alien.crt")
    client-key-data: $(kube_b64 "$TMP/alien.key")
    token: $BAD_TOKEN"
get "$TMP/mtls.kubeconfig"
like "$rc:$err" "^1:.*TLS handshake with 127.0.0.1:$port failed" "a client certificate the server refuses: the handshake fails"
leaks "failed handshake"

kube_write_config "$TMP/otherca.kubeconfig" "$SERVER" "    token: admintoken-1234" \
	"    certificate-authority-data: $(kube_b64 "$TMP/alien-ca.crt")"
get "$TMP/otherca.kubeconfig"
like "$rc:$err" "^1:.*certificate" "a server certificate from another CA is refused (in the handshake)"
leaks "unknown server CA"

kube_write_config "$TMP/wrongkey.kubeconfig" "$SERVER" \
	"    client-certificate-data: $(kube_b64 "$PKI/admin.crt")
    client-key-data: $(kube_b64 "$TMP/alien.key")"
get "$TMP/wrongkey.kubeconfig"
like "$rc:$err" "^1:.*does not belong to the client certificate" "a key of another certificate is refused"
leaks "wrong key"
apply "$TMP/wrongkey.kubeconfig"
like "$rc:$err" "^[13]:.*does not belong" "apply-manifests with a wrong key fails"
leaks "apply-manifests with a wrong key"

"$KEDGE" lua tests/servers/kube/kc.lua "$KUBE_ADMIN" delete v1 ConfigMap default "t0605-$$" >/dev/null 2>&1
done_testing

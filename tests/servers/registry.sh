# Shared pieces of the tests that run real servers on 127.0.0.1 (sourced
# after tests/lib.sh): free ports, waiting for a listener, a test CA with
# a server certificate for 127.0.0.1, and Debian's docker-registry
# (distribution 2.8) over TLS.
#
#   free_port, wait_listening  from tests/servers/ports.sh
#   make_certs DIR             DIR/ca.crt, DIR/srv.crt, DIR/srv.key
#   registry_start DIR ADDR STORAGE AUTH_YAML
#                              writes DIR/registry-PORT.yml and starts a
#                              registry on ADDR (127.0.0.1:PORT) storing in
#                              STORAGE, with the given `auth:` block (one
#                              line of YAML flow, or empty for none); sets
#                              $registry_started to its pid
#   htpasswd_auth FILE USER PW prints the auth block of an htpasswd file

. tests/servers/ports.sh

make_certs() {
	(
		cd "$1" || exit 1
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
			-out ca.crt -days 2 -subj "/CN=kedge test ca" -addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout srv.key \
			-out srv.csr -subj "/CN=kedge test server" 2>/dev/null
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >srv.ext
		openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			-extfile srv.ext -out srv.crt 2>/dev/null
		cat srv.crt srv.key >srv.pem
	)
}

htpasswd_auth() {
	htpasswd -Bbc "$1" "$2" "$3" 2>/dev/null
	printf 'htpasswd: {realm: kedge-test, path: %s}' "$1"
}

registry_start() {
	local dir=$1 addr=$2 storage=$3 auth=$4 conf
	conf=$dir/registry-${addr##*:}.yml
	{
		printf 'version: 0.1\nlog: {level: warn}\nstorage:\n  filesystem: {rootdirectory: %s}\n' "$storage"
		printf '  delete: {enabled: true}\n'
		printf 'http:\n  addr: %s\n  tls: {certificate: %s/srv.crt, key: %s/srv.key}\n' "$addr" "$dir" "$dir"
		[ -n "$auth" ] && printf 'auth:\n  %s\n' "$auth"
	} >"$conf"
	docker-registry serve "$conf" >"${conf%.yml}.log" 2>&1 &
	registry_started=$!
	wait_listening "${addr##*:}"
}

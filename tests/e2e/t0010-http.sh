# kedge.http (core/net) against real servers on 127.0.0.1: lighttpd with
# TLS (certificates made here with openssl: IP and DNS SANs, an unknown CA,
# an expired and a wrong-name certificate) and CGI scripts, plus one-shot
# netcat listeners for broken or silent servers.
. tests/lib.sh

for tool in lighttpd openssl nc; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool is not installed (./build.sh test installs it)"
		exit 0
	fi
done
if [ ! -e /usr/lib/lighttpd/mod_openssl.so ]; then
	echo "1..0 # SKIP lighttpd-mod-openssl is not installed (./build.sh test installs it)"
	exit 0
fi

SRV=$TMP/srv
mkdir -p "$SRV/www"
lighttpd_pid=
nc_pids=()
cleanup() {
	[ -n "$lighttpd_pid" ] && kill "$lighttpd_pid" 2>/dev/null
	for p in "${nc_pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# Is something listening on 127.0.0.1:$1? Read from /proc, so that a probe
# does not use up a one-shot listener.
listening() {
	local hex
	hex=$(printf ':%04X' "$1")
	grep -q "^ *[0-9]*: 0100007F$hex 00000000:0000 0A" /proc/net/tcp
}

# free_port: sets $port to a port nothing listens on (and not handed out
# before by this script).
taken=" "
free_port() {
	local i
	for i in $(seq 1 100); do
		# below the kernel's ephemeral range (32768 and up): an outgoing
		# connection's local port there would make the listener fail
		port=$((20000 + RANDOM % 12000))
		[[ $taken == *" $port "* ]] && continue
		listening "$port" && continue
		grep -q "^ *[0-9]*: [0-9A-F]*$(printf ':%04X' "$port") " /proc/net/tcp && continue
		taken+="$port "
		return 0
	done
	echo "Bail out! no free port found" && exit 1
}

wait_listening() { # port
	local i
	for i in $(seq 1 100); do
		listening "$1" && return 0
		sleep 0.05
	done
	echo "Bail out! nothing listens on 127.0.0.1:$1" && exit 1
}

# serve_once FILE: a listener that answers one connection with FILE's bytes
# and closes; sets $port.
serve_once() {
	free_port
	nc -N -l 127.0.0.1 "$port" <"$1" >/dev/null 2>&1 &
	nc_pids+=($!)
	wait_listening "$port"
}

# --- certificates ---------------------------------------------------------
cd "$SRV" || exit 1
mkcert() { # name "SANs" [openssl ca date options]
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1.key" -out "$1.csr" -subj "/CN=kedge test $1" 2>/dev/null &&
		printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$2" "${EKU:-serverAuth}" >"$1.ext" &&
		openssl ca -batch -notext -config ca.cnf -in "$1.csr" -out "$1.crt" \
			-extfile "$1.ext" "${@:3}" >"$1.log" 2>&1
}
mkca() { # name
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$1.key" -out "$1.crt" -days 2 -subj "/CN=kedge test $1" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
cat >ca.cnf <<EOF
[ca]
default_ca = test_ca
[test_ca]
dir = $SRV
database = \$dir/index.txt
new_certs_dir = \$dir
serial = \$dir/serial
certificate = \$dir/ca.crt
private_key = \$dir/ca.key
default_md = sha256
default_days = 2
policy = any
unique_subject = no
[any]
commonName = supplied
EOF
: >index.txt
echo 1000 >serial
ok "a test CA" mkca ca
ok "another CA" mkca otherca
ok "a server certificate for IP:127.0.0.1 and DNS:localhost" \
	mkcert good "IP:127.0.0.1,DNS:localhost"
ok "an expired one" mkcert expired "IP:127.0.0.1,DNS:localhost" \
	-startdate 20200101000000Z -enddate 20200102000000Z
ok "one for other names" mkcert wrong "DNS:wrong.example,IP:10.9.9.9"
EKU=clientAuth ok "a client certificate" mkcert client "DNS:kedge-client"
cd - >/dev/null || exit 1

# --- lighttpd ---------------------------------------------------------------
free_port; HTTP_PORT=$port
free_port; GOOD_PORT=$port
free_port; EXPIRED_PORT=$port
free_port; WRONG_PORT=$port
free_port; MTLS_PORT=$port
cp tests/servers/cgi/*.sh "$SRV/www/"
echo hello >"$SRV/www/hello.txt"
sed -e "s|@DIR@|$SRV|g" -e "s|@HTTP_PORT@|$HTTP_PORT|" \
	-e "s|@GOOD_PORT@|$GOOD_PORT|" -e "s|@EXPIRED_PORT@|$EXPIRED_PORT|" \
	-e "s|@WRONG_PORT@|$WRONG_PORT|" -e "s|@MTLS_PORT@|$MTLS_PORT|" \
	tests/servers/lighttpd.conf.in >"$SRV/lighttpd.conf"
lighttpd -D -f "$SRV/lighttpd.conf" 2>"$SRV/lighttpd.stderr" &
lighttpd_pid=$!
for p in $HTTP_PORT $GOOD_PORT $EXPIRED_PORT $WRONG_PORT $MTLS_PORT; do
	wait_listening "$p"
done

export CA=$SRV/ca.crt OTHER_CA=$SRV/otherca.crt
export HTTP=http://127.0.0.1:$HTTP_PORT
export GOOD=https://127.0.0.1:$GOOD_PORT GOOD_NAME=https://localhost:$GOOD_PORT
export EXPIRED=https://127.0.0.1:$EXPIRED_PORT WRONG=https://127.0.0.1:$WRONG_PORT
export WRONG_NAME=https://localhost:$WRONG_PORT MTLS=https://127.0.0.1:$MTLS_PORT
export CLIENT_CRT=$SRV/client.crt CLIENT_KEY=$SRV/client.key GOOD_KEY=$SRV/good.key

# hl CODE: runs Lua with `http`, `env` and `show` (prints "status=N" and the
# body, or "error: message") in front of CODE.
hl() {
	run "$KEDGE" lua -e "local http = require 'kedge.http'
local env = os.getenv
local function show(r, err)
	if r then io.write('status=', r.status, '\n', r.body)
	else io.write('error: ', tostring(err)) end
end
$1"
}

# --- TLS verification -----------------------------------------------------
hl 'show(http.get(env"GOOD" .. "/hello.txt", {ca_file = env"CA"}))'
is "$out" "status=200
hello" "https://127.0.0.1 verifies through the certificate's IP SAN"

hl 'show(http.get(env"GOOD_NAME" .. "/hello.txt", {ca_file = env"CA"}))'
is "$out" "status=200
hello" "https://localhost verifies through its DNS SAN"

hl 'show(http.get(env"GOOD" .. "/hello.txt", {ca_file = env"OTHER_CA"}))'
like "$out" "^error: GET https://127\.0\.0\.1:[0-9]+/hello\.txt: certificate of 127\.0\.0\.1:[0-9]+ refused: not issued by a trusted CA \(subject 'CN=kedge test good', issuer 'CN=kedge test ca'; CA file .*otherca\.crt\)$" \
	"a certificate from another CA is refused, naming subject and issuer"

hl 'show(http.get(env"GOOD" .. "/hello.txt"))'
like "$out" "not issued by a trusted CA .*ca-certificates\.crt" \
	"by default the system CA bundle is used"

hl 'show(http.get(env"EXPIRED" .. "/hello.txt", {ca_file = env"CA"}))'
like "$out" "^error: .*refused: expired on 2020-01-02 00:00:00 UTC \(subject 'CN=kedge test expired'\)$" \
	"an expired certificate is refused, naming when it expired"

hl 'show(http.get(env"WRONG" .. "/hello.txt", {ca_file = env"CA"}))'
like "$out" "name mismatch: it is not valid for IP address '127\.0\.0\.1' \(its names: DNS:wrong\.example, IP:10\.9\.9\.9; " \
	"an IP not among the certificate's IP SANs is refused, listing the SANs"

hl 'show(http.get(env"WRONG_NAME" .. "/hello.txt", {ca_file = env"CA"}))'
like "$out" "name mismatch: it is not valid for host 'localhost' \(its names: DNS:wrong\.example, IP:10\.9\.9\.9; " \
	"a host name not among the DNS SANs is refused"

hl 'show(http.get(env"EXPIRED" .. "/hello.txt", {insecure = true}))'
is "$out" "status=200
hello" "insecure skips verification"
like "$err" "WARN.*INSECURE: TLS certificate verification is off for 127\.0\.0\.1:$EXPIRED_PORT" \
	"and says so loudly in the log"

# --- client certificates (mutual TLS) -------------------------------------
hl 'show(http.get(env"MTLS" .. "/echo.sh", {ca_file = env"CA",
	cert_file = env"CLIENT_CRT", key_file = env"CLIENT_KEY"}))'
like "$out" "^status=200
method=GET .* client=kedge test client$" "a client certificate from files is presented"

hl 'local function slurp(p) local f = assert(io.open(p)); local s = f:read("a"); f:close(); return s end
show(http.get(env"MTLS" .. "/echo.sh", {ca_pem = slurp(env"CA"),
	cert_pem = slurp(env"CLIENT_CRT"), key_pem = slurp(env"CLIENT_KEY")}))'
like "$out" "^status=200
method=GET .* client=kedge test client$" "CA, certificate and key as PEM text (kubeconfig *-data)"

hl 'show(http.get(env"MTLS" .. "/echo.sh", {ca_file = env"CA", attempts = 1}))'
like "$out" "^error: GET .*: TLS handshake with 127\.0\.0\.1:$MTLS_PORT failed: .*no client certificate was offered" \
	"without a client certificate the handshake fails, saying so"

hl 'show(http.get(env"MTLS" .. "/echo.sh", {ca_file = env"CA",
	cert_file = env"CLIENT_CRT", key_file = env"GOOD_KEY"}))'
is "$out" "error: the client key does not belong to the client certificate" \
	"a key that does not match the certificate is refused up front"

hl 'show(http.get(env"MTLS" .. "/echo.sh", {cert_file = env"CLIENT_CRT"}))'
like "$out" "needs one certificate and one key" "a certificate without a key is refused"

# --- plain HTTP, methods, headers, framing ----------------------------------
hl 'local r = assert(http.get(env"HTTP" .. "/hello.txt"))
print(r.status, r.body == "hello\n", r.headers["content-length"], r.headers["content-type"])'
is "$out" "200	true	6	text/plain" "plain HTTP GET with lowercased response headers"

hl 'show(http.request{method = "post", url = env"HTTP" .. "/echo.sh", body = "a=1&b",
	headers = {["X-Kedge"] = "yes", ["Content-Type"] = "text/plain"}})'
like "$out" "^status=200
method=POST x-kedge=yes length=5 port=[0-9]+ client=
a=1&b$" "POST sends its body with Content-Length and custom headers"

hl 'local r = assert(http.request{method = "HEAD", url = env"HTTP" .. "/hello.txt"})
print(r.status, #r.body, r.headers["content-length"])'
is "$out" "200	0	6" "HEAD: no body read, though Content-Length says 6"

hl 'local r = assert(http.get(env"HTTP" .. "/chunked.sh?3"))
local want = {}
for i = 0, 2 do want[#want + 1] = string.format("line %08d %s\n", i, ("."):rep(51)) end
print(r.headers["transfer-encoding"], r.body == table.concat(want))'
is "$out" "chunked	true" "a chunked response is decoded"

hl 'local r = assert(http.get(env"GOOD" .. "/chunked.sh?20000", {ca_file = env"CA"}))
print(r.headers["transfer-encoding"], #r.body, select(2, r.body:gsub("\n", "")))'
is "$out" "chunked	1320000	20000" "a large chunked response over TLS arrives whole"

hl 'show(http.get(env"HTTP" .. "/chunked.sh?20000", {max_body = 100000}))'
like "$out" "^error: GET .*: the response body is larger than the limit of 100000 bytes \(max_body\)$" \
	"a chunked body over max_body is refused, naming the limit"

hl 'show(http.get(env"HTTP" .. "/hello.txt", {max_body = 5}))'
like "$out" "Content-Length 6\) is larger than the limit of 5 bytes \(max_body\)$" \
	"a Content-Length over max_body is refused before reading the body"

printf 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789' >"$TMP/short.http"
serve_once "$TMP/short.http"
hl "show(http.get('http://127.0.0.1:$port/', {attempts = 1}))"
like "$out" "^error: GET .*: truncated HTTP response: the connection closed after 10 body bytes, 990 short of its Content-Length$" \
	"a connection closed mid-body is an error, not a short body"

printf 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n10\r\nabc' >"$TMP/shortchunk.http"
serve_once "$TMP/shortchunk.http"
hl "show(http.get('http://127.0.0.1:$port/', {attempts = 1}))"
like "$out" "truncated HTTP response: the connection closed inside the chunked body after 8 bytes$" \
	"a connection closed inside a chunk is an error"

printf 'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end' >"$TMP/close.http"
serve_once "$TMP/close.http"
hl "show(http.get('http://127.0.0.1:$port/'))"
is "$out" "status=200
until the end" "a body without length ends when the server closes"

printf 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nBad Header\r\n\r\nok' >"$TMP/bad.http"
serve_once "$TMP/bad.http"
hl "show(http.get('http://127.0.0.1:$port/', {attempts = 1}))"
like "$out" "^error: GET .*: malformed HTTP response: " "a malformed response is an error"

# --- failures: refused, timeouts --------------------------------------------
free_port
hl "show(http.get('http://127.0.0.1:$port/', {attempts = 1}))"
is "$out" "error: GET http://127.0.0.1:$port/: cannot connect to 127.0.0.1:$port: Connection refused" \
	"connection refused says so"
hl "local t = os.time(); show(http.get('http://127.0.0.1:$port/', {attempts = 3}))"
like "$out" "^error: GET http://127\.0\.0\.1:$port/ \(3 attempts\): cannot connect" \
	"connection errors are retried, and the message counts the attempts"

start=$(date +%s%N)
hl 'show(http.get(env"HTTP" .. "/slow.sh", {timeout = 1, attempts = 1}))'
ms=$((($(date +%s%N) - start) / 1000000))
like "$out" "^error: GET .*/slow\.sh: .*timed out" "a server that does not answer times out"
ok "within the timeout, not hanging (took $ms ms)" test "$ms" -lt 4500

start=$(date +%s%N)
hl 'show(http.get(env"HTTP" .. "/slow.sh", {timeout = 5, deadline = 0.5}))'
ms=$((($(date +%s%N) - start) / 1000000))
like "$out" "timed out" "a request deadline shorter than the timeout wins"
ok "the deadline holds, well before the 5 s timeout (took $ms ms)" test "$ms" -lt 4000

start=$(date +%s%N)
hl 'local c = http.client{deadline = 0.5}
show(c:get(env"HTTP" .. "/slow.sh", {timeout = 5}))'
ms=$((($(date +%s%N) - start) / 1000000))
like "$out" "timed out" "so does a client-wide deadline"
ok "the client deadline holds, well before the 5 s timeout (took $ms ms)" test "$ms" -lt 4000

free_port
nc -d -k -l 127.0.0.1 "$port" >/dev/null 2>&1 &
nc_pids+=($!)
wait_listening "$port"
start=$(date +%s%N)
hl "show(http.get('https://127.0.0.1:$port/', {timeout = 0.5, attempts = 1}))"
ms=$((($(date +%s%N) - start) / 1000000))
like "$out" "^error: GET .*: TLS handshake with 127\.0\.0\.1:$port timed out$" \
	"a listener that never speaks TLS times out in the handshake"
ok "within the timeout (took $ms ms)" test "$ms" -lt 2000

# --- keep-alive and retries ---------------------------------------------------
hl 'local c = http.client{ca_file = env"CA"}
local a = assert(c:get(env"GOOD" .. "/echo.sh")).body:match("port=(%d+)")
local b = assert(c:get(env"GOOD" .. "/echo.sh")).body:match("port=(%d+)")
local d = assert(c:request{method = "POST", url = env"GOOD" .. "/echo.sh", body = "x"}).body:match("port=(%d+)")
local s = c:stats()
c:close()
print(a == b and b == d, s.connections, s.requests, s.reused)'
is "$out" "true	1	3	2" "a client reuses its connection (same client port, one connection)"

hl 'local a = assert(http.get(env"HTTP" .. "/echo.sh")).body:match("port=(%d+)")
local b = assert(http.get(env"HTTP" .. "/echo.sh")).body:match("port=(%d+)")
print(a ~= b)'
is "$out" "true" "module-level calls do not share connections"

hl 'local c = http.client{ca_file = env"CA"}
assert(c:get(env"HTTP" .. "/hello.txt"))
assert(c:get(env"GOOD_NAME" .. "/hello.txt"))
assert(c:get(env"HTTP" .. "/hello.txt"))
print(c:stats().connections)'
is "$out" "3" "a client opens a new connection when the origin changes"

start=$(date +%s%N)
hl 'local c = http.client{}
local r = assert(c:get(env"HTTP" .. "/flaky.sh?get"))
print(r.status, r.body, c:stats().retries)'
ms=$((($(date +%s%N) - start) / 1000000))
is "$out" "200	ok, hit 2
	1" "GET: a 503 is retried and the 200 returned"
ok "after the Retry-After second (took $ms ms)" test "$ms" -ge 950
is "$(cat "$SRV/www/state-get")" 2 "the server saw two GETs"

hl 'local r = assert(http.request{method = "POST", url = env"HTTP" .. "/flaky.sh?post", body = "x"})
print(r.status, r.body)'
is "$out" "503	busy, hit 1" "POST: a 503 is returned, not retried"
is "$(cat "$SRV/www/state-post")" 1 "the server saw one POST"

hl 'local r = assert(http.request{method = "POST", url = env"HTTP" .. "/flaky.sh?idem",
	body = "x", idempotent = true})
print(r.status)'
is "$out" "200" "a POST marked idempotent is retried"

hl 'local r, e = http.get(env"HTTP" .. "/flaky.sh?last", {attempts = 1})
print(r.status)'
is "$out" "503" "with one attempt the 503 is the answer"

# --- arguments -------------------------------------------------------------
hl 'show(http.get("ftp://example.org/"))'
is "$out" "error: GET ftp://example.org/: URL 'ftp://example.org/': only http:// and https:// are supported" \
	"an unsupported scheme is an error"
hl 'show(http.request{url = env"HTTP" .. "/", headers = {["Content-Length"] = "5"}})'
like "$out" "the client sets 'Content-Length' itself" "Content-Length cannot be forced"
hl 'show(http.request{url = env"HTTP" .. "/", headers = {["X-A"] = "a\r\nX-B: b"}})'
like "$out" "holds a line break" "header injection is refused"
for bad in 'http.get(42, 1)' 'http.request("x")' 'http.request{url = 1}' \
	'http.request{url = "http://x/", timeout = "1"}' \
	'http.request{url = "http://x/", headers = {1, 2}}' \
	'http.client{}:get("http://x/", {insecure = true})'; do
	hl "print(pcall(function() return $bad end))"
	like "$out" "^false	" "wrong arguments raise: $bad"
done

done_testing

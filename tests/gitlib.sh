# Helpers for the config repo tests (tests/e2e/t03*-sync-*.sh), sourced
# after tests/lib.sh: free ports (tests/servers/ports.sh), git repos with commits, a TLS CA, and
# lighttpd serving `git http-backend` as CGI.

export GIT_AUTHOR_NAME="kedge test" GIT_AUTHOR_EMAIL=test@kedge.invalid
export GIT_COMMITTER_NAME="kedge test" GIT_COMMITTER_EMAIL=test@kedge.invalid
# A private HOME keeps git's config out of the user's; the build cache
# (deps, kube-apiserver) stays where the real HOME has it.
export KEDGE_CACHE=${KEDGE_CACHE:-$HOME/.cache/kedge}
export GIT_CONFIG_NOSYSTEM=1 HOME=$TMP/home
mkdir -p "$HOME"
git config --global init.defaultBranch main
git config --global protocol.file.allow always
git config --global advice.detachedHead false

server_pids=()
git_cleanup() {
	local p
	for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	umount "$TMP/tmpfs" 2>/dev/null
	rm -rf "$TMP"
}
trap git_cleanup EXIT

. tests/servers/ports.sh

# new_repo DIR: a bare repo at DIR.git and a work tree at DIR with one commit.
new_repo() {
	git init -q --bare "$1.git" &&
		git init -q "$1" &&
		git -C "$1" remote add origin "$1.git" &&
		mkdir -p "$1/sites" &&
		printf 'name: berlin-01\n' >"$1/sites/berlin-01.yaml" &&
		printf 'defaults: {}\n' >"$1/kedge.yaml" &&
		git -C "$1" add -A && git -C "$1" commit -q -m "first" &&
		git -C "$1" push -q origin HEAD:main
}

# commit_file DIR PATH CONTENT [git commit options]: commit and push to main.
commit_file() {
	local dir=$1 path=$2 content=$3
	shift 3
	mkdir -p "$(dirname "$dir/$path")" &&
		printf '%s\n' "$content" >"$dir/$path" &&
		git -C "$dir" add -A && git -C "$dir" commit -q "$@" -m "change $path" &&
		git -C "$dir" push -q -f origin HEAD:main
}

head_of() { git -C "$1" rev-parse HEAD; }

# make_ca DIR: a throwaway CA in DIR with certificates good (IP:127.0.0.1,
# DNS:localhost) and expired; another CA "otherca".
make_ca() {
	local d=$1
	mkdir -p "$d" && : >"$d/index.txt" && echo 1000 >"$d/serial"
	cat >"$d/ca.cnf" <<EOF
[ca]
default_ca = test_ca
[test_ca]
dir = $d
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
	local ca
	for ca in ca otherca; do
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-keyout "$d/$ca.key" -out "$d/$ca.crt" -days 2 -subj "/CN=kedge test $ca" \
			-addext basicConstraints=critical,CA:TRUE \
			-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null || return 1
	done
	mkcert_in "$d" good && mkcert_in "$d" expired -startdate 20200101000000Z -enddate 20200102000000Z
}

mkcert_in() { # dir name [openssl ca options]
	local d=$1 n=$2
	shift 2
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-keyout "$d/$n.key" -out "$d/$n.csr" -subj "/CN=kedge test $n" 2>/dev/null &&
		printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$d/$n.ext" &&
		openssl ca -batch -notext -config "$d/ca.cnf" -in "$d/$n.csr" -out "$d/$n.crt" \
			-extfile "$d/$n.ext" "$@" >"$d/$n.log" 2>&1
}

# start_git_http DIR: lighttpd with TLS on two ports (good and expired
# certificate), serving the bare repos under DIR/repos through `git
# http-backend` at /git/. /git/private/* needs "Bearer s3cret" or basic
# auth kedge:pa55. DIR/mode, when it holds truncate, corrupt or kill, breaks
# the next pack response (kill: the server dies halfway through it). Sets
# GOOD_URL and EXPIRED_URL (https://127.0.0.1:PORT/git).
start_git_http() {
	local d=$1
	mkdir -p "$d/repos" "$d/www"
	cat >"$d/git-cgi" <<EOF
#!/bin/sh
export GIT_PROJECT_ROOT="$d/repos" GIT_HTTP_EXPORT_ALL=1
echo "\$REQUEST_METHOD \$PATH_INFO" >>"$d/requests.log"
case "\$PATH_INFO" in
/private/*)
	if [ "\$HTTP_AUTHORIZATION" != "Bearer s3cret" ] && [ "\$HTTP_AUTHORIZATION" != "Basic a2VkZ2U6cGE1NQ==" ]; then
		printf 'Status: 401 Unauthorized\r\nWWW-Authenticate: Basic realm="git"\r\nContent-Type: text/plain\r\n\r\nno\n'
		exit 0
	fi ;;
esac
mode=\$(cat "$d/mode" 2>/dev/null)
if [ "\$REQUEST_METHOD" = POST ] && [ -n "\$mode" ]; then
	case \$mode in
	truncate) /usr/lib/git-core/git-http-backend | head -c 20000 ;;
	corrupt) /usr/lib/git-core/git-http-backend >"$d/pack.out"
		perl -e 'local \$/; my \$s = <STDIN>; my \$n = length(\$s);
			for my \$i (1 .. 40) { my \$o = int(\$n / 2) + \$i * 97; substr(\$s, \$o, 1) = chr(ord(substr(\$s, \$o, 1)) ^ 0x55) if \$o < \$n - 40 }
			print \$s' <"$d/pack.out" ;;
	kill) /usr/lib/git-core/git-http-backend | head -c 20000; kill -9 \$(cat "$d/lighttpd.pid") ;;
	esac
	exit 0
fi
exec /usr/lib/git-core/git-http-backend
EOF
	chmod +x "$d/git-cgi"
	free_port
	GOOD_PORT=$port
	free_port
	EXPIRED_PORT=$port
	cat >"$d/lighttpd.conf" <<EOF
server.document-root = "$d/www"
server.bind          = "127.0.0.1"
server.port          = $GOOD_PORT
server.pid-file      = "$d/lighttpd.pid"
server.errorlog      = "$d/error.log"
server.modules       = ("mod_openssl", "mod_alias", "mod_redirect", "mod_cgi", "mod_accesslog", "mod_setenv")
url.redirect         = ("^/moved/(.*)\$" => "https://localhost:$GOOD_PORT/git/\$1")
accesslog.filename   = "$d/access.log"
accesslog.format     = "%h %t \\"%r\\" %>s %b"
alias.url            = ("/git" => "$d/git-cgi")
\$HTTP["url"] =~ "^/git" { cgi.assign = ("" => "") }
server.stream-response-body = 2
ssl.engine  = "enable"
ssl.pemfile = "$d/good.crt"
ssl.privkey = "$d/good.key"
\$SERVER["socket"] == "127.0.0.1:$EXPIRED_PORT" {
	ssl.engine  = "enable"
	ssl.pemfile = "$d/expired.crt"
	ssl.privkey = "$d/expired.key"
}
EOF
	lighttpd -D -f "$d/lighttpd.conf" 2>"$d/lighttpd.stderr" &
	server_pids+=($!)
	disown $! # the kill mode ends it on purpose; no job notice for that
	wait_listening "$GOOD_PORT"
	wait_listening "$EXPIRED_PORT"
	GOOD_URL=https://127.0.0.1:$GOOD_PORT/git
	EXPIRED_URL=https://127.0.0.1:$EXPIRED_PORT/git
}

# restart_git_http DIR: after a kill.
restart_git_http() {
	local d=$1
	lighttpd -D -f "$d/lighttpd.conf" 2>>"$d/lighttpd.stderr" &
	server_pids+=($!)
	disown $!
	wait_listening "$GOOD_PORT"
}

# rev_list STATE: the checked-out revisions, sorted.
rev_list() { (cd "$1/rev" 2>/dev/null && ls -d [0-9a-f]*[0-9a-f] 2>/dev/null | sort | tr '\n' ' '); }

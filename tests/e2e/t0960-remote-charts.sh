# Remote charts (kedge.oci, kedge.chartrepo, kedge.charts) against real
# servers on 127.0.0.1: a Helm HTTP repository served by lighttpd over TLS
# (charts of ../shared/charts packaged with tar, index.yaml written here),
# and Debian's docker-registry (distribution 2.8) over TLS with htpasswd
# basic auth, a chart pushed into it with curl through the distribution
# API's upload endpoints in Helm's OCI layout. Renders are compared with the
# corpus goldens; then the bad input: wrong digests, a truncated archive, a
# 500, a body cut short, wrong and missing credentials, plain HTTP to a
# host that is not 127.0.0.0/8, a stale Chart.lock, a corrupted blob in the
# registry; and the offline pass served from the cache.
. tests/lib.sh
. tests/servers/registry.sh

for tool in lighttpd openssl docker-registry htpasswd curl python3 rsync; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool is not installed (./build.sh test installs it)"
		exit 0
	fi
done
if ! python3 -c 'import yaml' 2>/dev/null; then
	echo "1..0 # SKIP python3-yaml is not installed (./build.sh test installs it)"
	exit 0
fi
if [ ! -e /usr/lib/lighttpd/mod_openssl.so ]; then
	echo "1..0 # SKIP lighttpd-mod-openssl is not installed (./build.sh test installs it)"
	exit 0
fi
CHARTS=${KEDGE_CHARTS_DIR:-../shared/charts}
if [ ! -d "$CHARTS/coredns" ]; then
	echo "1..0 # SKIP the chart corpus is not at $CHARTS (KEDGE_CHARTS_DIR)"
	exit 0
fi
CHARTS=$(cd "$CHARTS" && pwd)

SRV=$TMP/srv
mkdir -p "$SRV/www"
lighttpd_pid= registry_pid= registry2_pid=
cleanup() {
	[ -n "$lighttpd_pid" ] && kill "$lighttpd_pid" 2>/dev/null
	[ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
	[ -n "$registry2_pid" ] && kill "$registry2_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

# --- a CA and a server certificate ------------------------------------------
make_certs "$SRV"
ok "a test CA and a server certificate for 127.0.0.1" test -s "$SRV/srv.crt"

# --- the Helm repository ------------------------------------------------------
# pack DIR NAME-VERSION.tgz: a chart folder as helm package lays it out
pack() { tar -C "$(dirname "$1")" -czf "$2" "$(basename "$1")"; }
sha() { sha256sum "$1" | cut -d' ' -f1; }
W=$SRV/www
mkdir -p "$W/repo" "$W/bad-digest" "$W/trunc" "$W/e500" "$W/cut"
pack "$CHARTS/coredns" "$W/repo/coredns-1.46.2.tgz"
for d in alertmanager kube-state-metrics prometheus-node-exporter prometheus-pushgateway; do
	v=$(sed -n 's/^version: *//p' "$CHARTS/prometheus/charts/$d/Chart.yaml")
	pack "$CHARTS/prometheus/charts/$d" "$W/repo/$d-$v.tgz"
done
# index.yaml: one entry per archive, and a newer alertmanager that
# Chart.lock's pin must not pick
python3 - "$W/repo" <<'EOF'
import glob, hashlib, os, sys
d = sys.argv[1]
entries = {}
for f in sorted(glob.glob(d + "/*.tgz")):
    b = os.path.basename(f)[:-4]
    n, v = b.rsplit("-", 1)
    entries.setdefault(n, []).append((v, hashlib.sha256(open(f, "rb").read()).hexdigest(), b + ".tgz"))
entries["alertmanager"].insert(0, ("1.42.9", None, "missing.tgz"))
with open(d + "/index.yaml", "w") as out:
    out.write("apiVersion: v1\nentries:\n")
    for n, vs in entries.items():
        out.write("  %s:\n" % n)
        for v, h, u in vs:
            out.write("  - name: %s\n    version: %s\n    urls: [%s]\n" % (n, v, u))
            if h: out.write("    digest: %s\n" % h)
EOF
cp "$W/repo/coredns-1.46.2.tgz" "$W/bad-digest/"
printf 'apiVersion: v1\nentries:\n  coredns:\n  - name: coredns\n    version: 1.46.2\n    digest: %s\n    urls: [coredns-1.46.2.tgz]\n' \
	"$(printf 'ab%.0s' $(seq 32))" >"$W/bad-digest/index.yaml"
head -c 3000 "$W/repo/coredns-1.46.2.tgz" >"$W/trunc/coredns-1.46.2.tgz"
printf 'apiVersion: v1\nentries:\n  coredns:\n  - name: coredns\n    version: 1.46.2\n    digest: %s\n    urls: [coredns-1.46.2.tgz]\n' \
	"$(sha "$W/repo/coredns-1.46.2.tgz")" >"$W/trunc/index.yaml"
# e500/index.yaml and cut/coredns-1.46.2.tgz are CGI scripts (see below)
printf 'printf "Status: 500 Internal Server Error\\r\\nContent-Type: text/plain\\r\\n\\r\\nbroken\\n"\n' \
	>"$W/e500/index.yaml"
printf 'apiVersion: v1\nentries:\n  coredns:\n  - name: coredns\n    version: 1.46.2\n    urls: [coredns-1.46.2.tgz]\n' \
	>"$W/cut/index.yaml"
# the archive's headers promise all of it; 2000 bytes come, then the
# script dies
printf 'printf "Content-Type: application/gzip\\r\\nContent-Length: %s\\r\\n\\r\\n"\nhead -c 2000 %s\nexit 1\n' \
	"$(stat -c %s "$W/repo/coredns-1.46.2.tgz")" "$W/repo/coredns-1.46.2.tgz" >"$W/cut/coredns-1.46.2.tgz"

free_port; HTTP_PORT=$port
free_port; TLS_PORT=$port
cat >"$SRV/lighttpd.conf" <<EOF
server.document-root = "$W"
server.bind          = "127.0.0.1"
server.port          = $HTTP_PORT
server.pid-file      = "$SRV/lighttpd.pid"
server.errorlog      = "$SRV/error.log"
server.modules       = ("mod_openssl", "mod_cgi", "mod_accesslog")
accesslog.filename   = "$SRV/access.log"
\$HTTP["url"] =~ "^/(e500|cut)/" { cgi.assign = (".yaml" => "/bin/sh", ".tgz" => "/bin/sh") }
\$HTTP["url"] =~ "^/cut/index" { cgi.assign = () }
\$HTTP["url"] =~ "^/token/" { cgi.assign = (".sh" => "/bin/bash") }
\$SERVER["socket"] == "127.0.0.1:$TLS_PORT" {
	ssl.engine  = "enable"
	ssl.pemfile = "$SRV/srv.crt"
	ssl.privkey = "$SRV/srv.key"
}
EOF
lighttpd -D -f "$SRV/lighttpd.conf" 2>"$SRV/lighttpd.stderr" &
lighttpd_pid=$!
wait_listening "$HTTP_PORT"
wait_listening "$TLS_PORT"
REPO_URL=https://127.0.0.1:$TLS_PORT

# --- the registry ---------------------------------------------------------------
free_port; REG_PORT=$port
REG=127.0.0.1:$REG_PORT
registry_start "$SRV" "$REG" "$SRV/registry" "$(htpasswd_auth "$SRV/htpasswd" kedge 's3cret-registry-pw')"
registry_pid=$registry_started

# push_blob NAME FILE: the upload endpoints (POST, then PUT ?digest=)
CURL=(curl -sS --cacert "$SRV/ca.crt" -u 'kedge:s3cret-registry-pw')
push_blob() {
	local loc d
	loc=$("${CURL[@]}" -X POST -D - -o /dev/null "https://$REG/v2/$1/blobs/uploads/" |
		tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	case $loc in /*) loc=https://$REG$loc ;; esac
	d=sha256:$(sha "$2")
	case $loc in *\?*) loc="$loc&digest=$d" ;; *) loc="$loc?digest=$d" ;; esac
	"${CURL[@]}" -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$2" \
		-o /dev/null -w '%{http_code}' "$loc"
}
MS=$CHARTS/metrics-server
pack "$MS" "$SRV/ms.tgz"
python3 -c 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))), end="")' \
	"$MS/Chart.yaml" >"$SRV/ms-config.json"
is "$(push_blob charts/metrics-server "$SRV/ms-config.json")" 201 "the chart's config blob is pushed with curl"
is "$(push_blob charts/metrics-server "$SRV/ms.tgz")" 201 "the chart's content layer is pushed"
cat >"$SRV/ms-manifest.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:$(sha "$SRV/ms-config.json")","size":$(stat -c %s "$SRV/ms-config.json")},
"layers":[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"sha256:$(sha "$SRV/ms.tgz")","size":$(stat -c %s "$SRV/ms.tgz")}]}
EOF
is "$("${CURL[@]}" -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	--data-binary "@$SRV/ms-manifest.json" -o /dev/null -w '%{http_code}' \
	"https://$REG/v2/charts/metrics-server/manifests/3.13.1")" 201 "its manifest is pushed as tag 3.13.1"

# --- a second registry behind the token flow ----------------------------------------
# The token service is a CGI script: it checks the basic pair and signs a
# JWT (RS256, its certificate in x5c) granting the scope asked for, as
# distribution's token auth expects.
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$SRV/token.key" -out "$SRV/token.crt" \
	-days 2 -subj "/CN=kedge test token issuer" 2>/dev/null
mkdir -p "$W/token"
cat >"$W/token/token.sh" <<EOF
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
want="Basic \$(printf 'kedge:s3cret-registry-pw' | base64)"
if [ "\$HTTP_AUTHORIZATION" != "\$want" ]; then
	printf 'Status: 401 Unauthorized\r\nContent-Type: application/json\r\n\r\n{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}'
	exit 0
fi
scope=\$(printf '%s' "\$QUERY_STRING" | tr '&' '\n' | sed -n 's/^scope=//p' | sed 's/%3A/:/g; s/%2F/\//g; s/%2C/,/g')
name=\${scope#repository:}; actions=\${name##*:}; name=\${name%:*}
acts=\$(printf '%s' "\$actions" | sed 's/[^,][^,]*/"&"/g')
now=\$(date +%s)
x5c=\$(openssl x509 -in $SRV/token.crt -outform DER | openssl base64 -A)
h=\$(printf '{"alg":"RS256","typ":"JWT","x5c":["%s"]}' "\$x5c" | b64url)
c=\$(printf '{"iss":"kedge-test-issuer","sub":"kedge","aud":"kedge-registry","exp":%d,"nbf":%d,"iat":%d,"jti":"%s","access":[{"type":"repository","name":"%s","actions":[%s]}]}' \\
	\$((now + 300)) \$((now - 10)) "\$now" "\$RANDOM\$RANDOM" "\$name" "\$acts" | b64url)
sig=\$(printf '%s.%s' "\$h" "\$c" | openssl dgst -sha256 -sign $SRV/token.key -binary | b64url)
printf 'Content-Type: application/json\r\n\r\n{"token":"%s.%s.%s"}' "\$h" "\$c" "\$sig"
EOF
free_port; TREG_PORT=$port
TREG=127.0.0.1:$TREG_PORT
registry_start "$SRV" "$TREG" "$SRV/registry2" \
	"token: {realm: $REPO_URL/token/token.sh, service: kedge-registry, issuer: kedge-test-issuer, rootcertbundle: $SRV/token.crt}"
registry2_pid=$registry_started
TOKEN=$("${CURL[@]}" "$REPO_URL/token/token.sh?service=kedge-registry&scope=repository:charts/coredns:pull,push" |
	sed 's/.*"token":"\([^"]*\)".*/\1/')
TCURL=(curl -sS --cacert "$SRV/ca.crt" -H "Authorization: Bearer $TOKEN")
tpush_blob() {
	local loc d
	loc=$("${TCURL[@]}" -X POST -D - -o /dev/null "https://$TREG/v2/$1/blobs/uploads/" |
		tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
	case $loc in /*) loc=https://$TREG$loc ;; esac
	d=sha256:$(sha "$2")
	case $loc in *\?*) loc="$loc&digest=$d" ;; *) loc="$loc?digest=$d" ;; esac
	"${TCURL[@]}" -X PUT -H 'Content-Type: application/octet-stream' --data-binary "@$2" \
		-o /dev/null -w '%{http_code}' "$loc"
}
CD=$W/repo/coredns-1.46.2.tgz
python3 -c 'import json,sys,yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))), end="")' \
	"$CHARTS/coredns/Chart.yaml" >"$SRV/cd-config.json"
is "$(tpush_blob charts/coredns "$SRV/cd-config.json")$(tpush_blob charts/coredns "$CD")" 201201 \
	"a chart is pushed to the token-auth registry with a token from the CGI token service"
cat >"$SRV/cd-manifest.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:$(sha "$SRV/cd-config.json")","size":$(stat -c %s "$SRV/cd-config.json")},
"layers":[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":"sha256:$(sha "$CD")","size":$(stat -c %s "$CD")}]}
EOF
is "$("${TCURL[@]}" -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
	--data-binary "@$SRV/cd-manifest.json" -o /dev/null -w '%{http_code}' \
	"https://$TREG/v2/charts/coredns/manifests/1.46.2")" 201 "...and its manifest"

printf '{"auths": {"%s": {"auth": "%s"}, "%s": {"auth": "%s"}}}\n' "$REG" "$(printf 'kedge:s3cret-registry-pw' | base64)" \
	"$TREG" "$(printf 'kedge:s3cret-registry-pw' | base64)" >"$TMP/auth.json"
printf '{"auths": {"%s": {"auth": "%s"}, "%s": {"auth": "%s"}}}\n' "$REG" "$(printf 'kedge:wrong-pw-123' | base64)" \
	"$TREG" "$(printf 'kedge:wrong-pw-123' | base64)" >"$TMP/bad-auth.json"

# --- the config repo --------------------------------------------------------------
R=$TMP/repo
mkdir -p "$R/sites" "$R/charts"
site() { printf 'name: %s\nlabels: {case: %s}\n' "$1" "$1" >"$R/sites/$1.yaml"; }
bundle() { # NAME CASE CHART-LINES...
	local n=$1 c=$2
	shift 2
	mkdir -p "$R/bundles/$n"
	{ printf '%s\n' "$@"; printf 'release: rel\nnamespace: default\ntargets: [{matchLabels: {case: %s}}]\n' "$c"; } \
		>"$R/bundles/$n/bundle.yaml"
}
for s in good bearer baddigest trunc e500 cut plain stale; do site "$s"; done
bundle dns good "chart: {repo: \"$REPO_URL/repo\", name: coredns, version: \"1.46.x\"}"
bundle metrics good "chart: oci://$REG/charts/metrics-server" 'version: "3.13.x"'
bundle prom good "chart: charts/prometheus"
bundle tokened bearer "chart: oci://$TREG/charts/coredns" 'version: 1.46.2'
bundle baddigest baddigest "chart: {repo: \"$REPO_URL/bad-digest\", name: coredns, version: 1.46.2}"
bundle trunc trunc "chart: {repo: \"$REPO_URL/trunc\", name: coredns, version: 1.46.2}"
bundle e500 e500 "chart: {repo: \"$REPO_URL/e500\", name: coredns, version: 1.46.2}"
bundle cut cut "chart: {repo: \"$REPO_URL/cut\", name: coredns}"
bundle plain plain "chart: {repo: \"http://localhost:$HTTP_PORT/repo\", name: coredns, version: 1.46.2}"
bundle stale stale "chart: charts/prom-stale"

# prometheus without its charts/: the dependencies come from the repository,
# at Chart.lock's versions; the lock's digest is recomputed for the new
# repository URLs as Helm's resolver.HashReq does
lockfix() { # DIR: repositories to $REPO_URL/repo, digest recomputed
	python3 - "$1" "$REPO_URL/repo" <<'EOF'
import hashlib, json, re, sys, yaml
d, url = sys.argv[1], sys.argv[2]
for f in ("Chart.yaml", "Chart.lock"):
    t = open(d + "/" + f).read()
    open(d + "/" + f, "w").write(t.replace("https://prometheus-community.github.io/helm-charts", url))
req = yaml.safe_load(open(d + "/Chart.yaml"))["dependencies"]
lock = yaml.safe_load(open(d + "/Chart.lock"))["dependencies"]
# Go's encoding/json of []*chart.Dependency: field order, omitempty
order = ["name", "version", "repository", "condition", "tags", "enabled", "import-values", "alias"]
go = lambda x: {k: x.get(k, "") for k in order if k in ("name", "repository") or x.get(k)}
s = json.dumps([[go(x) for x in req], [go(x) for x in lock]], separators=(",", ":"))
t = open(d + "/Chart.lock").read()
t = re.sub(r"digest: sha256:\w+", "digest: sha256:" + hashlib.sha256(s.encode()).hexdigest(), t)
open(d + "/Chart.lock", "w").write(t)
EOF
}
rsync -a --exclude charts "$CHARTS/prometheus/" "$R/charts/prometheus/"
lockfix "$R/charts/prometheus"
cp -r "$R/charts/prometheus" "$R/charts/prom-stale"
sed -i 's/version: "4.56.\*"/version: "4.57.*"/' "$R/charts/prom-stale/Chart.yaml"

STATE=$TMP/state
check() { run "$KEDGE" check --repo "$R" --registry-ca "$SRV/ca.crt" "$@"; }
render() { # SITE BUNDLE [AUTHFILE]
	run "$KEDGE" lua -e '
local site, charts = require "kedge.site", require "kedge.charts"
local dir, sname, bname, state, auth, ca = ...
local repo = assert(site.load(site.dir_tree(dir)))
local R = charts.new{state_dir = state, registry = {config = auth, ca_file = ca}}
for _, b in ipairs(assert(site.select(repo, sname))) do
	if b.name == bname then
		local ms, err = site.render(repo, sname, b, {charts = R, include_crds = false})
		if not ms then io.stderr:write(err, "\n") os.exit(1) end
		for _, m in ipairs(ms) do io.write("---\n# Source: ", m.source, "\n", m.text, "\n") end
	end
end' "$R" "$1" "$2" "${RSTATE:-$STATE}" "${3:-$TMP/auth.json}" "$SRV/ca.crt"
}
cached() { find "$STATE/cache/charts/sha256" -name '*.tgz' 2>/dev/null | wc -l; }

# --- fetch, render, compare ---------------------------------------------------------
render good dns
is "$rc" 0 "a chart from the Helm repository over TLS renders" 
is "$out" "$(cat "$CHARTS/golden/coredns.yaml")" "it renders as helm template does (golden coredns.yaml)"
render good metrics
is "$rc" 0 "a chart from the registry (basic auth) renders"
[ "$rc" = 0 ] || echo "# $err"
is "$out" "$(cat "$CHARTS/golden/metrics-server.yaml")" "byte for byte the golden metrics-server.yaml"
render good prom
is "$rc" 0 "a chart whose dependencies are not in charts/ renders"
[ "$rc" = 0 ] || echo "# $err"
is "$out" "$(cat "$CHARTS/golden/prometheus.yaml")" "with the dependencies Chart.lock pins (golden prometheus.yaml)"
ok "the lock's pin wins over a newer version in range (1.42.9 was never fetched)" \
	bash -c "! grep -q missing.tgz '$SRV/access.log'"
is "$(cached)" 6 "six archives are in the cache, by digest"
ok "the cache index maps each source to its digest" \
	grep -q "\"$REPO_URL/repo coredns 1.46.x\"" "$STATE/cache/charts/index.json"
ok "a cached archive is named by its sha256" \
	test -f "$STATE/cache/charts/sha256/$(sha "$SRV/ms.tgz").tgz"
check --site good --state-dir "$STATE" --registry-config "$TMP/auth.json"
is "$rc" 0 "kedge check fetches remote charts too"
like "$out" "dns 1\.46\.2 .*metrics 3\.13\.1 .*prom " "its line names the versions the ranges picked"
is "$(grep -c 'GET /repo/coredns-1.46.2.tgz' "$SRV/access.log")" 1 \
	"an archive whose digest the cache holds is not downloaded again (only index.yaml is read)"

render bearer tokened
is "$out" "$(cat "$CHARTS/golden/coredns.yaml")" "the bearer token flow: a token for the pull scope, then the chart (golden coredns.yaml)"
[ "$rc" = 0 ] || echo "# $err"
run "$KEDGE" check --repo "$R" --registry-ca "$SRV/ca.crt" --site bearer --registry-config "$TMP/bad-auth.json"
like "$err" "registry $TREG refused the credentials of kedge from .*bad-auth\.json \(token service answered 401\): bad credentials" \
	"the token service refusing the pair is named, without the password"

# --- bad input ------------------------------------------------------------------------
n=$(cached)
check --site baddigest --state-dir "$STATE"
like "$err" "bundles/baddigest/bundle.yaml:1:1: chart coredns 1\.46\.2 from $REPO_URL/bad-digest: .*coredns-1\.46\.2\.tgz: the archive's sha256 is [0-9a-f]{64}, the index says (ab){32}" \
	"a wrong digest in index.yaml is refused, naming both"
# an empty cache: the full archive of the same digest is in $STATE's
check --site trunc --state-dir "$TMP/state2"
like "$err" "trunc/coredns-1\.46\.2\.tgz: the archive's sha256 is [0-9a-f]{64}, the index says $(sha "$W/repo/coredns-1.46.2.tgz")" \
	"a truncated archive does not match its digest"
check --site e500 --state-dir "$STATE"
like "$err" "chart coredns 1\.46\.2 from $REPO_URL/e500 is not in the cache and the repository is unreachable: .*index\.yaml: the server answered 500" \
	"a 500 with nothing cached names what is missing"
check --site cut --state-dir "$STATE"
like "$err" "chart coredns \(latest\) from $REPO_URL/cut is not in the cache and the repository is unreachable: .*(cut short|closed|truncated|before)" \
	"a body cut short mid-way is an error, not a short chart"
is "$(cached)" "$n" "the cache is untouched by all of these"

check --site good --registry-config "$TMP/bad-auth.json"
like "$err" "$REG refused the credentials of kedge from .*bad-auth\.json \(401\)" "wrong credentials are named by user and file"
ok "neither the password nor its base64 pair is shown" bash -c "! printf '%s' \"\$1\" | grep -q -e wrong-pw-123 -e '$(printf 'kedge:wrong-pw-123' | base64)'" _ "$err$out"
check --site good --registry-config "$TMP/none.json"
like "$err" "registry credentials .*none\.json" "a named credentials file that is missing is an error"
printf '{"auths": {}}\n' >"$TMP/empty.json"
check --site good --registry-config "$TMP/empty.json"
like "$err" "$REG asks for credentials and .*empty\.json has none for it \(--registry-config FILE\)" \
	"no credentials for an authenticating registry says where to give them"
REGISTRY_AUTH_FILE=$TMP/auth.json run "$KEDGE" check --repo "$R" --registry-ca "$SRV/ca.crt" --site good
is "$rc" 0 "\$REGISTRY_AUTH_FILE is the default credentials file"

check --site plain
like "$err" "http://localhost:$HTTP_PORT/repo/index\.yaml is plain HTTP: allowed only for 127\.0\.0\.0/8 or with --insecure-registry localhost:$HTTP_PORT" \
	"plain HTTP to a host that is not 127.0.0.0/8 is refused"
check --site plain --insecure-registry "localhost:$HTTP_PORT"
is "$rc" 0 "...and allowed with --insecure-registry HOST:PORT"
check --site stale --state-dir "$STATE"
like "$err" "chart charts/prom-stale: the lock file \(Chart\.lock\) is out of sync with the dependencies file \(Chart\.yaml\)" \
	"a Chart.lock that does not match Chart.yaml is refused, as helm dependency build does"

# the registry serves a blob whose bytes are not its digest
blob=$(find "$SRV/registry" -path "*/blobs/sha256/*/$(sha "$SRV/ms.tgz")/data")
printf 'x' >>"$blob"
# (a cache holding the layer's digest would not ask for it: an empty one)
RSTATE=$TMP/state3 render good metrics "$TMP/auth.json"
like "$err" "oci://$REG/charts/metrics-server@sha256:$(sha "$SRV/ms.tgz"): .*(digest|bytes arrived)" \
	"a registry answering a corrupted blob is refused (served from the cache only when unreachable)"

# --- offline: everything from the cache -------------------------------------------------------
kill "$lighttpd_pid" "$registry_pid"
wait "$lighttpd_pid" "$registry_pid" 2>/dev/null
lighttpd_pid= registry_pid=
render good dns
is "$out" "$(cat "$CHARTS/golden/coredns.yaml")" "offline, the Helm repository's chart renders from the cache"
like "$err" "unreachable: using the cached archive" "...saying so"
render good metrics
is "$out" "$(cat "$CHARTS/golden/metrics-server.yaml")" "offline, the registry's chart renders from the cache"
render good prom
is "$out" "$(cat "$CHARTS/golden/prometheus.yaml")" "offline, the dependencies come from the cache"
check --site good
like "$err" "chart coredns 1\.46\.x from $REPO_URL/repo is not in the cache and the repository is unreachable: " \
	"without the state directory's cache, an offline check names what is missing"
rm -f "$STATE"/cache/charts/sha256/"$(sha "$SRV/ms.tgz")".tgz
render good metrics
like "$err" "chart oci://$REG/charts/metrics-server 3\.13\.x is not in the cache and the repository is unreachable: " \
	"a cache that lost an archive names it"

done_testing

# kedge sync over HTTPS against lighttpd running `git http-backend` as CGI
# on 127.0.0.1 with a throwaway CA: clone, a no-op poll that transfers no
# objects, fetch after a push, token and basic auth, refused certificates
# (unknown CA, expired), and broken servers (truncated and corrupted packs,
# the server killed halfway through a fetch).
. tests/lib.sh
for tool in lighttpd openssl perl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool is not installed (./build.sh test installs it)"
		exit 0
	fi
done
. tests/gitlib.sh

SRV=$TMP/srv
S=$TMP/state
ok "a throwaway CA and server certificates" make_ca "$SRV"
start_git_http "$SRV"
W=$TMP/work
ok "a config repo served over HTTPS" new_repo "$W"
mv "$W.git" "$SRV/repos/site.git" && git -C "$W" remote set-url origin "$SRV/repos/site.git"
mkdir -p "$SRV/repos/private" && git clone -q --bare "$SRV/repos/site.git" "$SRV/repos/private/site.git"
c1=$(head_of "$W")
sync() { run "$KEDGE" sync --ca-file "$SRV/ca.crt" --state "$S" "$@"; }
posts() { grep -c '^POST ' "$SRV/requests.log"; }

sync --repo "$GOOD_URL/site.git" --ref main
is "$rc" 0 "clone over https://127.0.0.1 (IP SAN checked by kedge)"
is "$out" "$c1 $S/rev/$c1" "the commit is checked out"
is "$(cat "$S/rev/$c1/kedge.yaml")" "defaults: {}" "with its files"

before=$(posts)
gets=$(grep -c '^GET /site.git/info/refs' "$SRV/requests.log")
sync --repo "$GOOD_URL/site.git" --ref main
is "$rc" 0 "a no-op poll succeeds"
like "$err" "unchanged, 0 objects fetched" "and reports no objects"
is "$(posts)" "$before" "it sends no upload-pack request (no object transfer)"
is "$(grep -c '^GET /site.git/info/refs' "$SRV/requests.log")" "$((gets + 1))" "only one ref advertisement"

ok "a push" commit_file "$W" bundles/web/values.yaml "replicas: 2"
c2=$(head_of "$W")
sync --repo "$GOOD_URL/site.git" --ref main
is "$out" "$c2 $S/rev/$c2" "fetch after a push moves to the new commit"
like "$err" "now current, [1-9][0-9]* objects fetched" "transferring the new objects only"
is "$(cat "$S/rev/$c2/bundles/web/values.yaml")" "replicas: 2" "the new file is there"

ok "another push" commit_file "$W" bundles/web/bundle.yaml "chart: charts/web"
sync --repo "$GOOD_URL/site.git" --ref main --progress
like "$err" "kedge sync: objects [0-9]+/[0-9]+, [0-9.]+ MiB" "--progress shows the transfer on stderr"
sync --repo "https://localhost:$GOOD_PORT/git/site.git" --ref main
is "$rc" 0 "https://localhost verifies through the DNS SAN"

run "$KEDGE" lua -e 'local git = require "kedge.git"
local url, ca, st = ...
print(git.sync{repo = url, ref = "main", state = st, ca_file = ca} ~= nil)
local r, err = git.sync{repo = url, ref = "main", state = st}
print(r, err and err:match("unknown CA") ~= nil)
print(git.sync{repo = url, ref = "main", state = st, ca_file = ca}.commit ~= nil)' "$GOOD_URL/site.git" "$SRV/ca.crt" "$TMP/luastate"
is "$out" "true
nil	true
true" "kedge.git over HTTPS: a CA file holds for its own sync only"

# --- authentication --------------------------------------------------------
P=$TMP/pstate
echo s3cret >"$TMP/token"
run "$KEDGE" sync --ca-file "$SRV/ca.crt" --state "$TMP/moved" --repo "https://127.0.0.1:$GOOD_PORT/moved/site.git" --ref main
is "$rc" 0 "a redirect of the first request to another host is followed"
run "$KEDGE" sync --ca-file "$SRV/ca.crt" --state "$TMP/moved" --repo "https://127.0.0.1:$GOOD_PORT/moved/private/site.git" --ref main --token-file "$TMP/token"
is "$rc" 1 "with a token, redirects to another host are not followed"
like "$err" "redirects to another host \(cannot redirect from .127\.0\.0\.1. to .localhost.\); kedge sends credentials only to the host named, so give the final URL" "saying where and what to do"
run "$KEDGE" sync --ca-file "$SRV/ca.crt" --state "$P" --repo "$GOOD_URL/private/site.git" --ref main
is "$rc" 1 "a private repo without credentials fails"
like "$err" "asks for authentication \(HTTP 401\): give --token-file" "saying what to give"
run "$KEDGE" sync --ca-file "$SRV/ca.crt" --state "$P" --repo "$GOOD_URL/private/site.git" --ref main --token-file "$TMP/token"
is "$rc" 0 "a bearer token from --token-file"
echo wrong >"$TMP/badtoken"
run "$KEDGE" sync --ca-file "$SRV/ca.crt" --state "$P" --repo "$GOOD_URL/private/site.git" --ref main --token-file "$TMP/badtoken"
is "$rc" 1 "a wrong token fails"
like "$err" "refused the token \(HTTP 401\)" "auth refused"
KEDGE_GIT_TOKEN=s3cret run "$KEDGE" sync --ca-file "$SRV/ca.crt" --state "$P" --repo "$GOOD_URL/private/site.git" --ref main
is "$rc" 0 "a token from KEDGE_GIT_TOKEN"
run "$KEDGE" lua -e 'local git = require "kedge.git"
local url, ca, st, tok = ...
print(git.sync{repo = url, ref = "main", state = st, ca_file = ca, token_file = tok}.commit ~= nil)
print(git.sync{repo = url, ref = "main", state = st, ca_file = ca, token_file = tok .. ".none"})' \
	"$GOOD_URL/private/site.git" "$SRV/ca.crt" "$TMP/luapstate" "$TMP/token"
is "$out" "true
nil	cannot read $TMP/token.none: No such file or directory" "kedge.git: token_file, and a missing one"
echo pa55 >"$TMP/password"
run "$KEDGE" sync --ca-file "$SRV/ca.crt" --state "$P" --repo "$GOOD_URL/private/site.git" --ref main --username kedge --password-file "$TMP/password"
is "$rc" 0 "basic auth with --username and --password-file"
echo nope >"$TMP/badpass"
run "$KEDGE" sync --ca-file "$SRV/ca.crt" --state "$P" --repo "$GOOD_URL/private/site.git" --ref main --username kedge --password-file "$TMP/badpass"
is "$rc" 1 "a wrong password fails"
like "$err" "refused the credentials" "auth refused"

# --- certificates ------------------------------------------------------------
run "$KEDGE" sync --ca-file "$SRV/otherca.crt" --state "$TMP/x" --repo "$GOOD_URL/site.git" --ref main
is "$rc" 1 "a server certificate from another CA is refused"
like "$err" "subject \"CN=kedge test good\", issuer \"CN=kedge test ca\"\) is not signed by a CA in .*otherca.crt: unknown CA" \
	"naming subject and issuer"
run "$KEDGE" sync --state "$TMP/x" --repo "$GOOD_URL/site.git" --ref main
like "$err" "ca-certificates.crt: unknown CA" "the system bundle is the default"
run "$KEDGE" sync --ca-file "$SRV/ca.crt" --state "$TMP/x" --repo "$EXPIRED_URL/site.git" --ref main
is "$rc" 1 "an expired certificate is refused"
like "$err" "expired on 2020-01-02T00:00:00Z" "saying when it expired"
ok "a refused server leaves no served tree" test ! -e "$TMP/x/current"
run "$KEDGE" sync --ca-file "$SRV/ca.crt" --state "$S" --repo "$GOOD_URL/nothere.git" --ref main
is "$rc" 1 "a missing repository fails"
like "$err" "repository not found: .*nothere.git" "repo not found"

# --- broken servers ------------------------------------------------------------
free_port
nc -l 127.0.0.1 "$port" >/dev/null 2>&1 </dev/null &
server_pids+=($!)
wait_listening "$port"
start=$SECONDS
run "$KEDGE" sync --ca-file "$SRV/ca.crt" --state "$S" --repo "https://127.0.0.1:$port/git/site.git" --ref main --timeout 2
is "$rc" 1 "a server that never answers fails after --timeout"
like "$err" "timed out \(--timeout\); the state stays as it was" "saying so"
ok "within a few seconds" test $((SECONDS - start)) -le 6
is "$(readlink "$S/current")" "rev/$(head_of "$W")" "the served commit stays"
c2b=$(head_of "$W")
head -c 300000 /dev/urandom >"$W/blob.bin"
git -C "$W" add -A && git -C "$W" commit -q -m "a big file" && git -C "$W" push -q origin HEAD:main
c3=$(head_of "$W")
for mode in truncate corrupt; do
	echo "$mode" >"$SRV/mode"
	sync --repo "$GOOD_URL/site.git" --ref main
	is "$rc" 1 "a $mode pack fails the sync"
	is "$(readlink "$S/current")" "rev/$c2b" "and the last commit stays current ($mode)"
	rm -f "$SRV/mode"
done
echo kill >"$SRV/mode"
sync --repo "$GOOD_URL/site.git" --ref main
is "$rc" 1 "a server killed halfway through the fetch fails the sync"
like "$err" "fetching https://127.0.0.1:$GOOD_PORT/git/site.git failed" "naming the repo"
is "$(readlink "$S/current")" "rev/$c2b" "the last commit stays current"
rm -f "$SRV/mode"
restart_git_http "$SRV"
sync --repo "$GOOD_URL/site.git" --ref main
is "$out" "$c3 $S/rev/$c3" "once the server is back, the next sync gets the new commit"
is "$(cmp "$W/blob.bin" "$S/rev/$c3/blob.bin" && echo same)" same "intact"

# --- git.remote_head: the agent's cheap check, one ref advertisement ---
before=$(posts)
gets=$(grep -c '^GET /site.git/info/refs' "$SRV/requests.log")
head_lua='local git = require "kedge.git"
local url, ca, st, tok = ...
local h, err = git.remote_head{repo = url, ref = "main", state = st, ca_file = ca,
  token_file = tok ~= "" and tok or nil}
if not h then print("error: " .. err) return end
print(h.commit, h.current, h.changed, h.ref)'
run "$KEDGE" lua -e "$head_lua" "$GOOD_URL/site.git" "$SRV/ca.crt" "$S" ""
is "$out" "$c3	$c3	false	refs/heads/main" "remote_head: the ref's commit, what is served, unchanged"
is "$(posts)" "$before" "with no upload-pack request"
is "$(grep -c '^GET /site.git/info/refs' "$SRV/requests.log")" "$((gets + 1))" "and one ref advertisement"
ok "a push" commit_file "$W" head.txt "moved"
run "$KEDGE" lua -e "$head_lua" "$GOOD_URL/site.git" "$SRV/ca.crt" "$S" ""
is "$out" "$(head_of "$W")	$c3	true	refs/heads/main" "remote_head sees the ref move before any fetch"
is "$(readlink "$S/current")" "rev/$c3" "and changes nothing in the state directory"
run "$KEDGE" lua -e "$head_lua" "$GOOD_URL/private/site.git" "$SRV/ca.crt" "$S" ""
like "$out" "error: .*401" "remote_head on a private repo without credentials fails"
run "$KEDGE" lua -e "$head_lua" "$GOOD_URL/private/site.git" "$SRV/ca.crt" "$S" "$TMP/token"
like "$out" "^[0-9a-f]{40}	" "and answers with the token"
run "$KEDGE" lua -e "$head_lua" "$EXPIRED_URL/site.git" "$SRV/ca.crt" "$S" ""
like "$out" "error: .*expired" "an expired certificate is refused"

done_testing

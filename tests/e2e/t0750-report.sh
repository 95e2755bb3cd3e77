# kedge.report delivery against real servers on 127.0.0.1: an HTTPS
# webhook receiver (tests/servers/webhook.py) that is down, then up (the
# report waits in the outbox and arrives exactly once by id), refuses a
# wrong token, answers 503 or not at all, has an unknown CA; a status branch
# pushed to `git http-backend` behind lighttpd with TLS and a bearer token
# (one commit per report, a concurrent writer handled by refetching, the
# config repo's main untouched), to another repo with its own token or basic
# auth, and over SSH; a directory. No secret appears in a report, a pushed
# file, a request body or a log line.
. tests/lib.sh
for tool in lighttpd openssl perl python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool is not installed (./build.sh test installs it)"
		exit 0
	fi
done
. tests/gitlib.sh

SRV=$TMP/srv
S=$TMP/state
HOOK=$TMP/hook
ok "a throwaway CA and server certificates" make_ca "$SRV"
start_git_http "$SRV"
W=$TMP/work
ok "a config repo served over HTTPS" new_repo "$W"
mkdir -p "$SRV/repos/private"
mv "$W.git" "$SRV/repos/private/site.git"
git -C "$SRV/repos/private/site.git" config http.receivepack true
main_before=$(git -C "$SRV/repos/private/site.git" rev-parse main)
REPO=$GOOD_URL/private/site.git
echo s3cret >"$TMP/token"
echo hook-token-0123 >"$TMP/hook.token"
mkdir -p "$HOOK"

# drive: kedge.report from a small Lua script
#   new RESULT          -> prints the new report's id (written to the outbox)
#   deliver DESTS_JSON  -> prints "delivered failed pending" then the errors
cat >"$TMP/drive.lua" <<'EOF'
local report = require "kedge.report"
local json = require "kedge.json"
local cmd, state, a, repo, ca, token = ...
if cmd == "new" then
  local r = report.new{site = "berlin-01", repo = repo:gsub("^https://", "https://kedge:pa55word@"),
    commit = "0123456789abcdef0123456789abcdef01234567", signature = "verified"}
  report.add_bundle(r, {name = "web", chart = "charts/web", version = "1.0.0", status = "ok",
    created = 2, updated = 0, unchanged = 1, pruned = 0,
    smoke = {{name = "answers", kind = "http", status = a == "ok" and "passed" or "failed", duration = 0.5,
      message = a == "ok" and "HTTP 200" or "HTTP 503", output = "GET https://probe:pr0be-pass@10.0.0.5/"}}})
  report.finish(r, a)
  assert(report.outbox_write(state, r))
  print(r.id)
else
  local s = assert(report.deliver(state, json.decode(a), {git = {repo = repo, ca_file = ca, token_file = token}}))
  print(s.delivered .. " " .. #s.failed .. " " .. s.pending)
  for _, f in ipairs(s.failed) do print(f.destination .. ": " .. f.error) end
end
EOF
drive() { run "$KEDGE" lua "$TMP/drive.lua" "$@" "$REPO" "$SRV/ca.crt" "$TMP/token"; }
logs=""
deliver() { drive deliver "$S" "$1"; logs+="$err"; }
outbox_json() { (cd "$S/outbox" && ls -- *.json 2>/dev/null | grep -c .); }

# --- webhook -----------------------------------------------------------------
free_port
WH_PORT=$port
WH="[{\"webhook\": \"https://127.0.0.1:$WH_PORT/reports\", \"token-file\": \"$TMP/hook.token\", \"ca-file\": \"$SRV/ca.crt\"}]"
drive new "$S" smoke-failed
id1=$out
like "$id1" "^berlin-01-[0-9]{8}T[0-9]{6}Z-0123456-[0-9a-f]{8}$" "a report in the outbox"
deliver "$WH"
is "$(head -n1 <<<"$out")" "0 1 1" "webhook down: not delivered, still pending"
like "$out" "webhook https://127.0.0.1:$WH_PORT/reports: .*(refused|connect)" "the failure names the webhook"
is "$(outbox_json)" 1 "the report stays in the outbox"

python3 tests/servers/webhook.py "$WH_PORT" "$SRV/good.crt" "$SRV/good.key" "$TMP/hook.token" "$HOOK" 2>"$HOOK.stderr" &
server_pids+=($!)
wait_listening "$WH_PORT"
deliver "$WH"
is "$(head -n1 <<<"$out")" "1 0 0" "webhook up: delivered on the next pass"
is "$(cat "$HOOK/ids")" "$id1" "the receiver got it once, by its id"
is "$(outbox_json)" 0 "the outbox is empty"
is "$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["id"], d["result"], d["junit"][:5])' "$HOOK/$id1.json")" \
	"$id1 smoke-failed <?xml" "the body is the report with its JUnit XML"
deliver "$WH"
is "$(head -n1 <<<"$out")" "0 0 0" "a second pass delivers nothing"
is "$(grep -c . "$HOOK/ids")" 1 "still exactly once"

drive new "$S" ok
id2=$out
echo wrong >"$TMP/bad.token"
deliver "${WH//hook.token/bad.token}"
is "$(head -n1 <<<"$out")" "0 1 1" "a wrong token is a failure"
like "$out" "HTTP 401" "naming the status"
echo 503 >"$HOOK/status"
deliver "$WH"
like "$out" "HTTP 503" "a 5xx is a failure"
rm "$HOOK/status"
touch "$HOOK/hang"
start=$(date +%s)
deliver "[{\"webhook\": \"https://127.0.0.1:$WH_PORT/reports\", \"token-file\": \"$TMP/hook.token\", \"ca-file\": \"$SRV/ca.crt\", \"timeout\": 1}]"
is "$(head -n1 <<<"$out")" "0 1 1" "a webhook that does not answer within timeout: a failure"
like "$(($(date +%s) - start))" "^[1-4]$" "after about the timeout"
rm "$HOOK/hang"
deliver "[{\"webhook\": \"https://127.0.0.1:$WH_PORT/reports\", \"token-file\": \"$TMP/hook.token\"}]"
like "$out" "unknown CA|certificate|verif" "a server signed by an unknown CA is refused"
is "$(grep -c . "$HOOK/ids")" 1 "none of these was accepted"
deliver "$WH"
is "$(head -n1 <<<"$out")" "1 0 0" "then delivered"
is "$(tail -n1 "$HOOK/ids")" "$id2" "the pending report, once"
like "$(grep -c "X-Kedge-Report-Id: $id2" "$HOOK/requests")" "^[1-9]" "every attempt carried the same id"
like "$(grep "Idempotency-Key: $id2" "$HOOK/requests" | head -n1)" "Idempotency-Key" "as the Idempotency-Key too"

# --- git-branch ----------------------------------------------------------------
GB='[{"git-branch": "kedge/status/berlin-01"}]'
BR=kedge/status/berlin-01
bare=$SRV/repos/private/site.git
drive new "$S" ok
id3=$out
deliver "$GB"
is "$(head -n1 <<<"$out")" "1 0 0" "status branch: pushed over HTTPS with the config repo's token"
is "$(git -C "$bare" log --format=%s "$BR")" "kedge report $id3: berlin-01 ok at 0123456789ab" "one commit, the branch starts with it"
is "$(git -C "$bare" ls-tree -r --name-only "$BR" | tr '\n' ' ')" "reports/$id3.json reports/$id3.junit.xml " "holding the report and its JUnit XML"
is "$(git -C "$bare" show "$BR:reports/$id3.json")" "$(cat "$S/reports/$id3.json")" "the same bytes as the outbox"
is "$(git -C "$bare" rev-parse main)" "$main_before" "the config repo's main is untouched"

drive new "$S" smoke-failed
id4=$out
deliver "$GB"
is "$(git -C "$bare" rev-list --count "$BR")" 2 "a second report: a second commit on top"
is "$(git -C "$bare" ls-tree -r --name-only "$BR" | grep -c json)" 2 "both reports on the branch"

# a concurrent writer moves the branch while kedge pushes: the pre-receive
# hook moves it once (like another push landing first), the server refuses
# kedge's update, kedge fetches the new tip and commits on top of it
other=$(git -C "$bare" commit-tree -p "$BR" -m "someone else" "$BR^{tree}")
git -C "$bare" update-ref refs/heads/other "$other"
cat >"$bare/hooks/pre-receive" <<EOF
#!/bin/sh
cat >/dev/null
if [ ! -e "$TMP/moved" ]; then
	touch "$TMP/moved"
	env -u GIT_QUARANTINE_PATH git update-ref refs/heads/$BR $other
fi
EOF
chmod +x "$bare/hooks/pre-receive"
drive new "$S" ok
id5=$out
deliver "$GB"
is "$(head -n1 <<<"$out")" "1 0 0" "delivered although the branch moved meanwhile"
like "$logs" "the server refused the push \(refs/heads/$BR: failed to update ref\); fetching $BR again" "after refetching (logged)"
is "$(git -C "$bare" log --format=%s -n2 "$BR" | tr '\n' '|')" "kedge report $id5: berlin-01 ok at 0123456789ab|someone else|" "on top of the other writer's commit"
rm "$bare/hooks/pre-receive"

# a refusal for good ends after the bounded retries, the report waits
printf '#!/bin/sh\ncat >/dev/null\necho protected >&2\nexit 1\n' >"$bare/hooks/pre-receive"
chmod +x "$bare/hooks/pre-receive"
drive new "$S" ok
id6=$out
deliver '[{"git-branch": "kedge/status/berlin-01", "attempts": 2}]'
is "$(head -n1 <<<"$out")" "0 1 1" "a branch the server refuses: not delivered"
like "$out" "refused 2 pushes to kedge/status/berlin-01, the last: .*pre-receive hook declined" "after 2 rounds, with the server's reason"
rm "$bare/hooks/pre-receive"
deliver "$GB"
is "$(head -n1 <<<"$out")" "1 0 0" "delivered on the next pass"
is "$(git -C "$bare" log --format=%s "$BR" | grep -c "$id6")" 1 "once"

# at least once: a lost marker sends again, but the tip already holds the
# same file, so no second commit
count=$(git -C "$bare" rev-list --count "$BR")
cp "$S/reports/$id6.json" "$S/outbox/$id6.json"
deliver "$GB"
is "$(head -n1 <<<"$out")" "1 0 0" "a report delivered again (marker lost)"
is "$(git -C "$bare" rev-list --count "$BR")" "$count" "adds no commit: the branch holds it already"

run "$KEDGE" lua -e 'local git = require "kedge.git"
print(git.push{repo = ..., branch = "kedge/status/x", work = select(2, ...), files = {["a"] = "b"}, ca_file = select(3, ...)})' \
	"$REPO" "$TMP/w2.git" "$SRV/ca.crt"
like "$out" "nil.*refused authentication|asks for authentication" "git.push without the token is refused"
drive new "$TMP/other-state" ok
deliver_other() { run "$KEDGE" lua "$TMP/drive.lua" deliver "$TMP/other-state" "$1" "$GOOD_URL/private/site.git" "$SRV/ca.crt" "$TMP/bad.token"; }
deliver_other "[{\"git-branch\": \"kedge/status/berlin-01\", \"repo\": \"$GOOD_URL/private/site.git\", \"token-file\": \"$TMP/bad.token\", \"ca-file\": \"$SRV/ca.crt\"}]"
is "$(head -n1 <<<"$out")" "0 1 1" "another repo with its own (wrong) token: not delivered"
deliver_other "[{\"git-branch\": \"kedge/status/berlin-01\", \"repo\": \"$GOOD_URL/private/site.git\", \"token-file\": \"$TMP/token\", \"ca-file\": \"$SRV/ca.crt\"}]"
is "$(head -n1 <<<"$out")" "1 0 0" "with its own token: delivered"
echo pa55 >"$TMP/password"
drive new "$TMP/other-state" ok
deliver_other "[{\"git-branch\": \"kedge/status/berlin-01\", \"repo\": \"$GOOD_URL/private/site.git\", \"username\": \"kedge\", \"password-file\": \"$TMP/password\", \"ca-file\": \"$SRV/ca.crt\"}]"
is "$(head -n1 <<<"$out")" "1 0 0" "with basic auth (user name and password file): delivered"
logs+="$err"

# --- git-branch over SSH (libssh2, a pinned host key, an ECDSA user key) -----
if [ -x /usr/sbin/sshd ] && command -v ssh-keygen >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	D=$TMP/sshd
	mkdir -p "$D" /run/sshd
	ssh-keygen -q -t ecdsa -b 256 -N '' -f "$D/host" -C host
	ssh-keygen -q -t ecdsa -b 256 -N '' -f "$D/other" -C other
	ssh-keygen -q -t ecdsa -b 256 -N '' -f "$D/user" -C user
	cp "$D/user.pub" "$D/authorized_keys"
	free_port
	SSH_PORT=$port
	printf '%s\n' "Port $SSH_PORT" "ListenAddress 127.0.0.1" "HostKey $D/host" \
		"PidFile $D/sshd.pid" "AuthorizedKeysFile $D/authorized_keys" "AllowUsers $(id -un)" \
		"PermitRootLogin prohibit-password" "StrictModes no" "PasswordAuthentication no" \
		"KbdInteractiveAuthentication no" "UsePAM no" >"$D/sshd_config"
	/usr/sbin/sshd -D -e -f "$D/sshd_config" 2>"$D/sshd.log" &
	server_pids+=($!)
	wait_listening "$SSH_PORT"
	printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$D/host.pub")" >"$D/known_hosts"
	printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$D/other.pub")" >"$D/wrong_known_hosts"
	git init -q --bare "$TMP/status.git"
	SSH_URL="ssh://$(id -un)@127.0.0.1:$SSH_PORT$TMP/status.git"
	drive new "$TMP/ssh-state" ok
	ssh_id=$out
	run "$KEDGE" lua "$TMP/drive.lua" deliver "$TMP/ssh-state" \
		"[{\"git-branch\": true, \"repo\": \"$SSH_URL\", \"ssh-key\": \"$D/user\", \"known-hosts\": \"$D/known_hosts\"}]" \
		"$REPO" "$SRV/ca.crt" "$TMP/token"
	is "$(head -n1 <<<"$out")" "1 0 0" "git-branch over SSH to another repo, with its own key"
	is "$(git -C "$TMP/status.git" ls-tree -r --name-only kedge/status/berlin-01 | head -n1)" "reports/$ssh_id.json" \
		"git-branch: true is kedge/status/<site>"
	run "$KEDGE" lua -e 'local git = require "kedge.git"
local url, work, key, kh = ...
print(git.push{repo = url, branch = "kedge/status/x", work = work, files = {a = "b"}, ssh_key = key, known_hosts = kh})' \
		"$SSH_URL" "$TMP/sshwork.git" "$D/user" "$D/wrong_known_hosts"
	like "$out" "^nil.*host key" "a host key that does not match known_hosts is refused"
else
	tap_report 0 "git-branch over SSH # SKIP needs root and openssh-server"
fi

# --- dir -------------------------------------------------------------------------
drive new "$S" ok
id7=$out
deliver "[{\"dir\": \"$TMP/usb\"}]"
is "$(head -n1 <<<"$out")" "0 1 1" "dir: a missing stick is a failure"
mkdir "$TMP/usb"
deliver "[{\"dir\": \"$TMP/usb\"}]"
is "$(head -n1 <<<"$out")" "1 0 0" "dir: delivered when the stick is there"
is "$(cat "$TMP/usb/kedge-reports/berlin-01/$id7.json")" "$(cat "$S/reports/$id7.json")" "the report on the stick"
is "$(ls -A "$TMP/usb/kedge-reports/berlin-01" | tr '\n' ' ')" "$id7.json $id7.junit.xml " "with its JUnit XML, no temp files"

# --- secrets ---------------------------------------------------------------------
everything=$(cat "$S"/reports/* "$HOOK"/*.json; git -C "$bare" log -p "$BR"; cat "$TMP"/usb/kedge-reports/berlin-01/*)
for secret in pa55 pr0be-pass s3cret hook-token-0123; do
	is "$(grep -c -- "$secret" <<<"$everything$logs")" 0 "no '$secret' in reports, pushes, files or logs"
done
like "$(grep -c "Authorization: Bearer hook-token-0123" "$HOOK/requests")" "^[1-9]" "(the webhook token went in the header)"
like "$(cat "$S/reports/$id1.json")" "\"repo\": \"$GOOD_URL/private/site.git\"" "the repo URL without its userinfo"

done_testing

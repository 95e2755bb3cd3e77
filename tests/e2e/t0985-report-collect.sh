# kedge report collect DIR: the reports a node left on a stick
# (DIR/reports/SITE/, made here by kedge.report as a pass makes them and
# laid out as kedge bootstrap writes them) go back upstream to each site's
# destinations: the status branch of a real bare config repo (kedge.git's
# push) and an HTTPS webhook receiver (tests/servers/webhook.py) with a
# bearer token. Each report arrives once: a second collect delivers nothing
# and says so; bootstrap's report.json goes by its id, its bootstrap.json
# is left alone. A file that is not JSON, a report of another site, a
# folder of a site the repo lacks and a site without an upstream
# destination are named and skipped; a webhook that answers 503 keeps its
# report for the next collect (exit 23).
. tests/lib.sh
for tool in openssl python3 git; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool is not installed (./build.sh test installs it)"
		exit 0
	fi
done
. tests/gitlib.sh

SRV=$TMP/srv
HOOK=$TMP/hook
STICK=$TMP/stick
mkdir -p "$HOOK" "$STICK"
ok "a throwaway CA and a server certificate" make_ca "$SRV"
echo hook-token-0123 >"$TMP/hook.token"
free_port
WH_PORT=$port

# --- the config repo: berlin reports to its status branch and the
# webhook, paris to a named status branch, oslo only to a dir ---------------
W=$TMP/work
git init -q --bare "$W.git"
git init -q "$W"
mkdir -p "$W/sites"
cat >"$W/sites/berlin.yaml" <<EOF
name: berlin
report:
  - git-branch: true
  - webhook: https://127.0.0.1:$WH_PORT/reports
    token-file: $TMP/hook.token
    ca-file: $SRV/ca.crt
  - dir: /media/usb
EOF
printf 'name: paris\nreport:\n  - git-branch: kedge/status/paris\n' >"$W/sites/paris.yaml"
printf 'name: oslo\nreport:\n  - dir: /media/usb\n' >"$W/sites/oslo.yaml"
git -C "$W" add -A && git -C "$W" commit -q -m sites && git -C "$W" push -q "$W.git" HEAD:main
REPO=$W.git
main_before=$(git -C "$REPO" rev-parse main)

# mkreport SITE RESULT: a finished report in $TMP/out-SITE's outbox (with a
# JUnit file), copied onto the stick as bootstrap does; prints its id
cat >"$TMP/mk.lua" <<'EOF'
local report = require "kedge.report"
local site, result, state = ...
local r = report.new{site = site, commit = "0123456789abcdef0123456789abcdef01234567", signature = "verified"}
report.add_bundle(r, {name = "web", status = "ok", created = 1, updated = 0, unchanged = 0, pruned = 0,
  smoke = {{name = "answers", kind = "http", status = "passed", duration = 0.1, message = "HTTP 200"}}})
report.finish(r, result)
assert(report.outbox_write(state, r))
print(r.id)
EOF
mkreport() {
	local id
	id=$("$KEDGE" lua "$TMP/mk.lua" "$1" "$2" "$TMP/out-$1") || return 1
	mkdir -p "$STICK/reports/$1"
	cp "$TMP/out-$1/outbox/$id.json" "$TMP/out-$1/outbox/$id.junit.xml" "$STICK/reports/$1/"
	echo "$id"
}
b1=$(mkreport berlin ok)
b2=$(mkreport berlin smoke-failed)
p1=$(mkreport paris ok)
like "$b1 $b2 $p1" "^berlin-[0-9T]+Z-0123456-[0-9a-f]{8} berlin-.* paris-" "three reports on the stick"

collect() { run "$KEDGE" report collect "$STICK" --repo "$REPO" --state-dir "$TMP/state" "$@"; }
branch_count() { git -C "$REPO" rev-list --count "$1" 2>/dev/null || echo 0; }

# --- usage --------------------------------------------------------------------
run "$KEDGE" report collect
is "$rc" 2 "collect without DIR: a usage error"
like "$err" "collect takes one folder" "saying what it wants"
run "$KEDGE" report collect "$TMP/nothere" --repo "$REPO" --state-dir "$TMP/state"
is "$rc" 1 "a DIR that is not there fails"
like "$err" "nothere is not a folder \\(is the stick mounted\\?\\)" "naming it"
mkdir "$TMP/empty"
run "$KEDGE" report collect "$TMP/empty" --repo "$REPO" --state-dir "$TMP/state"
is "$rc" 1 "a folder without reports/ fails"
like "$err" "empty/reports is not there: DIR must be a stick" "saying what a stick holds"

# --- the webhook down at first: the status branches get theirs -------------
collect
is "$rc" 23 "webhook down: exit 23, kept for the next collect"
like "$out" "berlin: 2 reports, 2 deliveries, 0 delivered before, 2 pending" "berlin: its branch got both"
like "$out" "paris: 1 report, 1 delivery, 0 delivered before, 0 pending" "paris: delivered"
like "$err" "to webhook https://127.0.0.1:$WH_PORT/reports: .*(refused|connect)" "the webhook's failure is named"
is "$(branch_count kedge/status/berlin)" 2 "berlin's status branch: one commit per report"
is "$(branch_count kedge/status/paris)" 1 "paris's named status branch: its report"
run git -C "$REPO" show "kedge/status/berlin:reports/$b1.json"
like "$out" "\"id\": \"$b1\"" "the branch holds the report as the stick had it"
run git -C "$REPO" show "kedge/status/berlin:reports/$b2.junit.xml"
like "$out" "<testsuites name=\"kedge berlin $b2\"" "and its JUnit XML"
is "$(git -C "$REPO" rev-parse main)" "$main_before" "the config repo's main is untouched"
ls "$STICK/reports/berlin/$b1".done-git-* >/dev/null 2>&1
is "$?" 0 "a marker beside the report says it went to the branch"
ls "$STICK/reports/berlin/$b1".done-webhook-* >/dev/null 2>&1
is "$?" 2 "and none for the webhook"

# --- the webhook up: only what it lacks goes ---------------------------------
python3 tests/servers/webhook.py "$WH_PORT" "$SRV/good.crt" "$SRV/good.key" "$TMP/hook.token" "$HOOK" 2>"$HOOK.stderr" &
server_pids+=($!)
wait_listening "$WH_PORT" "$HOOK.stderr"
collect
is "$rc" 0 "webhook up: exit 0"
like "$out" "berlin: 2 reports, 2 deliveries, 0 delivered before, 0 pending" "berlin's two reports reach the webhook"
like "$out" "paris: 1 report, 0 deliveries, 1 delivered before, 0 pending" "paris had been delivered"
is "$(sort "$HOOK/ids" | tr '\n' ' ')" "$(printf '%s\n' "$b1" "$b2" | sort | tr '\n' ' ')" "the receiver got each once"
like "$(cat "$HOOK/$b2.json")" "\"junit\": \"<\\?xml" "with its JUnit XML"
is "$(branch_count kedge/status/berlin)" 2 "no second commit on the branch"
grep -rq "hook-token-0123" "$STICK" "$TMP/state" "$REPO"
is "$?" 1 "the token is written nowhere: not on the stick, the state or the branches"

# --- a second collect: nothing new -------------------------------------------
collect
is "$rc" 0 "a second collect: exit 0"
like "$out" "nothing new: the 3 reports on $STICK had been delivered before" "and it says so"
like "$out" "berlin: 2 reports, 0 deliveries, 2 delivered before" "nothing delivered"
is "$(wc -l <"$HOOK/ids")" 2 "the webhook got nothing more"
is "$(branch_count kedge/status/berlin) $(branch_count kedge/status/paris)" "2 1" "the branches no more"

# --- bad files are named and skipped, the rest still goes --------------------
b3=$(mkreport berlin ok)
echo '{"schema": 1, "kind": "rep' >"$STICK/reports/berlin/berlin-torn.json"
p2=$(mkreport paris ok)
mv "$STICK/reports/paris/$p2.json" "$STICK/reports/berlin/$p2.json"
rm "$STICK/reports/paris/$p2.junit.xml"
b4=$(mkreport berlin ok)
mv "$STICK/reports/berlin/$b4.json" "$STICK/reports/berlin/report.json"
rm "$STICK/reports/berlin/$b4.junit.xml"
printf '{"site": "berlin", "steps": [], "pass": {"code": 0}}\n' >"$STICK/reports/berlin/bootstrap.json"
mkdir -p "$STICK/reports/ghost"
cp "$STICK/reports/berlin/$b1.json" "$STICK/reports/ghost/"
o1=$(mkreport oslo ok)
collect
is "$rc" 1 "bad files on the stick: exit 1"
like "$out" "berlin: 4 reports, 4 deliveries, 2 delivered before, 0 pending, 2 skipped" "the good new reports still go to both"
like "$err" "reports/berlin/berlin-torn.json: skipped: .*" "a torn file is named"
like "$err" "reports/berlin/$p2.json: skipped: a report of site paris in the folder of site berlin" "a report of another site"
like "$err" "reports/berlin/bootstrap.json: not a report, left alone" "bootstrap's own record is left alone"
like "$err" "reports/ghost: no site ghost in the config repo \\(sites/ghost.yaml\\): its reports stay on the stick" "a site the repo lacks"
like "$err" "reports/oslo: site oslo lists no webhook or git-branch destination \\(report: in sites/oslo.yaml\\)" "a site without an upstream destination"
is "$(grep -cx "$b3\|$b4" "$HOOK/ids")" 2 "the new reports reached the webhook, report.json by its id"
is "$(branch_count kedge/status/berlin)" 4 "and the branch"
ok "report.json's markers are named by its id" ls "$STICK/reports/berlin/$b4".done-git-*
ok "the skipped files are left as they were" test -f "$STICK/reports/berlin/berlin-torn.json" -a \
	! -e "$STICK/reports/berlin/berlin-torn.json.bad"
collect --site berlin
like "$out" "berlin: 4 reports, 0 deliveries, 4 delivered before" "report.json goes once"

# --- --site: one site's folder only ------------------------------------------
rm -r "$STICK/reports/ghost" "$STICK/reports/oslo"
rm "$STICK/reports/berlin/berlin-torn.json" "$STICK/reports/berlin/$p2.json"
p3=$(mkreport paris ok)
b5=$(mkreport berlin ok)
collect --site paris
is "$rc" 0 "--site paris: exit 0"
like "$out" "^paris: 2 reports, 1 delivery, 1 delivered before, 0 pending$" "only paris's folder is read"
is "$(branch_count kedge/status/berlin)" 4 "berlin's new report waits"
run "$KEDGE" report collect "$STICK" --repo "$REPO" --state-dir "$TMP/state" --site rome
is "$rc" 1 "--site with no folder on the stick fails"
like "$err" "reports/rome is not there: no reports of site rome" "naming it"

# --- a webhook that answers 503: kept, then delivered -----------------------
echo 503 >"$HOOK/status"
collect
is "$rc" 23 "a 503: exit 23"
like "$err" "$b5 to webhook https://127.0.0.1:$WH_PORT/reports: HTTP 503" "naming the report and the answer"
rm "$HOOK/status"
collect
is "$rc" 0 "then it goes"
is "$(grep -c "$b5" "$HOOK/ids")" 1 "once"

done_testing

# kedge fleet status: the example repo as the desired state, reports pushed
# to status branches as sites push them (one orphan branch per site, one
# file per report), read from a bare repo in place and over HTTPS.
. tests/lib.sh
. tests/gitlib.sh

W=$TMP/work
BARE=$TMP/sites.git
cp -r tests/example-repo "$W"
git init -q -b main "$W"
git -C "$W" add -A
git -C "$W" -c user.name=t -c user.email=t@x commit -q -m one
git clone -q --bare "$W" "$BARE"
c1=$(git -C "$W" rev-parse HEAD)
echo "# a second commit" >>"$W/kedge.yaml"
git -C "$W" -c user.name=t -c user.email=t@x commit -q -am two
c2=$(git -C "$W" rev-parse HEAD)
git -C "$W" push -q "$BARE" main

# push_report SITE COMMIT RESULT AGE [BUNDLE=VERSION[:STATUS[:ERROR]] ...]
push_report() {
	local site=$1 out id
	out=$("$KEDGE" lua tests/fleet/report.lua "$@") || return 1
	id=$(printf '%s\n' "$out" | head -n 1)
	git -C "$W" checkout -q "kedge/status/$site" 2>/dev/null || git -C "$W" checkout -q --orphan "kedge/status/$site"
	git -C "$W" rm -rq --cached . 2>/dev/null
	mkdir -p "$TMP/rep/$site/reports"
	printf '%s\n' "$out" | sed 1d >"$TMP/rep/$site/reports/$id.json"
	git -C "$W" --work-tree="$TMP/rep/$site" add -A reports
	git -C "$W" -c user.name=kedge -c user.email=k@x commit -q -m "report $id"
	git -C "$W" push -q "$BARE" "kedge/status/$site"
	git -C "$W" checkout -q -f main
}

push_report berlin-01 "$c1" ok 7200 web=1.0.0 monitoring=0.9.0
push_report berlin-01 "$c2" ok 300 web=1.2.0 monitoring=1.0.0
push_report kiosk-07 "$c2" budget-refused 120 web=1.2.0:skipped
push_report gone-99 "$c1" ok 30 web=1.0.0

# --- in place, for a person ---
run "$KEDGE" fleet status --repo "$BARE"
is "$rc" 1 "a failing site: exit 1"
like "$out" "berlin-01 +ok +5m +${c2:0:8} \(current\)" "berlin-01: ok, its newest report, current"
like "$out" "kiosk-07 +failing .*budget-refused" "kiosk-07: failing, with the result"
like "$out" "lab-01 +never" "lab-01: never reported"
like "$out" "3 sites: 1 ok, 1 failing, 0 stale, 1 never reported" "the summary"
like "$(printf '%s\n' "$out" | sed -n '/^reports from sites the repo no longer has:/,$p')" "^gone-99 " \
	"a site the repo no longer has is listed apart"
like "$out" "bundle web: wanted [0-9.]+ on [0-9]+; running 1.2.0 on 2" "per bundle: versions wanted and running"
run "$KEDGE" fleet status --repo "$BARE" --site 'b*'
is "$rc" 0 "--site GLOB: only berlin-01, ok: exit 0"
like "$out" "1 site: 1 ok" "one site shown"
run "$KEDGE" fleet status --repo "$BARE" --site 'l*'
is "$rc" 3 "only a site never reported: exit 3"
run "$KEDGE" fleet status --repo "$BARE" --ref "$c1" --site berlin-01
like "$out" "berlin-01 +ok .*\(ahead 1\)" "desired at an older commit: the site is ahead by 1"

# --- stale ---
push_report lab-01 "$c1" ok 4000 web=1.0.0
run "$KEDGE" fleet status --repo "$BARE" --site lab-01
is "$rc" 3 "a report older than 3x the drift interval: stale, exit 3"
like "$out" "lab-01 +stale +66m +${c1:0:8} \(behind 1\) +no report for 66m" "stale, and behind by one commit"
run "$KEDGE" fleet status --repo "$BARE" --site lab-01 --stale 2h
is "$rc" 0 "--stale 2h: not stale"

# --- JSON ---
run "$KEDGE" fleet status --repo "$BARE" --json
is "$rc" 1 "--json keeps the exit code"
printf '%s' "$out" >"$TMP/fleet.json"
ok "--json is JSON" "$KEDGE" lua -e 'local j = require "kedge.json"; local f = io.open(arg[1]); local m = j.decode(f:read("a"))
assert(m.summary.sites == 3 and m.summary.failing == 1 and m.summary.stale == 1, "summary")
assert(m.sites[2].name == "kiosk-07" and m.sites[2].state == "failing", "kiosk-07")
assert(m.unknown_sites[1].name == "gone-99", "unknown sites")
assert(m.commit == arg[2], "the desired commit")' "$TMP/fleet.json" "$c2"

# --- bad input: a corrupt and a huge report are skipped, counted, never fatal ---
git -C "$W" checkout -q kedge/status/kiosk-07
id=kiosk-07-29991231T000000Z-${c2:0:7}-00000000
mkdir -p "$W/reports"
printf '{"kind": "report", "result": ' >"$W/reports/$id.json"
git -C "$W" add reports && git -C "$W" -c user.name=k -c user.email=k@x commit -q -m corrupt &&
	git -C "$W" push -q "$BARE" kedge/status/kiosk-07
git -C "$W" checkout -q -f main
run "$KEDGE" fleet status --repo "$BARE"
like "$err" "warning: skipped kedge/status/kiosk-07:reports/$id.json: not JSON" "a corrupt report: a warning naming it"
like "$out" "kiosk-07 +failing .*budget-refused" "and the report before it is used"
git -C "$BARE" update-ref refs/heads/kedge/status/broken 0123456789012345678901234567890123456789 2>/dev/null ||
	printf '0123456789012345678901234567890123456789\n' >"$BARE/refs/heads/kedge/status/broken"
run "$KEDGE" fleet status --repo "$BARE"
like "$err" "1 status branch name no commit" "a dangling status branch is counted"
is "$rc" 1 "and the rest is still read"
rm -f "$BARE/refs/heads/kedge/status/broken"

# --- usage ---
run "$KEDGE" fleet status
is "$rc" 2 "no --repo: exit 2"
run "$KEDGE" fleet stats --repo "$BARE"
is "$rc" 2 "an unknown subcommand: exit 2"
run "$KEDGE" fleet status --repo "$TMP/nothing"
is "$rc" 1 "a repo that is not there: exit 1"
like "$err" "nothing" "naming it"

# --- over HTTPS: synced into a state directory first ---
SRV=$TMP/srv
if make_ca "$SRV" && start_git_http "$SRV"; then
	git clone -q --mirror "$BARE" "$SRV/repos/sites.git"
	run "$KEDGE" fleet status --repo "$GOOD_URL/sites.git" --ca-file "$SRV/ca.crt" --state-dir "$TMP/fstate" --no-progress
	is "$rc" 1 "over HTTPS: the same exit code"
	like "$out" "3 sites: 1 ok, 1 failing, 1 stale, 0 never reported" "and the same summary"
else
	is "no server" "" "the HTTPS git server starts"
fi
done_testing

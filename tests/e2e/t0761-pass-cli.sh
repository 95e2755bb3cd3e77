# The pass commands' command line, without servers: help, usage errors and
# their exit code 2, the site default, and `kedge budget` on the example
# repo's plain checkout (no cluster, no state directory).
. tests/lib.sh

EX=tests/example-repo
for cmd in plan apply budget report; do
	run "$KEDGE" help "$cmd"
	is "$rc" 0 "help $cmd exits 0"
	like "$out" "^usage: kedge $cmd" "help $cmd prints its usage"
	like "$out" "Exit codes: 0" "help $cmd lists the exit codes"
	run "$KEDGE" "$cmd" --help
	like "$out" "^usage: kedge $cmd" "$cmd --help prints its usage"
done
run "$KEDGE" help apply
like "$out" "20 budget refused \(nothing applied\), 21 apply failed, 22 smoke" "apply's codes are distinct"

run "$KEDGE" plan --bogus
is "$rc" 2 "an unknown option: exit 2"
is "$err" "kedge: unknown option '--bogus' (see 'kedge help plan')" "naming the command's help"
run "$KEDGE" apply --site x --wait soon
is "$rc" 2 "a bad duration: exit 2"
like "$err" "--wait needs a duration like 300, 90s or 10m, not 'soon'" "says what a duration is"
run "$KEDGE" apply --site x --verify head
is "$rc" 2 "--verify without trusted keys: exit 2"
run "$KEDGE" report frobnicate
is "$rc" 2 "report needs list, show or send"
run "$KEDGE" plan --site x extra
is "$rc" 2 "a stray argument: exit 2"

run "$KEDGE" plan --site x --state-dir "$TMP/empty"
is "$rc" 1 "no repo and nothing served: exit 1"
like "$err" "has no current revision .*give --repo URL" "says to give --repo"

# one apply per state directory: another process holds the lock
mkdir -p "$TMP/held"
"$KEDGE" lua -e 'local l = assert(require("kedge.os").lock(arg[1] .. "/pass.lock"))
io.open(arg[1] .. "/ready", "w"):close()
require("kedge.os").sleep(5)' "$TMP/held" &
holder=$!
for i in $(seq 1 100); do [ -e "$TMP/held/ready" ] && break; sleep 0.05; done
run "$KEDGE" apply --site x --state-dir "$TMP/held" --lock-timeout 1
is "$rc" 1 "a second apply on the same state directory gives up after --lock-timeout"
like "$err" "lock: another kedge holds .*/held/pass.lock; waited 1 s" "and says who holds what"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
run "$KEDGE" apply --site x --state-dir "$TMP/held" --lock-timeout 1
like "$err" "has no current revision" "once it is free, the pass goes on (here: to the missing repo)"
run "$KEDGE" apply --site x --lock-timeout 900
is "$rc" 2 "--lock-timeout past 600: exit 2"

run "$KEDGE" budget --repo "$EX" --site kiosk-07
is "$rc" 20 "budget: kiosk-07 does not fit (exit 20)"
like "$out" "DOES NOT FIT: memory short by 64Mi; storage short by 5Gi" "the table with the shortfall"
like "$out" "cache +100m" "a row per bundle"
[ ! -e "$TMP/no-state" ]
run "$KEDGE" budget --repo "$EX" --site berlin-01
is "$rc" 0 "budget: berlin-01 fits (exit 0)"
like "$out" "web" "its table lists web"
KEDGE_SITE=lab-01 run "$KEDGE" budget --repo "$EX"
is "$rc" 0 "the site from KEDGE_SITE"
like "$out" "debug-tools" "lab-01's bundles"
run "$KEDGE" budget --repo "$EX" --site nowhere
is "$rc" 1 "an unknown site: exit 1"
like "$err" 'no site "nowhere"' "names it"
run "$KEDGE" budget --repo "$TMP/missing" --site x
is "$rc" 1 "a missing checkout: exit 1"

done_testing

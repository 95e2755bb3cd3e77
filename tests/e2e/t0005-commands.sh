# The command table (lua/kedge/cli.lua) is the one source of the help, the
# hints and README's command table.
. tests/lib.sh

run "$KEDGE" help --markdown
is "$rc" 0 "help --markdown exits 0"
table=$out
readme=$(awk '/^\| command \| what it does \|$/ { on = 1 } on && /^$/ { exit } on' README.md)
is "$readme" "$table" "README's command table is kedge help --markdown"

run "$KEDGE" --help
help=$out
missing=
for cmd in $(printf '%s\n' "$table" | sed -n 's/^| `kedge \([a-z-]*\).*/\1/p'); do
	case $help in *"  $cmd "*) ;; *) missing+="$cmd " ;; esac
	run "$KEDGE" "$cmd" --help
	[ "$rc" = 0 ] && [[ $out == "usage: kedge $cmd"* ]] || missing+="$cmd(--help) "
done
is "$missing" "" "kedge --help lists every command, and each answers --help"

run "$KEDGE" sync --stat-dir /tmp/x
is "$rc" 2 "an unknown flag exits 2"
like "$err" "did you mean '--state-dir'" "an unknown flag close to a known one gets did you mean"
run "$KEDGE" aply
is "$rc" 2 "an unknown command exits 2"
like "$err" "did you mean 'apply'" "an unknown command close to a known one gets did you mean"

run "$KEDGE" sync --lock-timeout 700 --repo /nonexistent --ref main
sync_err=$err
run "$KEDGE" apply --lock-timeout 700
is "${err% (see*}" "${sync_err% (see*}" "one lock-timeout rule for sync and apply"
like "$err" "0 to 600" "the lock-timeout rule names its range"

run "$KEDGE" budget --state /nonexistent/state --repo /nonexistent
like "$err" "warning: --state is deprecated, use --state-dir" "--state is a deprecated alias of --state-dir"
[[ $err != *"unknown option"* && $rc != 2 ]]
tap_report $? "--state is still accepted" "rc $rc: $err"

done_testing

# Shell TAP helpers for kedge's end-to-end tests (sourced; run from the
# repository root by tests/run-one). Each check prints ok/not ok; done_testing
# prints the plan and sets the exit status.
KEDGE=${KEDGE:-$PWD/build/kedge}
tap_n=0
tap_failed=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kedge-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

tap_report() { # pass name [diagnostic]
	tap_n=$((tap_n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $tap_n - $2"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_n - $2"
		[ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /'
	fi
	return 0
}

# ok NAME COMMAND...: passes when the command exits 0
ok() {
	local name=$1
	shift
	"$@" >"$TMP/.out" 2>&1
	tap_report $? "$name" "$(cat "$TMP/.out")"
}

# run COMMAND...: runs it, keeping stdout in $out, stderr in $err, status in $rc
run() {
	"$@" >"$TMP/.stdout" 2>"$TMP/.stderr"
	rc=$?
	out=$(cat "$TMP/.stdout")
	err=$(cat "$TMP/.stderr")
}

# is GOT WANT NAME
is() {
	[ "$1" = "$2" ]
	tap_report $? "$3" "got:      $1
expected: $2"
}

# like GOT REGEX NAME (extended regex, matched against the whole text)
like() {
	printf '%s' "$1" | grep -Eq -- "$2"
	tap_report $? "$3" "got:     $1
pattern: $2"
}

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" = 0 ]
	exit $?
}

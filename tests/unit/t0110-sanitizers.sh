# The data core's unit tests and every fuzz corpus under AddressSanitizer
# (with leak detection) and UndefinedBehaviorSanitizer: the clang + glibc
# build in build/tests/san (make san). Any report, or a failed test, fails.
. tests/lib.sh

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:exitcode=98
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=97
n=0
for bin in build/tests/san/test_* build/tests/san/replay_*; do
	[ -x "$bin" ] || continue
	n=$((n + 1))
	name=${bin##*/}
	"$bin" >"$TMP/$name.out" 2>"$TMP/$name.err"
	src=$?
	reports=$(grep -c -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP/$name.err")
	is "$src:$reports" "0:0" "$name passes under ASan and UBSan, no report"
	[ "$src:$reports" = "0:0" ] || { grep -v '^ok ' "$TMP/$name.out" | sed 's/^/# /' | head -20; sed 's/^/# /' "$TMP/$name.err" | head -40; }
done
ok "the sanitizer builds exist (make san)" test "$n" -ge 10
done_testing

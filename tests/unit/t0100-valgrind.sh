# The data core's unit tests under valgrind: no leaks, no invalid reads or
# writes. They run from the glibc build (build/tests/host), since valgrind
# cannot replace malloc inside a static musl binary.
. tests/lib.sh

n=0
for bin in build/tests/host/test_*; do
	[ -x "$bin" ] || continue
	n=$((n + 1))
	name=${bin##*/}
	valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 \
		"$bin" >"$TMP/$name.out" 2>"$TMP/$name.err"
	vrc=$?
	is "$vrc" 0 "$name passes under valgrind with no leaks or memory errors"
	[ "$vrc" = 0 ] || sed 's/^/# /' "$TMP/$name.err" | head -40
done
ok "the glibc unit-test builds exist" test "$n" -ge 3

done_testing

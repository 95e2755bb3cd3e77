# Template conformance as a regression guard: the whole case set from
# ../shared/conformance must pass at least as many cases as
# tests/conformance/known-differences.md records, so a change cannot
# silently break a case that passed. (The aim is all of them; every miss is
# listed with its reason in that file.)
. tests/lib.sh

cases=${KEDGE_CONFORMANCE:-../shared/conformance/templates.json}
recorded=$(sed -n 's/.*passes \([0-9][0-9]*\) of the [0-9][0-9]* cases.*/\1/p' tests/conformance/known-differences.md | head -n 1)
ok "known-differences.md records the pass count" test -n "$recorded"
ok "the conformance cases are at $cases" test -f "$cases"

KEDGE=$KEDGE tests/conformance/run-templates "$cases" >"$TMP/tap" 2>"$TMP/err"
passed=$(sed -n 's/^# passed \([0-9][0-9]*\) of [0-9][0-9]*$/\1/p' "$TMP/tap")
total=$(grep -c '^\(not \)\{0,1\}ok ' "$TMP/tap")
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$TMP/tap")
ok "run-templates ran every case ($total of its plan ${plan:-missing})" test "$total" = "${plan:-x}" -a "$total" -gt 1000
ok "at least $recorded cases pass (passed: ${passed:-none})" test "${passed:-0}" -ge "${recorded:-1}"
[ "${passed:-0}" -ge "${recorded:-1}" ] || grep '^not ok' "$TMP/tap" | sed 's/^/# /'

done_testing

# The chart corpus as a regression guard: every case of
# ../shared/charts/manifest.json is rendered with `kedge render` and compared
# with Helm's golden output, and at least as many cases must pass as
# tests/conformance/known-differences-charts.md records (the aim is all of
# them; every miss is listed there with its reason).
. tests/lib.sh

manifest=${KEDGE_CHARTS:-../shared/charts/manifest.json}
recorded=$(sed -n 's/.*passes \([0-9][0-9]*\) of the [0-9][0-9]* cases.*/\1/p' tests/conformance/known-differences-charts.md | head -n 1)
ok "known-differences-charts.md records the pass count" test -n "$recorded"
ok "the chart corpus is at $manifest" test -f "$manifest"

KEDGE=$KEDGE tests/conformance/run-charts "$manifest" >"$TMP/tap" 2>"$TMP/err"
passed=$(sed -n 's/^# passed \([0-9][0-9]*\) of [0-9][0-9]*$/\1/p' "$TMP/tap")
total=$(grep -c '^\(not \)\{0,1\}ok ' "$TMP/tap")
plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$TMP/tap")
ok "run-charts ran every case ($total of its plan ${plan:-missing})" test "$total" = "${plan:-x}" -a "$total" -ge 139
ok "at least $recorded cases pass (passed: ${passed:-none})" test "${passed:-0}" -ge "${recorded:-1}"
[ "${passed:-0}" -ge "${recorded:-1}" ] || grep -A3 '^not ok' "$TMP/tap" | sed 's/^/# /'

# the one render Helm refuses must fail the same way
grep -q '^ok [0-9]* - opentelemetry-collector$' "$TMP/tap"
tap_report $? "opentelemetry-collector's default values fail as in Helm (required image.repository)"

done_testing

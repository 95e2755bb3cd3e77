#!/usr/bin/env bash
# A site with 20 bundles drawn from ../shared/charts/ (copied into a config
# repo made in a temporary folder; the corpus is not in git), passed with
# `kedge plan`, `kedge apply` and a no-change `kedge apply` against the
# local kube-apiserver of tests/servers/kube/ (or KEDGE_TEST_KUBECONFIG's
# cluster). Prints wall time and peak RSS of each (the design's target: a
# full pass of 20 bundles under 32 MiB). A benchmark: figures only, exit 0.
# The site is tests/bench/site20.sh's (Kubernetes v1.20 without a kubelet:
# the apply does not wait for readiness).
set -uo pipefail
cd "$(dirname "$0")/../.."
export KEDGE_CACHE=${KEDGE_CACHE:-$HOME/.cache/kedge}
. tests/lib.sh
. tests/servers/kube/lib.sh
. tests/bench/site20.sh
kube_start
export HOME=$TMP/home
mkdir -p "$HOME"
site20 "$TMP/sites" || { echo "Bail out! no repo"; exit 0; }

run_one() { # label command
	local t0 t1 rss
	t0=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$TMP/rss" "$KEDGE" "$2" --site bench --repo "$SITE20_REPO" \
		--state-dir "$TMP/state" --kubeconfig "$KUBE_ADMIN" --no-progress \
		$([ "$2" = apply ] && echo --wait 0) >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	t1=$(date +%s.%N)
	rss=$(tail -n 1 "$TMP/rss")
	printf '%-22s exit %2d  %6.2f s  peak RSS %5.1f MiB  %s\n' "$1" "$rc" \
		"$(awk "BEGIN{print $t1-$t0}")" "$(awk "BEGIN{print $rss/1024}")" \
		"$(grep -o 'render: [0-9]* bundles, [0-9]* objects' "$TMP/err" | head -n1)"
	case $rc in 0 | 10) ;; *) grep -E 'ERROR|failed' "$TMP/err" | head -n 3 | sed 's/^/    /' ;; esac
}
echo "kedge pass, 20 bundles from ${#POOL[@]} corpus charts (target: peak RSS < 32 MiB)"
run_one "plan (fresh cluster)" plan
run_one "apply" apply
run_one "apply (no change)" apply
run_one "plan (no change)" plan
exit 0

#!/usr/bin/env bash
# A site with 20 bundles drawn from ../shared/charts/ (copied into a config
# repo made in a temporary folder; the corpus is not in git), passed with
# `kedge plan`, `kedge apply` and a no-change `kedge apply` against the
# local kube-apiserver of tests/servers/kube/ (or KEDGE_TEST_KUBECONFIG's
# cluster). Prints wall time and peak RSS of each (the design's target: a
# full pass of 20 bundles under 32 MiB). A benchmark: figures only, exit 0.
#
# The local server is Kubernetes v1.20 without a kubelet: the site declares
# kubeVersion 1.20.2, the charts are the corpus charts that render for it and
# whose kinds it serves (some twice, under other release names), and the
# apply does not wait for readiness (--wait 0): no Pod ever runs here.
set -uo pipefail
cd "$(dirname "$0")/../.."
export KEDGE_CACHE=${KEDGE_CACHE:-$HOME/.cache/kedge}
. tests/lib.sh
. tests/servers/kube/lib.sh
kube_start
CHARTS=${KEDGE_CHARTS:-../shared/charts}
[ -d "$CHARTS" ] || CHARTS=/work/shared/charts
# The corpus charts whose every kind a v1.20 server serves when rendered for
# it (the others render policy/v1 PodDisruptionBudgets, newer CRD schemas or
# APIServices the bare server cannot answer): four releases of each.
POOL=(coredns fluent-bit kube-state-metrics prometheus-node-exporter vault)
R=$TMP/sites
mkdir -p "$R/sites" "$R/charts"
cat >"$R/sites/bench.yaml" <<'X'
name: bench
labels: {bench: "yes"}
capacity: {cpu: "512", memory: 2Ti, ephemeral-storage: 10Ti, storage: 100Ti, pods: 5000, nodes: 8}
policy: {missing-requests: count-as-zero}
kubeVersion: "1.20.2"
X
for c in "${POOL[@]}"; do cp -r "$CHARTS/$c" "$R/charts/$c"; done
for i in $(seq 1 20); do
	c=${POOL[$(((i - 1) % ${#POOL[@]}))]}
	b=$(printf 'b%02d-%s' "$i" "$c" | cut -c1-40)
	mkdir -p "$R/bundles/$b"
	printf 'chart: charts/%s\nrelease: r%02d\nnamespace: bench-%02d\ntargets:\n  - matchLabels: {bench: "yes"}\n' \
		"$c" "$i" "$i" >"$R/bundles/$b/bundle.yaml"
done
export HOME=$TMP/home
mkdir -p "$HOME"
git init -q -b main "$R" && git -C "$R" add -A -f &&
	git -C "$R" -c user.name=bench -c user.email=bench@kedge.invalid commit -q -m bench &&
	git clone -q --bare "$R" "$TMP/sites.git" || { echo "Bail out! no repo"; exit 0; }

run_one() { # label command
	local t0 t1 rss
	t0=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$TMP/rss" "$KEDGE" "$2" --site bench --repo "$TMP/sites.git" \
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

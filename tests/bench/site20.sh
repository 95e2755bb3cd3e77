# The 20-bundle bench site (sourced by tests/bench/pass.sh and agent.sh,
# after tests/lib.sh): bundles drawn from ../shared/charts/ copied into a
# config repo made under $TMP (the corpus is not in git); leaves the bare
# repo in $SITE20_REPO, the site named bench.
#
# The local server is Kubernetes v1.20 without a kubelet: the site declares
# kubeVersion 1.20.2, the charts are the corpus charts that render for it and
# whose kinds it serves (some twice, under other release names), and a pass
# must not wait for readiness (--wait 0): no Pod ever runs here.
CHARTS=${KEDGE_CHARTS_DIR:-../shared/charts}
[ -d "$CHARTS" ] || CHARTS=/work/shared/charts
# The corpus charts whose every kind a v1.20 server serves when rendered for
# it (the others render policy/v1 PodDisruptionBudgets, newer CRD schemas or
# APIServices the bare server cannot answer): four releases of each.
POOL=(coredns fluent-bit kube-state-metrics prometheus-node-exporter vault)

# site20 DIR: the working repo in DIR, the bare one in DIR.git
site20() {
	local r=$1 i c b
	mkdir -p "$r/sites" "$r/charts"
	cat >"$r/sites/bench.yaml" <<'X'
name: bench
labels: {bench: "yes"}
capacity: {cpu: "512", memory: 2Ti, ephemeral-storage: 10Ti, storage: 100Ti, pods: 5000, nodes: 8}
policy: {missing-requests: count-as-zero}
kubeVersion: "1.20.2"
X
	for c in "${POOL[@]}"; do cp -r "$CHARTS/$c" "$r/charts/$c"; done
	for i in $(seq 1 20); do
		c=${POOL[$(((i - 1) % ${#POOL[@]}))]}
		b=$(printf 'b%02d-%s' "$i" "$c" | cut -c1-40)
		mkdir -p "$r/bundles/$b"
		printf 'chart: charts/%s\nrelease: r%02d\nnamespace: bench-%02d\ntargets:\n  - matchLabels: {bench: "yes"}\n' \
			"$c" "$i" "$i" >"$r/bundles/$b/bundle.yaml"
	done
	git init -q -b main "$r" && git -C "$r" add -A -f &&
		git -C "$r" -c user.name=bench -c user.email=bench@kedge.invalid commit -q -m bench &&
		git clone -q --bare "$r" "$r.git" && SITE20_REPO=$r.git
}

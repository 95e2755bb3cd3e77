#!/usr/bin/env bash
# Applies 500 objects (400 ConfigMaps, 50 Secrets, 50 Services) with
# `kedge apply-manifests --bundle` against the local kube-apiserver of
# tests/servers/kube/ (or KEDGE_TEST_KUBECONFIG's cluster): fresh, then
# unchanged, then with 10% changed, then plan-manifests of the unchanged
# set. Prints wall time, API requests (per object) and peak RSS of each run. A benchmark: figures only, exit 0.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
. tests/servers/kube/lib.sh
kube_start
NS=kedge-bench$$
M=$TMP/bench.yaml
gen() { # changed-every-Nth (0: none)
	local i v
	printf 'apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n' "$NS"
	for i in $(seq 1 400); do
		v=1
		[ "$1" != 0 ] && [ $((i % $1)) = 0 ] && v=2
		printf -- '---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: %s, labels: {app: bench}}\ndata: {index: "%d", version: "%s", payload: "%s"}\n' \
			"$i" "$NS" "$i" "$v" "$(printf 'x%.0s' $(seq 1 64))"
	done
	for i in $(seq 1 50); do
		v=1
		[ "$1" != 0 ] && [ $((i % $1)) = 0 ] && v=2
		printf -- '---\napiVersion: v1\nkind: Secret\nmetadata: {name: s-%d, namespace: %s}\nstringData: {password: "p%d-%s"}\n' "$i" "$NS" "$i" "$v"
		printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: svc-%d, namespace: %s}\nspec:\n  selector: {app: a%d}\n  ports: [{name: http, port: %d}]\n' \
			"$i" "$NS" "$i" $((8000 + v))
	done
}
run_one() { # label [command]
	local t0 t1 rss req
	t0=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$TMP/rss" "$KEDGE" "${2:-apply-manifests}" --kubeconfig "$KUBE_ADMIN" \
		-f "$M" --bundle "bench$$" >/dev/null 2>"$TMP/err"
	case $? in
	0 | 5) ;;
	*) echo "$1: failed: $(tail -n 3 "$TMP/err")"; return ;;
	esac
	t1=$(date +%s.%N)
	rss=$(tail -n 1 "$TMP/rss")
	req=$(grep -o 'requests=[0-9]*' "$TMP/err" | cut -d= -f2)
	req=${req:-0}
	printf '%-16s %6.2f s  %4d requests (%.2f per object)  peak RSS %5.1f MiB\n' "$1" \
		"$(echo "$t1 - $t0" | bc -l 2>/dev/null || awk "BEGIN{print $t1-$t0}")" "$req" \
		"$(awk "BEGIN{print $req/501}")" "$(awk "BEGIN{print $rss/1024}")"
}
echo "kedge apply-manifests, 501 objects (namespace, 400 ConfigMaps, 50 Secrets, 50 Services)"
gen 0 >"$M"; run_one "fresh"
run_one "unchanged"
gen 10 >"$M"; run_one "10% changed"
run_one "plan, unchanged" plan-manifests
if [ "$KUBE_LOCAL" = 0 ]; then
	"$KEDGE" lua tests/servers/kube/kc.lua "$KUBE_ADMIN" delete v1 Namespace "" "$NS" >/dev/null
	"$KEDGE" lua tests/servers/kube/kc.lua "$KUBE_ADMIN" delete v1 ConfigMap kedge-system "kedge-inventory-bench$$" >/dev/null
fi
exit 0

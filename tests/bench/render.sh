#!/usr/bin/env bash
# kedge render on the chart corpus (../shared/charts): for every chart (its
# default values, or its first ci/ values file when the defaults fail in
# Helm too) and for argo-cd with its HA values, the median wall time of
# RUNS runs (default 5) and the peak RSS of the `kedge render` process.
# Budget (DESIGN.md, issue 5): kube-prometheus-stack and argo-cd HA under
# 40 ms and 16 MiB each. Prints figures; always exits 0.
set -uo pipefail
cd "$(dirname "$0")/../.."
KEDGE=${KEDGE:-build/kedge}
charts=${1:-../shared/charts}
runs=${RUNS:-5}

# One run: wall milliseconds and the child's peak RSS in KiB, from
# getrusage(RUSAGE_CHILDREN) (syscall 98 on x86_64; Perl is always there).
measure() {
	perl -MTime::HiRes=time -e '
		my $t = time; my $pid = fork;
		if (!$pid) { open STDOUT, ">/dev/null"; open STDERR, ">/dev/null"; exec @ARGV; exit 127 }
		waitpid $pid, 0; my $ms = (time - $t) * 1000;
		my $ru = "\0" x 144; syscall(98, -1, $ru);
		my @f = unpack "q18", $ru;
		printf "%.1f %d %d\n", $ms, $f[4], $? >> 8;' -- "$@"
}

bench() { # label args...
	local label=$1 i ms rss st best=0 times=() note=
	shift
	for ((i = 0; i < runs; i++)); do
		read -r ms rss st < <(measure "$KEDGE" render rel "$@" --namespace default)
		[ "$st" = 0 ] || note=" (render failed, exit $st)"
		times+=("$ms")
		((rss > best)) && best=$rss
	done
	printf '%-48s %8s ms %8.1f MiB%s\n' "$label" \
		"$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")" \
		"$(echo "$best" | awk '{print $1 / 1024}')" "$note"
}

printf '%-48s %11s %12s\n' "chart (median of $runs)" "wall" "peak RSS"
for dir in "$charts"/*/; do
	name=$(basename "$dir")
	[ -f "$dir/Chart.yaml" ] || continue
	if [ "$name" = opentelemetry-collector ]; then
		first=$(ls "$dir/ci" | head -n 1)
		bench "$name -f ci/$first" "$dir" -f "$dir/ci/$first"
	else
		bench "$name" "$dir"
	fi
done
bench "argo-cd -f ci/ha-autoscaling-values.yaml (HA)" "$charts/argo-cd" \
	-f "$charts/argo-cd/ci/ha-autoscaling-values.yaml"

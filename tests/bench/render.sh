#!/usr/bin/env bash
# kedge render and official Helm side by side on every render of the chart
# corpus (../shared/charts/manifest.json: each chart with its default values
# and each ci/ values file), as whole processes with the goldens' settings
# (--namespace default --kube-version 1.30.0): the median wall time of RUNS
# runs (default 3) and the peak RSS of each, and Helm's time over kedge's.
# Renders whose templates generate keys or hash passwords (genCA,
# genSignedCert, genPrivateKey, bcrypt, htpasswd, derivePassword) are
# marked "keys". Targets (issue 18): every render 10x Helm (3x with keys),
# at most 16 MiB. Helm comes from tests/bench/helm.sh; without it kedge
# alone is measured. Prints figures; always exits 0.
set -uo pipefail
cd "$(dirname "$0")/../.."
KEDGE=${KEDGE:-build/kedge}
charts=${1:-${KEDGE_CHARTS_DIR:-../shared/charts}}
[ -d "$charts" ] || charts=/work/shared/charts
runs=${RUNS:-3}
. tests/bench/helm.sh

# One run: wall milliseconds, the child's peak RSS in KiB and its exit
# status, from getrusage(RUSAGE_CHILDREN) (syscall 98 on x86_64).
measure() {
	perl -MTime::HiRes=time -e '
		my $t = time; my $pid = fork;
		if (!$pid) { open STDOUT, ">/dev/null"; open STDERR, ">/dev/null"; exec @ARGV; exit 127 }
		waitpid $pid, 0; my $ms = (time - $t) * 1000;
		my $ru = "\0" x 144; syscall(98, -1, $ru);
		my @f = unpack "q18", $ru;
		printf "%.1f %d %d\n", $ms, $f[4], $? >> 8;' -- "$@"
}

# median wall ms and peak KiB of RUNS runs of a command; "fail" on exit != 0
median_of() {
	local i ms rss st best=0 times=() bad=
	for ((i = 0; i < runs; i++)); do
		read -r ms rss st < <(measure "$@")
		[ "$st" = 0 ] || bad=fail
		times+=("$ms")
		((rss > best)) && best=$rss
	done
	echo "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p") $best ${bad:-ok}"
}

printf '%-62s %9s %8s %9s %8s %7s\n' "render (median of $runs)" "kedge ms" "MiB" "helm ms" "MiB" "ratio"
rows=$(mktemp)
"$KEDGE" lua tests/bench/renders.lua "$charts/manifest.json" | while IFS=$'\t' read -r chart values; do
	args=(rel "$charts/$chart" --namespace default --kube-version 1.30.0)
	label=$chart
	if [ "$values" != - ]; then args+=(-f "$charts/$chart/$values"); label="$chart -f $values"; fi
	keys=
	grep -rqE 'genCA|genSignedCert|genPrivateKey|genSelfSignedCert|bcrypt|htpasswd|derivePassword' \
		"$charts/$chart/templates" "$charts/$chart/charts" 2>/dev/null && keys=keys
	read -r kms krss kst < <(median_of "$KEDGE" render "${args[@]}")
	hms=- hrss=0 hst=ok ratio=-
	if [ -n "$HELM" ]; then
		read -r hms hrss hst < <(median_of "$HELM" template "${args[@]}")
		ratio=$(awk -v h="$hms" -v k="$kms" 'BEGIN { printf "%.1f", h / k }')
	fi
	printf '%-62s %9s %8.1f %9s %8.1f %6sx %s%s\n' "${label:0:62}" "$kms" "$(awk -v r="$krss" 'BEGIN{print r/1024}')" \
		"$hms" "$(awk -v r="$hrss" 'BEGIN{print r/1024}')" "$ratio" "$keys" \
		"$([ "$kst$hst" = okok ] || echo " (kedge $kst, helm $hst)")"
	echo "$kms $hms $krss $keys" >>"$rows"
done
median_ratio=$(awk '$2 != "-" { printf "%.2f\n", $2 / $1 }' "$rows" | sort -n |
	awk '{ r[NR] = $1 } END { if (NR) print r[int((NR + 1) / 2)] }')
awk -v helm="$HELM" -v med="$median_ratio" '
	{ k += $1; n++; rss = $3 > rss ? $3 : rss
	  if (helm != "") { h += $2; r = $2 / $1
	    if (worst == "" || r < worst) worst = r
	    if ($4 == "keys") { if (wk == "" || r < wk) wk = r } else { if (wn == "" || r < wn) wn = r } } }
	END {
		printf "\n%d renders: kedge %.0f ms in all, peak RSS %.1f MiB at most\n", n, k, rss / 1024
		if (helm != "")
			printf "helm %.0f ms in all: %.1fx in total, %.1fx at the median render, %.1fx at the worst (%.1fx without keys, %.1fx with)\n",
				h, h / k, med, worst, wn, wk
	}' "$rows"
rm -f "$rows"

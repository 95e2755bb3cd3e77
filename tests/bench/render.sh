#!/usr/bin/env bash
# kedge render and official Helm side by side on every render of the chart
# corpus (../shared/charts/manifest.json: each chart with its default values
# and each ci/ values file), as whole processes with the goldens' settings
# (--namespace default --kube-version 1.30.0): the median wall time and
# the median CPU time (user + system) of RUNS runs (default 3), the peak RSS
# of each, and Helm's time over kedge's, wall and CPU (CPU is the steadier
# figure on a loaded machine; Helm's counts its garbage collector's
# threads too).
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

# One run: wall milliseconds, the child's peak RSS in KiB, its exit status
# and its CPU milliseconds, from getrusage(RUSAGE_CHILDREN) (syscall 98 on
# x86_64).
measure() {
	perl -MTime::HiRes=time -e '
		my $t = time; my $pid = fork;
		if (!$pid) { open STDOUT, ">/dev/null"; open STDERR, ">/dev/null"; exec @ARGV; exit 127 }
		waitpid $pid, 0; my $ms = (time - $t) * 1000;
		my $ru = "\0" x 144; syscall(98, -1, $ru);
		my @f = unpack "q18", $ru;
		printf "%.1f %d %d %.1f\n", $ms, $f[4], $? >> 8,
			($f[0] + $f[2]) * 1000 + ($f[1] + $f[3]) / 1000;' -- "$@"
}

# median wall ms, peak KiB and median CPU ms of RUNS runs of a command;
# "fail" on exit != 0
median_of() {
	local i ms rss st cpu best=0 times=() cpus=() bad=
	for ((i = 0; i < runs; i++)); do
		read -r ms rss st cpu < <(measure "$@")
		[ "$st" = 0 ] || bad=fail
		times+=("$ms")
		cpus+=("$cpu")
		((rss > best)) && best=$rss
	done
	echo "$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p") $best ${bad:-ok}" \
		"$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(((runs + 1) / 2))p")"
}

uptime | sed 's/^/# /'
printf '%-56s %8s %7s %6s %8s %7s %6s %6s %6s\n' "render (median of $runs)" "kedge ms" "cpu ms" "MiB" \
	"helm ms" "cpu ms" "MiB" "ratio" "cpu"
rows=$(mktemp)
"$KEDGE" lua tests/bench/renders.lua "$charts/manifest.json" | while IFS=$'\t' read -r chart values; do
	args=(rel "$charts/$chart" --namespace default --kube-version 1.30.0)
	label=$chart
	if [ "$values" != - ]; then args+=(-f "$charts/$chart/$values"); label="$chart -f $values"; fi
	keys=
	grep -rqE 'genCA|genSignedCert|genPrivateKey|genSelfSignedCert|bcrypt|htpasswd|derivePassword' \
		"$charts/$chart/templates" "$charts/$chart/charts" 2>/dev/null && keys=keys
	read -r kms krss kst kcpu < <(median_of "$KEDGE" render "${args[@]}")
	hms=- hrss=0 hst=ok hcpu=- ratio=- cratio=-
	if [ -n "$HELM" ]; then
		read -r hms hrss hst hcpu < <(median_of "$HELM" template "${args[@]}")
		ratio=$(awk -v h="$hms" -v k="$kms" 'BEGIN { printf "%.1f", h / k }')
		cratio=$(awk -v h="$hcpu" -v k="$kcpu" 'BEGIN { printf "%.1f", h / (k > 0 ? k : 0.1) }')
	fi
	printf '%-56s %8s %7s %6.1f %8s %7s %6.1f %5sx %5sx %s%s\n' "${label:0:56}" "$kms" "$kcpu" \
		"$(awk -v r="$krss" 'BEGIN{print r/1024}')" "$hms" "$hcpu" "$(awk -v r="$hrss" 'BEGIN{print r/1024}')" \
		"$ratio" "$cratio" "$keys" "$([ "$kst$hst" = okok ] || echo " (kedge $kst, helm $hst)")"
	echo "$kms $hms $krss ${keys:--} $kcpu $hcpu $label" >>"$rows"
done
median() { sort -n | awk '{ r[NR] = $1 } END { if (NR) print r[int((NR + 1) / 2)] }'; }
median_ratio=$(awk '$2 != "-" { printf "%.2f\n", $2 / $1 }' "$rows" | median)
median_cratio=$(awk '$2 != "-" { printf "%.2f\n", $6 / ($5 > 0 ? $5 : 0.1) }' "$rows" | median)
awk -v helm="$HELM" -v med="$median_ratio" -v cmed="$median_cratio" '
	function lab(   i, s) { s = $7; for (i = 8; i <= NF; i++) s = s " " $i; return s }
	{ k += $1; kc += $5; n++
	  if ($3 > rss) { rss = $3; rl = lab() }
	  if (helm != "") { h += $2; hc += $6; r = $2 / $1; c = $6 / ($5 > 0 ? $5 : 0.1)
	    if (worst == "" || r < worst) { worst = r; wl = lab() }
	    if (cworst == "" || c < cworst) { cworst = c; cwl = lab() }
	    if ($4 == "keys") { if (wk == "" || r < wk) wk = r; if (cwk == "" || c < cwk) cwk = c }
	    else { if (wn == "" || r < wn) wn = r; if (cwn == "" || c < cwn) cwn = c } } }
	END {
		printf "\n%d renders: kedge %.0f ms in all (CPU %.0f ms), peak RSS %.1f MiB at most (%s)\n",
			n, k, kc, rss / 1024, rl
		if (helm != "") {
			printf "wall: helm %.0f ms in all: %.1fx in total, %.1fx at the median render, %.1fx at the worst (%s; %.1fx without keys, %.1fx with)\n",
				h, h / k, med, worst, wl, wn, wk
			printf "CPU:  helm %.0f ms in all: %.1fx in total, %.1fx at the median render, %.1fx at the worst (%s; %.1fx without keys, %.1fx with)\n",
				hc, hc / kc, cmed, cworst, cwl, cwn, cwk
		}
	}' "$rows"
uptime | sed 's/^/# /'
rm -f "$rows"

# Hostile chart archives (the review of issue 21): archives of archives
# that multiply past every limit, subcharts nested past the depth limit,
# and more files than the file limit. The limits count across the whole
# chart, nested archives included, and each error names its limit.
. tests/lib.sh

# chart DIR NAME: a minimal chart folder
chart() {
	mkdir -p "$1/charts"
	printf 'apiVersion: v2\nname: %s\nversion: 0.1.0\n' "$2" >"$1/Chart.yaml"
}

# nest WIDTH LEVELS LEAFBYTES OUT: a .tgz whose charts/ holds WIDTH copies
# of the level below, LEVELS deep, each leaf carrying LEAFBYTES zeros
nest() {
	local w=$1 levels=$2 bytes=$3 out=$4 k i d
	d=$TMP/nest.$$
	rm -rf "$d" && mkdir -p "$d"
	chart "$d/leaf" leaf
	head -c "$bytes" /dev/zero >"$d/leaf/zeros"
	tar -czf "$d/cur.tgz" -C "$d" leaf
	for ((k = 1; k <= levels; k++)); do
		rm -rf "$d/l$k"
		chart "$d/l$k" "l$k"
		for ((i = 1; i <= w; i++)); do cp "$d/cur.tgz" "$d/l$k/charts/s$i.tgz"; done
		tar -czf "$d/next.tgz" -C "$d" "l$k" && mv "$d/next.tgz" "$d/cur.tgz"
	done
	mv "$d/cur.tgz" "$out"
	rm -rf "$d"
}

# 6: 5^4 = 625 leaves of 1 MiB in a small archive: 625 MiB if each archive
# were counted alone
nest 5 4 $((1 << 20)) "$TMP/bytes.tgz"
size=$(stat -c %s "$TMP/bytes.tgz")
run timeout 60 "$KEDGE" render "$TMP/bytes.tgz"
is "$rc" 1 "a ${size}-byte archive of archives unpacking to 625 MiB is refused"
like "$err" "(larger|more) than 100 MiB.*KD_LIMIT_CHART_BYTES" "naming the whole-chart byte limit"

# 6: 6^6 = 46,656 tiny leaves: the subchart count across the whole chart
nest 6 6 0 "$TMP/many.tgz"
size=$(stat -c %s "$TMP/many.tgz")
start=$(date +%s)
run timeout 120 "$KEDGE" render "$TMP/many.tgz"
is "$rc" 1 "a ${size}-byte archive of 55,987 subcharts is refused"
like "$err" "more than 10000 subcharts in the whole chart \(KD_LIMIT_CHART_SUBCHARTS\)" "naming the subchart limit"
echo "# refused in $(($(date +%s) - start)) s"

# 13: 34 archives nested one in the other: the depth limit, named
nest 1 34 0 "$TMP/deep.tgz"
run timeout 60 "$KEDGE" render "$TMP/deep.tgz"
is "$rc" 1 "34 nested subchart archives are refused"
like "$err" "nested more than 32 deep.*\(KD_LIMIT_CHART_DEPTH\)" "naming the depth limit, not out of memory"
nest 1 31 0 "$TMP/ok.tgz"
run timeout 60 "$KEDGE" render "$TMP/ok.tgz"
is "$rc" 0 "32 levels of subcharts (the limit) still load and render: $err"

# 14: 65,536 files in one archive (the file array's capacity doubles to
# 65,536, so a check made only when it grows lets them all pass)
chart "$TMP/files/big" big
mkdir -p "$TMP/files/big/f"
(cd "$TMP/files/big/f" && seq -f 'x%.0f' 1 65536 | xargs touch)
tar -czf "$TMP/files.tgz" -C "$TMP/files" big
run timeout 60 "$KEDGE" render "$TMP/files.tgz"
is "$rc" 1 "an archive of 65,537 files is refused"
like "$err" "more than 50000 files.*\(KD_LIMIT_CHART_FILES\)" "naming the file limit"
# spread over folders and nested archives, they count together
chart "$TMP/spread/top" top
for i in 1 2; do
	chart "$TMP/spread/s$i" "s$i"
	mkdir -p "$TMP/spread/s$i/f"
	(cd "$TMP/spread/s$i/f" && seq -f 'y%.0f' 1 30000 | xargs touch)
	tar -czf "$TMP/spread/top/charts/s$i.tgz" -C "$TMP/spread" "s$i"
done
tar -czf "$TMP/spread.tgz" -C "$TMP/spread" top
run timeout 60 "$KEDGE" render "$TMP/spread.tgz"
is "$rc" 1 "two subchart archives of 30,000 files each are refused together"
like "$err" "more than 50000 files, subcharts included \(KD_LIMIT_CHART_FILES\)" "naming the whole-chart file limit"

done_testing

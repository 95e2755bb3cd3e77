#!/usr/bin/env bash
# Benchmark: the stripped size of build/kedge and build/arm64/kedge against
# the 4 MiB budget (DESIGN.md). Prints figures; it is not a pass/fail test
# and exits 0.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

budget=$((4 * 1024 * 1024))
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT

# report_size BINARY STRIP BUILD-COMMAND: one architecture's figures.
report_size() {
	local bin=$1 strip=$2 how=$3 bytes mib verdict
	if [[ ! -f $bin ]]; then
		echo "size: no $bin yet (run $how first)"
		return 0
	fi
	command -v "$strip" >/dev/null 2>&1 || strip=strip
	"$strip" -o "$tmp" "$bin"
	bytes=$(stat -c %s "$tmp")
	mib=$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1048576 }')
	if ((bytes <= budget)); then verdict="within"; else verdict="OVER"; fi
	echo "size: $bin stripped: $bytes bytes = $mib MiB ($verdict the 4 MiB budget, $budget bytes)"
	if command -v file >/dev/null 2>&1; then
		echo "size: $(file -b "$bin" | cut -d, -f1-4)"
	fi
}

report_size build/kedge strip ./build.sh
report_size build/arm64/kedge aarch64-linux-gnu-strip "./build.sh arm64"
exit 0

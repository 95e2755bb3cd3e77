#!/usr/bin/env bash
# Benchmark: the stripped size of build/kedge against the 4 MiB budget
# (DESIGN.md). Prints figures; it is not a pass/fail test and exits 0.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

bin=build/kedge
budget=$((4 * 1024 * 1024))
if [[ ! -f $bin ]]; then
	echo "size: no $bin yet (run ./build.sh first)"
	exit 0
fi
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
strip -o "$tmp" "$bin"
bytes=$(stat -c %s "$tmp")
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1048576 }')
if ((bytes <= budget)); then verdict="within"; else verdict="OVER"; fi
echo "size: $bin stripped: $bytes bytes = $mib MiB ($verdict the 4 MiB budget, $budget bytes)"
if command -v file >/dev/null 2>&1; then
	echo "size: $(file -b "$bin" | cut -d, -f1-4)"
fi
exit 0

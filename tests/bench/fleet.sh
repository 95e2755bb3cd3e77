#!/usr/bin/env bash
# kedge fleet status at scale (prints figures, exit 0): 5,000 sites x 20
# bundles in one bare repo, a status branch with a report per site (made
# by tests/fleet/gen.lua through git fast-import), then
#   - kedge fleet status: wall time and peak RSS (targets: < 10 s, 256 MiB),
#     the same with --json and with --html
#   - the HTML file's size, and in headless Chromium (chromedriver on
#     127.0.0.1): first paint, the page built, a sort and a filter of every
#     row. FLEET_SITES / FLEET_BUNDLES change the size.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/fleet/lib.sh
SITES=${FLEET_SITES:-5000}
BUNDLES=${FLEET_BUNDLES:-20}
BARE=$TMP/fleet.git

t0=$(date +%s.%N)
git init -q --bare "$BARE"
"$KEDGE" lua tests/fleet/gen.lua config "$SITES" "$BUNDLES" | git -C "$BARE" fast-import --quiet ||
	{ echo "fleet bench: the config repo failed"; exit 0; }
new=$(git -C "$BARE" rev-parse main) old=$(git -C "$BARE" rev-parse main~1)
"$KEDGE" lua tests/fleet/gen.lua status "$SITES" "$BUNDLES" "$new" "$old" | git -C "$BARE" fast-import --quiet ||
	{ echo "fleet bench: the status branches failed"; exit 0; }
printf '== %d sites x %d bundles, %d status branches, %s in the repo (made in %.1f s)\n' "$SITES" "$BUNDLES" \
	"$(git -C "$BARE" for-each-ref refs/heads/kedge/status | wc -l)" "$(du -sh "$BARE" | cut -f1)" \
	"$(echo "$(date +%s.%N) - $t0" | bc)"

# measure NAME ARGS...: wall time and peak RSS of kedge fleet status ARGS
measure() {
	local name=$1
	shift
	/usr/bin/time -f '%e %M' -o "$TMP/time" "$KEDGE" fleet status --repo "$BARE" "$@" >"$TMP/out" 2>"$TMP/err"
	local rc=$?
	# time says "Command exited with non-zero status N" first when N > 0
	read -r wall kib < <(tail -n 1 "$TMP/time")
	[[ $kib =~ ^[0-9]+$ ]] || kib=0
	printf '%-34s wall %6s s  peak RSS %4d MiB  exit %d\n' "$name" "$wall" "$((kib / 1024))" "$rc"
	((rc > 1 && rc != 3)) && sed 's/^/#   /' "$TMP/err" | tail -n 3
}
measure "kedge fleet status"
grep -E '^[0-9]+ sites:' "$TMP/out"
measure "kedge fleet status --json" --json
printf '%-34s %s bytes\n' "the JSON" "$(wc -c <"$TMP/out")"
measure "kedge fleet status --html" --html "$TMP/fleet.html"
printf '%-34s %s bytes\n' "the HTML file" "$(wc -c <"$TMP/fleet.html" 2>/dev/null || echo 0)"

[ -s "$TMP/fleet.html" ] || exit 0
start_chromedriver || { echo "fleet bench: no chromedriver (apt-get install chromium-driver)"; exit 0; }
cat >"$TMP/plan.json" <<X
{"args": $(chromium_args 1400,900), "steps": [
{"name": "open", "open": "file://$TMP/fleet.html"},
{"name": "ready", "wait": "return document.body.dataset.ready === '1'", "timeout": 60},
{"name": "paint", "wait": "var p = performance.getEntriesByType('paint'); return p.length > 0 && p.map(function (e) { return e.name + ' ' + Math.round(e.startTime) + ' ms'; }).join(', ')", "timeout": 30},
{"name": "built", "js": "return Math.round(performance.getEntriesByName('fleet-ready')[0].startTime) + ' ms'"},
{"name": "nodes", "js": "return document.getElementsByTagName('*').length + ' elements, ' + document.querySelectorAll('#rows tr.site').length + ' rows in the DOM of ' + document.getElementById('shown-count').textContent"},
{"name": "sort", "js": "var t = performance.now(); document.querySelector('#sites th[data-sort=name]').click(); return Math.round(performance.now() - t) + ' ms'"},
{"name": "filter", "js": "var t = performance.now(); var s = document.getElementById('filter-state'); s.value = 'failing'; s.dispatchEvent(new Event('change')); return Math.round(performance.now() - t) + ' ms (' + document.getElementById('shown-count').textContent + ')'"},
{"name": "scroll", "js": "var s = document.getElementById('filter-state'); s.value = ''; s.dispatchEvent(new Event('change')); var w = document.getElementById('table-wrap'); w.scrollTop = w.scrollHeight / 2; var t = performance.now(); w.dispatchEvent(new Event('scroll')); return new Promise(function (ok) { requestAnimationFrame(function () { ok(Math.round(performance.now() - t) + ' ms'); }); })"},
{"name": "heap", "js": "return performance.memory ? Math.round(performance.memory.usedJSHeapSize / 1048576) + ' MiB' : '?'"}
]}
X
echo "== the dashboard in headless Chromium"
timeout 300 python3 tests/fleet/webdriver.py "$WD_URL" "$TMP/plan.json" | awk -F '\t' '$1 != "open" { printf "%-34s %s\n", $1, $2 }'
exit 0

#!/usr/bin/env bash
# Makes README's dashboard screenshot (docs/fleet-dashboard.png) and its
# `kedge fleet status` example from a 12-site fleet of tests/fleet/gen.lua
# (site-0012 has never reported): tests/fleet/docs-shot.sh [OUT.png]
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/fleet/lib.sh
OUT=${1:-docs/fleet-dashboard.png}
BARE=$TMP/fleet.git
git init -q --bare "$BARE"
"$KEDGE" lua tests/fleet/gen.lua config 12 6 | git -C "$BARE" fast-import --quiet || exit 1
"$KEDGE" lua tests/fleet/gen.lua status 12 6 "$(git -C "$BARE" rev-parse main)" \
	"$(git -C "$BARE" rev-parse main~1)" | git -C "$BARE" fast-import --quiet || exit 1
git -C "$BARE" update-ref -d refs/heads/kedge/status/site-0012
"$KEDGE" fleet status --repo "$BARE" --html "$TMP/fleet.html"
echo "exit $?"
start_chromedriver || { echo "no chromedriver"; exit 1; }
mkdir -p "$(dirname "$OUT")"
cat >"$TMP/plan.json" <<X
{"args": $(chromium_args 1440,900), "steps": [
{"name": "open", "open": "file://$TMP/fleet.html"},
{"name": "ready", "wait": "return document.body.dataset.ready === '1'", "timeout": 20},
{"name": "click", "click": "#rows tr[data-site='site-0001'] td"},
{"name": "shot", "shot": "$(realpath -m "$OUT")"}
]}
X
timeout 120 python3 tests/fleet/webdriver.py "$WD_URL" "$TMP/plan.json" >/dev/null || exit 1
echo "$OUT: $(wc -c <"$OUT") bytes"

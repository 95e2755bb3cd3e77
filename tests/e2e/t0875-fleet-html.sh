# kedge fleet status --html: the dashboard opened in a real headless
# Chromium (chromedriver's WebDriver API on 127.0.0.1): the counts shown are
# the model's, a text filter narrows the rows, a click opens a site's
# detail, and markup in a site's error, smoke message or branch name stays
# text (no element made, no script run). Saves a screenshot under
# build/test-output/.
. tests/lib.sh
. tests/fleet/lib.sh

fleet_repo
EVIL='<script>window.pwned=1;alert(1)</script>'
push_report berlin-01 "$C1" ok 300 web=2.0.1 monitoring=0.3.1 cache=1.2.0 smoke:web:http-get:passed
push_report kiosk-07 "$C1" smoke-failed 120 monitoring=0.3.0 "cache=1.2.0:failed:$EVIL" \
	'smoke:cache:cache-port:failed:<img src=x onerror="window.pwned2=1">'
push_report '<img/src=x/onerror=window.pwned3=1>' "$C1" ok 60 web=1.0.0

HTML=$TMP/fleet.html
run "$KEDGE" fleet status --repo "$BARE" --html "$HTML"
is "$rc" 1 "--html keeps the exit code (a failing site: 1)"
ok "--html wrote the file" test -s "$HTML"
run "$KEDGE" fleet status --repo "$BARE" --json
printf '%s' "$out" >"$TMP/model.json"
want=$("$KEDGE" lua -e 'local m = require("kedge.json").decode(io.open(arg[1]):read("a")).summary
print(string.format("%d %d %d %d %d %d", m.sites, m.ok, m.failing, m.stale, m.never, m.unknown))' "$TMP/model.json")
is "$want" "3 1 1 0 1 1" "the model: 3 sites, 1 ok, 1 failing, 1 never, 1 unknown"

# --- the file alone: self-contained, the hostile text inert ---
is "$(grep -o '<script' "$HTML" | wc -l)" 2 "two script elements: the data and the page's script"
is "$(grep -Eo '<(script>window|img)' "$HTML" | wc -l)" 0 "the payload's markup is nowhere raw in the file"
like "$(cat "$HTML")" 'u003cscript\\u003ewindow' "the error is in the data, escaped"
outside=$(sed 's|<script type="application/json" id="fleet-data">.*</script>||' "$HTML")
is "$(printf '%s' "$outside" | grep -Eio '(src|href)=|@import|url\(|https?://' | sort -u)" "" \
	"nothing in the page loads anything (no src, href, url(), http)"

# --- in Chromium ---
if ! start_chromedriver; then
	is "no chromedriver" "" "chromedriver answers on 127.0.0.1 (install chromium-driver)"
	done_testing
	exit
fi
OUTDIR=$PWD/build/test-output
mkdir -p "$OUTDIR"
SHOT=$OUTDIR/fleet.png
cat >"$TMP/plan.json" <<EOF
{"args": $(chromium_args 1400,900), "steps": [
{"name": "open", "open": "file://$HTML"},
{"name": "ready", "wait": "return document.body.dataset.ready === '1'", "timeout": 20},
{"name": "counts", "js": "return ['sites','ok','failing','stale','never','unknown'].map(function (k) { return document.getElementById('count-' + k).textContent; }).join(' ')"},
{"name": "rows", "js": "return Array.from(document.querySelectorAll('#rows tr.site')).map(function (r) { return r.dataset.site; }).sort().join(',')"},
{"name": "bars", "js": "return Array.from(document.querySelectorAll('#bundles .bar')).map(function (b) { return b.dataset.bundle + ':' + Array.from(b.children).map(function (s) { return (s.dataset.version || '-') + (s.classList.contains('wanted') ? '*' : ''); }).join('/'); }).join(' ')"},
{"name": "sort", "click": "#sites th[data-sort=name]"},
{"name": "sorted", "js": "return document.querySelector('#sites th[data-sort=name]').getAttribute('aria-sort') + ' ' + Array.from(document.querySelectorAll('#rows tr.site')).map(function (r) { return r.dataset.site; }).join(',')"},
{"name": "type", "type": "#filter-text", "text": "kiosk"},
{"name": "filtered", "wait": "var r = document.querySelectorAll('#rows tr.site'); return r.length === 1 && r[0].dataset.site + ' ' + document.getElementById('shown-count').textContent", "timeout": 10},
{"name": "click", "click": "#rows tr[data-site='kiosk-07'] td"},
{"name": "detail", "wait": "var d = document.getElementById('detail'); return !d.hidden && d.dataset.site", "timeout": 10},
{"name": "detail-bundles", "js": "return Array.from(document.querySelectorAll('#detail-bundles tbody tr')).map(function (r) { return Array.from(r.cells).slice(0, 4).map(function (c) { return c.textContent; }).join('|'); }).join(' ')"},
{"name": "detail-text", "js": "return document.getElementById('detail').textContent"},
{"name": "smoke", "js": "return document.querySelectorAll('#detail-smoke tbody tr').length"},
{"name": "history", "js": "return document.querySelectorAll('#detail-history li').length"},
{"name": "labels", "js": "return document.getElementById('detail-labels').textContent"},
{"name": "state-filter", "js": "var t = document.getElementById('filter-text'); t.value = ''; var s = document.getElementById('filter-state'); s.value = 'unknown'; s.dispatchEvent(new Event('change')); return Array.from(document.querySelectorAll('#rows tr.site')).map(function (r) { return r.dataset.site; }).join(',')"},
{"name": "inert", "js": "return [document.querySelectorAll('script').length, document.querySelectorAll('img').length, typeof window.pwned, typeof window.pwned2, typeof window.pwned3].join(' ')"},
{"name": "reset", "js": "var s = document.getElementById('filter-state'); s.value = ''; s.dispatchEvent(new Event('change')); return document.querySelectorAll('#rows tr.site').length"},
{"name": "shot", "shot": "$SHOT"}
]}
EOF
steps_out=$(timeout 120 python3 tests/fleet/webdriver.py "$WD_URL" "$TMP/plan.json" 2>&1)
is "$?" 0 "the WebDriver steps ran" "$steps_out
$(tail -n 20 "$TMP/chromedriver.log" 2>/dev/null)"
is "$(step ready)" true "the page is ready"
is "$(step counts)" '"3 1 1 0 1 1"' "the counts shown are the model's"
is "$(step rows)" '"<img/src=x/onerror=window.pwned3=1>,berlin-01,kiosk-07,lab-01"' \
	"every site has a row, the unknown one too (its name as text)"
like "$(step bars)" ' monitoring:0\.3\.0/0\.3\.1\*/- ' \
	"a version bar per bundle: monitoring runs 0.3.0 and 0.3.1 (wanted), one site silent"
is "$(step sorted)" '"ascending <img/src=x/onerror=window.pwned3=1>,berlin-01,kiosk-07,lab-01"' \
	"a click on a header sorts by it"
is "$(step filtered)" '"kiosk-07 1 of 4 sites shown"' "typing into the text filter leaves the matching row"
is "$(step detail)" '"kiosk-07"' "a click on the row opens its detail"
is "$(step detail-bundles)" '"monitoring|0.3.1|0.3.0|ok cache|1.2.0|1.2.0|failed"' \
	"the detail lists its bundles: wanted and running versions, status"
like "$(step detail-text)" 'window\.pwned=1;alert\(1\)' "the hostile error shows as text"
is "$(step smoke)" 1 "the smoke result is listed"
is "$(step history)" 1 "the report history: one id"
like "$(step labels)" 'envproduction' "the site's labels"
is "$(step state-filter)" '"<img/src=x/onerror=window.pwned3=1>"' "the state filter: unknown sites"
is "$(step inert)" '"2 0 undefined undefined undefined"' \
	"no injected element or script: 2 scripts, no img, no payload flag set"
is "$(step reset)" 4 "clearing the filters shows every row again"
ok "a screenshot was saved" test -s "$SHOT"
is "$(head -c 8 "$SHOT" | od -An -c | tr -d ' \n')" '211PNG\r\n032\n' "it is a PNG"
echo "# screenshot: $SHOT"
done_testing

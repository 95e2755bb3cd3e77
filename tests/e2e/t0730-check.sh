# kedge check on tests/example-repo and on broken copies of it: exit codes
# (0 fine, 1 problems, 2 usage), problems named by file:line:col on stderr,
# one line per site on stdout, --site, --json, a values schema violation and
# a template error found by rendering, and no state directory needed. Then
# kedge.site on the same repo synced by kedge sync (a kedge.git tree).
. tests/lib.sh
. tests/gitlib.sh

EX=tests/example-repo
export HOME=$TMP/home KEDGE_STATE_DIR=$TMP/no-state

run "$KEDGE" check --repo "$EX"
is "$rc" 1 "the example repo checks clean but for kiosk-07's budget"
like "$out" "^ok   berlin-01 \(Kubernetes 1\.29\.0\): monitoring 0\.3\.1 \(2 objects\), cache 1\.2\.0 \(2 objects\), web 2\.0\.1 \(3 objects\)" \
	"one line per site: its bundles in order, chart versions, object counts"
like "$out" "ok   lab-01 \(Kubernetes 1\.30\.2\): .*debug-tools 0\.1\.0" "a site's own Kubernetes version"
like "$out" "FAIL kiosk-07 .*: monitoring 0\.3\.1 \(2 objects\), cache 1\.2\.0 \(2 objects\)$" \
	"labels decide: kiosk-07 (region us) gets no web"
like "$err" "^sites/kiosk-07\.yaml: the bundles selected for site kiosk-07 do not fit its capacity minus reserve \(memory short by 64Mi; storage short by 5Gi\)" \
	"the budget: kiosk-07 is too small for what it gets, named with the shortfall"
like "$err" "DOES NOT FIT" "with the budget table"
like "$err" "1 problem$" "a summary"
[ ! -e "$TMP/no-state" ]
tap_report $? "no state directory is made"

(cd "$EX" && "$KEDGE" check --site berlin-01 >"$TMP/cwd.out" 2>&1)
is "$?" 0 "--repo defaults to the current folder"

run "$KEDGE" check --repo "$EX" --site lab-01
is "$rc" 0 "--site"
is "$(printf '%s\n' "$out" | grep -c '^ok ')" 1 "checks that site only"
like "$out" "1 site checked, no problems" "a summary"
is "$err" "" "nothing on stderr"

run "$KEDGE" check --repo "$EX" --all-sites --json
is "$rc" 1 "--json"
printf '%s' "$out" >"$TMP/check.json"
ok "the JSON says what was checked" "$KEDGE" lua -e '
local j = require("kedge.json").decode(io.open(arg[1]):read("a"))
assert(j.ok == false and #j.sites == 3 and #j.problems == 1, "summary")
assert(j.problems[1].site == "kiosk-07" and j.problems[1].file == "sites/kiosk-07.yaml", "the budget problem")
assert(j.sites[2].budget.fits == false and j.sites[1].budget.fits == true, "the budget result per site")
assert(j.sites[1].name == "berlin-01" and j.sites[1].bundles[3].name == "web", "sites and bundles")
assert(j.sites[1].bundles[3].objects == 3 and j.sites[1].kube_version == "1.29.0", "counts")' "$TMP/check.json"

# ---- usage ----
run "$KEDGE" check --site a --all-sites --repo "$EX"
is "$rc" 2 "--site and --all-sites together is a usage error"
like "$err" "give --site NAME or --all-sites, not both" "and says so"
run "$KEDGE" check --frobnicate
is "$rc" 2 "an unknown option"
like "$err" "unknown option '--frobnicate' \(see 'kedge help check'\)" "names the help"
run "$KEDGE" check --repo "$TMP/nowhere"
is "$rc" 2 "a --repo that does not exist"
like "$err" "nowhere: No such file or directory" "names it"
run "$KEDGE" check --site
is "$rc" 2 "--site needs a value"
run "$KEDGE" check --help
is "$rc" 0 "--help"
like "$out" "^usage: kedge check \[--site NAME \| --all-sites\] \[--repo PATH\] \[--base REF\] \[--images\] \[--json\]" "help text"
like "$out" "Exit codes: 0 no problems, 1 problems found" "with the exit codes"
run "$KEDGE" help
like "$out" "check +check a config repo without a cluster" "check is in the command list"

# ---- broken copies ----
broken() { # name: a fresh copy in $R
	R=$TMP/$1
	rm -rf "$R"
	cp -r "$EX" "$R"
}

run "$KEDGE" check --repo "$EX" --site berlin-1
is "$rc" 1 "an unknown --site is a problem"
like "$err" 'no site "berlin-1" in the repo \(no sites/berlin-1\.yaml\) \(did you mean "berlin-01"\?\)' \
	"with the closest site"

broken typo
sed -i 's/^labels:/lables:/' "$R/sites/berlin-01.yaml"
run "$KEDGE" check --repo "$R"
is "$rc" 1 "an unknown key"
like "$err" '^sites/berlin-01\.yaml:2:1: unknown key "lables" in a site \(did you mean "labels"\?\)' \
	"names file, line and the closest key"
like "$err" "1 problem$" "and counts"
is "$out" "" "nothing is checked further when the repo does not load"

broken rename
mv "$R/sites/lab-01.yaml" "$R/sites/lab-02.yaml"
run "$KEDGE" check --repo "$R"
is "$rc" 1 "a site file named differently from its site"
like "$err" 'sites/lab-02\.yaml:1:1: the site is named "lab-01" but its file is sites/lab-02\.yaml' "says so"

broken operator
sed -i 's/operator: NotIn/operator: Notin/' "$R/bundles/web/bundle.yaml"
run "$KEDGE" check --repo "$R"
like "$err" 'bundles/web/bundle\.yaml:[0-9]+:[0-9]+: operator "Notin" is not In, NotIn, Exists or DoesNotExist \(did you mean "NotIn"\?\)' \
	"a bad selector operator"

broken missingdep
sed -i 's/dependsOn: \[cache, monitoring\]/dependsOn: [cache, monitor]/' "$R/bundles/web/bundle.yaml"
run "$KEDGE" check --repo "$R"
is "$rc" 1 "dependsOn a missing bundle"
like "$err" 'bundles/web/bundle\.yaml:[0-9]+:[0-9]+: dependsOn names bundle "monitor", which does not exist \(no bundles/monitor/bundle\.yaml\) \(did you mean "monitoring"\?\)' \
	"names it and the closest"

broken cycle
sed -i 's/^dependsOn: \[monitoring\]/dependsOn: [web]/' "$R/bundles/cache/bundle.yaml"
run "$KEDGE" check --repo "$R"
is "$rc" 1 "a dependency cycle"
like "$err" 'bundles/cache/bundle\.yaml:[0-9]+:[0-9]+: dependsOn makes a cycle: cache -> web -> cache' "names the cycle"

broken nochart
rm -r "$R/charts/web"
run "$KEDGE" check --repo "$R"
is "$rc" 1 "a missing chart"
like "$err" 'bundles/web/bundle\.yaml:2:1: chart "charts/web" does not exist in the repo' "names the bundle's line"

broken several
sed -i 's/^  memory: 8Gi/  memory: 8GB/' "$R/sites/berlin-01.yaml"
sed -i 's/^release: cache/release: Cache_1/' "$R/bundles/cache/bundle.yaml"
mkdir -p "$R/bundles/extra"
printf 'chart: charts/web\nvalues: missing.yaml\n' >"$R/bundles/extra/bundle.yaml"
run "$KEDGE" check --repo "$R"
is "$rc" 1 "several problems"
is "$(printf '%s\n' "$err" | grep -c '^[a-z/.0-9-]*:[0-9]*:[0-9]*: ')" 3 "all reported, one line each"
like "$err" "3 problems$" "and counted"
run "$KEDGE" check --repo "$R" --json
is "$rc" 1 "--json exits 1 too"
printf '%s' "$out" >"$TMP/bad.json"
ok "the JSON lists the problems with file, line and column" "$KEDGE" lua -e '
local j = require("kedge.json").decode(io.open(arg[1]):read("a"))
assert(j.ok == false and #j.problems == 3 and #j.sites == 0)
local p = j.problems[1]
assert(p.file == "bundles/cache/bundle.yaml" and p.line == 3 and p.col == 1, p.file .. p.line)
assert(p.message:find("not a valid Helm release name", 1, true), p.message)' "$TMP/bad.json"

# render-time problems: a values schema violation and a template error,
# found per site, while the other sites still check
broken schema
sed -i 's/^  web:$/  cache: {maxMemory: lots}\n  web:/' "$R/sites/berlin-01.yaml"
run "$KEDGE" check --repo "$R"
is "$rc" 1 "a value the chart's schema refuses"
like "$err" 'bundles/cache/bundle\.yaml:2:1: chart charts/cache for site berlin-01: values don.t meet the specifications of the schema' \
	"names the bundle, the site and the schema"
like "$err" "maxMemory" "and the value"
like "$out" "FAIL berlin-01 .*cache \(failed\)" "the site fails"
like "$out" "ok   lab-01" "the other sites still pass"

broken template
printf '{{ .Values.image | required "image is required" }}\n{{ if }}\n' >"$R/charts/toolbox/templates/bad.yaml"
run "$KEDGE" check --repo "$R" --site lab-01
is "$rc" 1 "a template that does not parse"
like "$err" 'bundles/debug-tools/bundle\.yaml:2:1: chart charts/toolbox for site lab-01: .*toolbox/templates/bad\.yaml:2' \
	"names the bundle and the template's line"

broken kube
sed -i 's/^kubeVersion: "1.30.2"/kubeVersion: "1.22.0"/' "$R/sites/lab-01.yaml"
run "$KEDGE" check --repo "$R" --site lab-01
is "$rc" 1 "a chart that needs a newer Kubernetes than the site declares"
like "$err" "chart charts/cache for site lab-01: chart requires kubeVersion: >=1\.25\.0-0 which is incompatible with Kubernetes v1\.22\.0" \
	"is found by rendering with the site's version"

broken notarget
sed -i 's/{key: env, operator: Exists}/{key: env, operator: In, values: [production]}/' "$R/bundles/web/bundle.yaml"
run "$KEDGE" check --repo "$R"
is "$rc" 1 "a dependency that does not target the site"
like "$err" 'bundles/debug-tools/bundle\.yaml:[0-9]+:[0-9]+: bundle debug-tools depends on web, which does not target site lab-01: make web target it too, or drop the dependency' \
	"is named with the dependsOn line"
like "$out" "ok   berlin-01" "while the sites it does not concern pass"

broken escape
ln -s /etc "$R/charts/etc"
sed -i 's|^chart: charts/toolbox|chart: charts/etc|' "$R/bundles/debug-tools/bundle.yaml"
run "$KEDGE" check --repo "$R"
is "$rc" 1 "a chart symlinked out of the repo"
like "$err" 'bundles/debug-tools/bundle\.yaml:2:1: chart "charts/etc" cannot be read: charts/etc leads outside the repository' \
	"is refused, saying it leads outside the repository (issue 21, finding 17)"

# ---- the same repo as kedge sync serves it ----
G=$TMP/sites
cp -r "$EX" "$G"
git -C "$G" init -q && git -C "$G" add -A && git -C "$G" commit -qm "example sites"
run "$KEDGE" sync --repo "$G" --ref main --state "$TMP/state"
is "$rc" 0 "kedge sync the example repo: $err"
run "$KEDGE" lua -e '
local git, site = require "kedge.git", require "kedge.site"
local rev = assert(git.open(arg[1]))
local repo = assert(site.load(rev))
local out = {}
for _, b in ipairs(assert(site.select(repo, "lab-01"))) do
  local r = assert(site.render(repo, "lab-01", b))
  out[#out + 1] = b.name .. "=" .. #r.objects
end
print(table.concat(out, " "))' "$TMP/state"
is "$out" "monitoring=2 cache=2 web=3 debug-tools=1" "kedge.site loads, selects and renders a synced revision"

done_testing

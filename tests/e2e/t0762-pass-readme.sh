# The README's walk-through ("Running a site"), command by command, against
# the real kube-apiserver: from an empty folder to a site that applies a
# chart, passes a smoke test and pushes its report to a status branch. If
# this fails, the README is wrong.
. tests/lib.sh
. tests/servers/kube/lib.sh
kube_start
export KUBECONFIG=$KUBE_ADMIN HOME=$TMP/home
mkdir -p "$HOME" && git config --global user.name demo && git config --global user.email demo@example.invalid
kedge() { "$KEDGE" "$@"; }
# The README's block, read from the README itself: its setup part (up to
# the "cd .." before the first kedge command) runs as written; the kedge
# commands run below with their checks, and must stand in the block as run.
block=$(awk '/^### From an empty folder to a site/ {f = 1}
	f && /^```sh$/ {g = 1; next}
	g && /^```$/ {exit}
	g' README.md)
setup=$(printf '%s\n' "$block" | sed '/^cd \.\.$/q')
like "$setup" "git clone -q --bare \\. \\.\\./sites\\.git" "the README's walk-through is found"
for c in "kedge check --repo sites" \
	"kedge plan  --site demo --repo ./sites.git --state-dir ./state" \
	"kedge apply --site demo --repo ./sites.git --state-dir ./state" \
	"git -C sites.git log --oneline kedge/status/demo" \
	"kedge report list --site demo --state-dir ./state" \
	"kedge report show --site demo --state-dir ./state"; do
	ok "the README runs: $c" grep -qF -- "$c" <<<"$block"
done
cd "$TMP" || exit 1
eval "$setup"

run kedge check --repo sites
is "$rc" 0 "kedge check: the new repo is fine"
run kedge plan --site demo --repo ./sites.git --state-dir ./state
is "$rc" 10 "kedge plan: 10, changes pending"
like "$out" "\+ ConfigMap hello/hello-settings" "it would create the ConfigMap"
run kedge apply --site demo --repo ./sites.git --state-dir ./state
is "$rc" 0 "kedge apply: 0"
like "$err" "smoke: hello: 1 passed" "the smoke test passed"
run kedge plan --site demo --repo ./sites.git --state-dir ./state
is "$rc" 0 "kedge plan again: 0, nothing to change"
run git -C sites.git log --oneline kedge/status/demo
is "$(printf '%s\n' "$out" | wc -l)" 1 "the status branch has the pass's commit"
like "$out" "kedge report demo-.*: demo ok at" "naming the report"
run kedge report list --site demo --state-dir ./state
like "$out" "^demo-.* ok .*delivered to git-branch kedge/status/demo" "report list: delivered"
run kedge report show --site demo --state-dir ./state
like "$out" '"name": "settings are there"' "report show: the smoke result"
like "$out" '"status": "passed"' "passed"

done_testing

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
cd "$TMP" || exit 1

mkdir demo && cd demo
git init -q -b main sites && cd sites
mkdir -p charts/hello/templates sites bundles/hello

cat > charts/hello/Chart.yaml <<'X'
apiVersion: v2
name: hello
version: 0.1.0
X
printf 'greeting: hello\n' > charts/hello/values.yaml
cat > charts/hello/templates/configmap.yaml <<'X'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-settings
data:
  greeting: {{ .Values.greeting | quote }}
X

cat > sites/demo.yaml <<'X'
name: demo
labels: {env: lab}
capacity: {cpu: "2", memory: 4Gi, pods: 20}
report:
  - git-branch: kedge/status/demo
X

cat > bundles/hello/bundle.yaml <<'X'
chart: charts/hello
release: hello
namespace: hello
targets:
  - matchLabels: {env: lab}
smoke:
  - name: settings are there
    type: condition
    object: {apiVersion: v1, kind: ConfigMap, name: hello-settings}
X
git add -A && git commit -q -m "a first site"
git clone -q --bare . ../sites.git
cd ..

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

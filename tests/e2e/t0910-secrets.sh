# Secrets in the config repo end to end: values layers, a bundle's secrets:
# manifests and the site's secrets file, encrypted with Debian's age to the
# site's recipient, decrypted by kedge in memory. Unique canaries are
# planted; after check, plan, apply, a changed secret, drift, a rollback and
# report delivery to a status branch (all with debug logs), no file kedge
# wrote, no log line, no output and no pushed branch holds a canary, in
# clear or in base64.
. tests/lib.sh
. tests/servers/kube/lib.sh

kube_start
trap 'kube_cleanup' EXIT
KC="$KEDGE lua tests/servers/kube/kc.lua"
kc() { $KC "$KUBE_ADMIN" "$@"; }

C1=canary-$$-$RANDOM-values
C2=canary-$$-$RANDOM-manifest
C3=canary-$$-$RANDOM-site
C4=canary-$$-$RANDOM-changed
age-keygen -o "$TMP/site.key" 2>/dev/null
chmod 600 "$TMP/site.key"
RCPT=$(age-keygen -y "$TMP/site.key")
age-keygen -o "$TMP/other.key" 2>/dev/null
chmod 600 "$TMP/other.key"

W=$TMP/work
BARE=$TMP/sites.git
STATUS=$TMP/status.git
git init -q --bare "$BARE"
git init -q --bare "$STATUS"
git init -q -b main "$W"
SITE=sec-$$
NS=sec-$$
mkdir -p "$W/sites" "$W/bundles/db" "$W/charts/db/templates"
printf 'apiVersion: v2\nname: db\nversion: 1.0.0\n' >"$W/charts/db/Chart.yaml"
cat >"$W/charts/db/templates/objs.yaml" <<'X'
apiVersion: v1
kind: Secret
metadata:
  name: db-credentials
stringData:
  password: {{ .Values.password | quote }}
  token: {{ .Values.token | default "none" | quote }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: db-settings
data:
  user: {{ .Values.user | quote }}
  {{- if .Values.fail }}
  broken: {{ fail "this revision is broken" }}
  {{- end }}
X
cat >"$W/sites/$SITE.yaml" <<X
name: $SITE
labels: {env: edge}
capacity: {cpu: "4", memory: 8Gi, pods: 50}
recipients: [$RCPT]
report:
  - git-branch: kedge/status/$SITE
    repo: $STATUS
X
cat >"$W/bundles/db/bundle.yaml" <<X
chart: charts/db
namespace: $NS
values: [values.yaml, secrets.yaml.age]
secrets: [extra.yaml.age]
targets:
  - matchLabels: {env: edge}
X
printf 'user: app\npassword: placeholder\n' >"$W/bundles/db/values.yaml"
printf 'password: %s\n' "$C1" | age -r "$RCPT" -o "$W/bundles/db/secrets.yaml.age"
printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-extra\nstringData:\n  key: %s\n' "$C2" |
	age -a -r "$RCPT" -o "$W/bundles/db/extra.yaml.age"
printf 'db:\n  token: %s\n' "$C3" | age -r "$RCPT" -o "$W/sites/$SITE.secrets.yaml.age"
commit() { git -C "$W" add -A && git -C "$W" -c user.name=t -c user.email=t@x commit -q -m "$1" &&
	git -C "$W" push -q -f "$BARE" HEAD:main; }
commit one

LOG=$TMP/all.log
: >"$LOG"
# kedge CMD...: runs it with debug logs, keeping stdout and stderr in $LOG too
k() { run "$KEDGE" --log-level debug "$@"; printf '%s\n%s\n' "$out" "$err" >>"$LOG"; }
STATE=$TMP/state
PASS=(--site "$SITE" --repo "$BARE" --ref main --state-dir "$STATE" --kubeconfig "$KUBE_ADMIN" --wait 0)

# --- kedge check: without a key, then with it ---
k check --repo "$W"
is "$rc" 0 "check without an identity: ok"
like "$out" "rendered without 3 encrypted files: no --identity" "and says what it left out"
like "$err" "cannot tell whether it is encrypted to $SITE's recipient" "files from another tool: said, not failed"
k check --repo "$W" --identity "$TMP/site.key"
is "$rc" 0 "check with the site's identity renders fully"
k check --repo "$W" --identity "$TMP/other.key"
is "$rc" 1 "check with a key the files are not for: problems"
like "$err" "no identity matched|secrets.yaml.age" "naming the file"

# --- a wrong or missing identity: nothing applied ---
k apply "${PASS[@]}" --identity "$TMP/other.key"
is "$rc" 1 "apply with a wrong identity fails"
like "$err" "secrets.yaml.age" "naming the file it could not decrypt"
kc get v1 ConfigMap "$NS" db-settings >/dev/null 2>&1
is "$?" 3 "nothing was applied"
k apply "${PASS[@]}"
is "$rc" 1 "apply with no identity fails"
like "$err" "no identity was given \(--identity FILE\)" "saying how to give one"
chmod 644 "$TMP/site.key"
k apply "${PASS[@]}" --identity "$TMP/site.key"
like "$err" "chmod 600" "an identity others can read is refused"
chmod 600 "$TMP/site.key"

# --- plan and apply with the site's identity ---
k plan "${PASS[@]}" --identity "$TMP/site.key"
is "$rc" 10 "plan: changes to make"
like "$out" "stringData.password: \(secret\)" "the plan shows a secret value as (secret)"
k apply "${PASS[@]}" --identity "$TMP/site.key"
is "$rc" 0 "apply with the site's identity"
pw=$(kc get v1 Secret "$NS" db-credentials data.password | base64 -d)
is "$pw" "$C1" "the Secret has the decrypted values layer"
is "$(kc get v1 Secret "$NS" db-credentials data.token | base64 -d)" "$C3" "and the site's secrets file, as the last layer"
is "$(kc get v1 Secret "$NS" db-extra data.key | base64 -d)" "$C2" "the bundle's secrets: manifest is applied"
is "$(kc get v1 ConfigMap "$NS" db-settings data.user)" app "plain values still apply"

# --- a changed secret: the plan says so, without the value ---
printf 'password: %s\n' "$C4" | age -r "$RCPT" -o "$W/bundles/db/secrets.yaml.age"
commit two
k plan "${PASS[@]}" --identity "$TMP/site.key"
like "$out" "password: \(secret changed\)" "plan: ~ password: (secret changed)"
k apply "${PASS[@]}" --identity "$TMP/site.key"
is "$rc" 0 "the changed secret is applied"

# --- drift on the Secret is put back, the report says which fields ---
printf 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-credentials\n  namespace: %s\nstringData:\n  password: tampered-value\n' "$NS" >"$TMP/edit.yaml"
kc apply-as someone-else "$TMP/edit.yaml" force >/dev/null
k apply "${PASS[@]}" --identity "$TMP/site.key"
is "$(kc get v1 Secret "$NS" db-credentials data.password | base64 -d)" "$C4" "drift on the Secret is corrected"

# --- a broken revision rolls back to the last good one, re-rendered with the key ---
printf 'user: app\npassword: placeholder\nfail: true\n' >"$W/bundles/db/values.yaml"
commit three
k apply "${PASS[@]}" --identity "$TMP/site.key"
like "$rc" "^[1-9]" "a revision that does not render fails the pass"
is "$(kc get v1 Secret "$NS" db-credentials data.password | base64 -d)" "$C4" "the Secret keeps the last good value"

# --- nowhere on disk, in no log, no output, no pushed branch ---
git clone -q --mirror "$STATUS" "$TMP/status-copy.git"
for c in "$C1" "$C2" "$C3" "$C4"; do
	b64=$(printf '%s' "$c" | base64 -w0)
	files=$(grep -rlaF -e "$c" -e "$b64" "$STATE" "$LOG" | wc -l)
	pushed=$(git -C "$TMP/status-copy.git" log --all -p | grep -caF -e "$c" -e "$b64")
	is "$files $pushed" "0 0" "canary ${c##*-} is in no file kedge wrote, no log or output, no status branch"
done
like "$(git -C "$TMP/status-copy.git" log --all --oneline | head -1)" "kedge report" "(reports were pushed to the status branch)"
done_testing

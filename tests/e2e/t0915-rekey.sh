# kedge rekey after a site's key rotates and a site is added: kedge check
# (no key) names each file not encrypted to a site that uses it; --dry-run
# lists what would change and writes nothing; rekey rewrites exactly those
# files (armor kept), after which check passes, the new keys decrypt and
# the rotated-out key no longer does; files already right are untouched.
. tests/lib.sh
cd "$TMP" || exit 1
for k in ops a1 a2 b; do "$KEDGE" keygen -o "$k.key" >/dev/null 2>&1; done
rcpt() { age-keygen -y "$1.key"; }
mkdir -p repo/sites repo/bundles/db repo/bundles/web repo/charts/c/templates
printf 'apiVersion: v2\nname: c\nversion: 1.0.0\n' >repo/charts/c/Chart.yaml
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {p: {{ .Values.p | quote }}}\n' \
	>repo/charts/c/templates/cm.yaml
printf 'recipients: [%s]\n' "$(rcpt ops)" >repo/kedge.yaml
site() { printf 'name: %s\nlabels: {app: %s}\ncapacity: {cpu: "4", memory: 8Gi, pods: 50}\nrecipients: [%s]\n' \
	"$1" "$2" "$3" >"repo/sites/$1.yaml"; }
site alpha db "$(rcpt a1)"
printf 'chart: charts/c\nnamespace: db\nvalues: [secrets.yaml.age]\ntargets:\n  - matchLabels: {app: db}\n' \
	>repo/bundles/db/bundle.yaml
printf 'chart: charts/c\nnamespace: web\nvalues: [secrets.yaml.age]\ntargets:\n  - matchLabels: {app: web}\n' \
	>repo/bundles/web/bundle.yaml
printf 'p: db-secret\n' | "$KEDGE" encrypt -a -r "$(rcpt ops)" -r "$(rcpt a1)" -o repo/bundles/db/secrets.yaml.age /dev/stdin
printf 'p: web-secret\n' | "$KEDGE" encrypt -r "$(rcpt ops)" -o repo/bundles/web/secrets.yaml.age /dev/stdin
run "$KEDGE" check --repo repo
is "$rc" 0 "before: every file is encrypted to the sites that use it"

# alpha's key rotates (a1 -> a2); a new site beta starts using db
site alpha db "$(rcpt a2)"
site beta db "$(rcpt b)"
run "$KEDGE" check --repo repo
is "$rc" 1 "after the rotation check fails"
like "$out$err" "sites/alpha.yaml: bundles/db/secrets.yaml.age is not encrypted to alpha's recipient age1.*run kedge rekey" \
	"naming the site, the file, the recipient and the fix"
like "$out$err" "sites/beta.yaml: bundles/db/secrets.yaml.age is not encrypted to beta's" "and the new site"
sum0=$(sha256sum repo/bundles/*/secrets.yaml.age)
run "$KEDGE" rekey -i ops.key --repo repo --dry-run
is "$rc" 0 "rekey --dry-run succeeds"
like "$out" "would rekey +bundles/db/secrets.yaml.age \(3 recipients; sites alpha, beta\)" "listing the file to rekey and its sites"
like "$out" "unchanged +bundles/web/secrets.yaml.age" "and the file already right"
is "$(sha256sum repo/bundles/*/secrets.yaml.age)" "$sum0" "and writes nothing"
run "$KEDGE" rekey -i b.key --repo repo
is "$rc" 1 "rekey with a key the files are not all encrypted to fails"
like "$err" "bundles/db/secrets.yaml.age: no identity matched" "naming the file"
run "$KEDGE" rekey -i ops.key --repo repo
is "$rc" 0 "rekey with the team's key succeeds"
like "$out" "rekeyed +bundles/db/secrets.yaml.age" "rewriting the db file"
like "$out" "1 file changed, 0 failed" "one file changed"
head -n 1 repo/bundles/db/secrets.yaml.age | grep -q -- '-----BEGIN AGE ENCRYPTED FILE-----'
is "$?" 0 "the armored file stays armored"
is "$(sha256sum repo/bundles/web/secrets.yaml.age)" "$(echo "$sum0" | grep web)" "the web file is untouched"
run "$KEDGE" check --repo repo
is "$rc" 0 "check passes after the rekey"
for k in a2 b ops; do
	is "$("$KEDGE" decrypt -i "$k.key" repo/bundles/db/secrets.yaml.age)" "p: db-secret" "$k's key decrypts"
	is "$(age -d -i "$k.key" repo/bundles/db/secrets.yaml.age)" "p: db-secret" "and so does Debian's age ($k)"
done
run "$KEDGE" decrypt -i a1.key repo/bundles/db/secrets.yaml.age
like "$rc:$err" "^1:.*no identity matched" "the rotated-out key no longer decrypts"
run "$KEDGE" rekey -i ops.key --repo repo
like "$out" "0 files changed, 0 failed" "a second rekey changes nothing"
run "$KEDGE" rekey --repo repo
is "$rc" 2 "rekey without -i is a usage error"
like "$err" "give -i IDENTITY" "saying what to give"
chmod 644 ops.key
run "$KEDGE" rekey -i ops.key --repo repo
like "$rc:$err" "^2:.*ops.key" "a group/world-readable identity is refused, naming it"
done_testing

# kedge render on small charts built here: subcharts (directory, .tgz,
# library), conditions, tags, aliases, import-values, globals, .Files,
# built-in objects, hooks, CRDs, the --set family, the flags of
# helm template; then bad input: a template syntax error, a missing
# required value, a schema violation, a cyclic include, a 2 GB .tgz bomb, a
# symbolic link out of the chart and invalid YAML output. A failed render
# prints nothing on stdout.
. tests/lib.sh

C=$TMP/app
mkdir -p "$C/templates" "$C/charts/db/templates" "$C/charts/lib/templates" \
	"$C/crds" "$C/files/conf" "$TMP/cache/templates" "$TMP/pkg"
cat >"$C/Chart.yaml" <<'Y'
apiVersion: v2
name: app
version: 1.2.3
appVersion: "4.5"
description: the app
keywords: [a, b]
kubeVersion: ">=1.20.0-0"
dependencies:
  - name: db
    version: 0.1.0
    condition: db.enabled
    import-values:
      - child: exported
        parent: fromdb
      - data
  - name: cache
    version: ~0.2
    alias: memo
    tags: [extras]
  - name: lib
    version: 1.0.0
Y
cat >"$C/values.yaml" <<'Y'
replicas: 2
name: web
global: {region: eu, nested: {a: 1}}
db: {enabled: true}
memo: {size: 3}
tags: {extras: true}
image: {repository: nginx, tag: "1.25"}
Y
cat >"$C/.helmignore" <<'Y'
*.bak
Y
echo 'ignored' >"$C/files/conf/old.bak"
printf 'a=1\n' >"$C/files/conf/a.properties"
printf 'b=2\n' >"$C/files/conf/b.properties"
printf 'line one\nline two\n' >"$C/files/lines.txt"
cat >"$C/crds/crd.yaml" <<'Y'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: things.example.org
Y
cat >"$C/templates/_helpers.tpl" <<'Y'
{{- define "app.fullname" -}}{{ .Release.Name }}-{{ .Chart.Name }}{{- end -}}
{{- define "app.check" -}}{{ if .Values.failme }}{{ fail "failme is set" }}{{ end }}{{ if .Values.failtwo }}{{ fail "two\nlines" }}{{ end }}{{- end -}}
Y
printf '{{ include "app.check" . }}\n' >"$C/templates/check.yaml"
cat >"$C/templates/deploy.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "app.fullname" . }}
  namespace: {{ .Release.Namespace }}
  labels: {{- include "lib.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      containers:
        - image: {{ required "image.repository is required" .Values.image.repository }}:{{ .Values.image.tag }}
          env:
            - {name: REGION, value: {{ .Values.global.region | quote }}}
            - {name: FROMDB, value: {{ with .Values.fromdb }}{{ .answer | quote }}{{ end }}}
            - {name: DATA, value: {{ .Values.dbdata | quote }}}
            - {name: TEMPLATE, value: {{ .Template.Name | quote }}}
            - {name: BASE, value: {{ .Template.BasePath | quote }}}
            - {name: KUBE, value: {{ .Capabilities.KubeVersion.Version | quote }}}
            - {name: HASAPI, value: {{ .Capabilities.APIVersions.Has "example.org/v1" | quote }}}
            - {name: UPGRADE, value: {{ .Release.IsUpgrade | quote }}}
            - {name: APPVER, value: {{ .Chart.AppVersion | quote }}}
            - {name: LINE2, value: {{ index (.Files.Lines "files/lines.txt") 1 | quote }}}
            - {name: SUBS, value: {{ keys .Subcharts | sortAlpha | join "," | quote }}}
            - {name: DBFILE, value: {{ with index .Subcharts "db" }}{{ .Files.Get "motd.txt" | quote }}{{ end }}}
Y
cat >"$C/templates/cm.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: conf
data:
{{ (.Files.Glob "files/conf/*").AsConfig | indent 2 }}
---
# a second document in the same file
apiVersion: v1
kind: Namespace
metadata:
  name: extra
Y
cat >"$C/templates/test.yaml" <<'Y'
apiVersion: v1
kind: Pod
metadata:
  name: app-test
  annotations:
    "helm.sh/hook": test
Y
cat >"$C/templates/job.yaml" <<'Y'
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations:
    "helm.sh/hook": pre-install,pre-upgrade
Y
printf 'Thanks for installing {{ .Chart.Name }}\n' >"$C/templates/NOTES.txt"
printf '{{/* nothing */}}\n\n' >"$C/templates/empty.yaml"
cat >"$C/templates/setcheck.yaml" <<'Y'
{{- with .Values.setcheck }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: setcheck
data:
  json: {{ toJson . | quote }}
{{- end }}
Y
cat >"$C/values.schema.json" <<'Y'
{"type": "object",
 "properties": {"replicas": {"type": "integer", "minimum": 1},
                "name": {"type": "string", "pattern": "^[a-z]+$"},
                "label": {"type": "string", "pattern": "^\\p{Ll}+(?i:x)\\d*$"}}}
Y
# db: a directory subchart with exports and a global
cat >"$C/charts/db/Chart.yaml" <<'Y'
apiVersion: v2
name: db
version: 0.1.0
Y
cat >"$C/charts/db/values.yaml" <<'Y'
exported: {answer: "42"}
exports:
  data: {dbdata: from-exports}
global: {region: us, dbonly: x}
port: 5432
Y
printf 'hello from db' >"$C/charts/db/motd.txt"
cat >"$C/charts/db/templates/svc.yaml" <<'Y'
apiVersion: v1
kind: Service
metadata:
  name: {{ .Release.Name }}-{{ .Chart.Name }}
  annotations:
    region: {{ .Values.global.region | quote }}
    dbonly: {{ .Values.global.dbonly | quote }}
    root: {{ .Chart.IsRoot | quote }}
spec:
  ports: [{port: {{ .Values.port }}}]
Y
# lib: a library chart; its non-partial templates are never rendered
cat >"$C/charts/lib/Chart.yaml" <<'Y'
apiVersion: v2
name: lib
version: 1.0.0
type: library
Y
cat >"$C/charts/lib/templates/_labels.tpl" <<'Y'
{{- define "lib.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end -}}
Y
echo 'kind: ShouldNotRender' >"$TMP/lib-extra.yaml"
cp "$TMP/lib-extra.yaml" "$C/charts/lib/templates/extra.yaml"
# cache: packaged as a .tgz, used under the alias "memo"
cat >"$TMP/cache/Chart.yaml" <<'Y'
apiVersion: v2
name: cache
version: 0.2.1
Y
printf 'size: 1\n' >"$TMP/cache/values.yaml"
cat >"$TMP/cache/templates/cm.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Chart.Name }}-{{ .Values.size }}
Y
tar -C "$TMP" -czf "$C/charts/cache-0.2.1.tgz" cache

run "$KEDGE" render --help
is "$rc" 0 "render --help exits 0"
like "$out" "^usage: kedge render" "and prints the usage"
run "$KEDGE" render
is "$rc" 2 "render without a chart exits 2"
run "$KEDGE" render "$C" --frob
is "$rc" 2 "an unknown flag exits 2"

run "$KEDGE" render rel "$C"
is "$rc" 0 "the chart renders"
is "$(printf '%s\n' "$out" | grep '^# Source:' | tr '\n' ' ')" \
"# Source: app/templates/cm.yaml # Source: app/charts/memo/templates/cm.yaml # Source: app/templates/cm.yaml # Source: app/charts/db/templates/svc.yaml # Source: app/templates/deploy.yaml # Source: app/templates/test.yaml # Source: app/templates/job.yaml " \
	"documents in Helm's install order (by kind, then by file), hooks last, sorted the same way"
like "$out" "name: rel-app" "include of a define, with .Release and .Chart"
like "$out" "app.kubernetes.io/name: app" "a library chart's define"
like "$out" "app.kubernetes.io/version: \"4.5\"" ".Chart.AppVersion"
like "$out" "value: \"eu\"}" "the parent's global wins"
like "$out" "region: \"eu\"" "globals flow down to subcharts"
like "$out" "dbonly: \"x\"" "a subchart's own globals stay"
like "$out" "FROMDB, value: \"42\"" "import-values, child/parent form"
like "$out" "DATA, value: \"from-exports\"" "import-values, exports form"
like "$out" "TEMPLATE, value: \"app/templates/deploy.yaml\"" ".Template.Name"
like "$out" "BASE, value: \"app/templates\"" ".Template.BasePath"
like "$out" "KUBE, value: \"v1.30.0\"" "KubeVersion defaults to v1.30.0"
like "$out" "HASAPI, value: \"false\"" "APIVersions.Has"
like "$out" "LINE2, value: \"line two\"" ".Files.Lines"
like "$out" "SUBS, value: \"db,lib,memo\"" ".Subcharts, the alias as name"
like "$out" "DBFILE, value: \"hello from db\"" "a subchart's .Files through .Subcharts"
like "$out" "a.properties: \\|" ".Files.Glob ... AsConfig"
like "$out" "root: \"false\"" ".Chart.IsRoot in a subchart"
like "$out" "name: memo-3" "an aliased .tgz subchart: the alias is its name, its values come from there"
printf '%s\n' "$out" | grep -q 'old.bak\|ShouldNotRender\|Thanks for\|CustomResourceDefinition\|empty.yaml'
tap_report $((!$?)) ".helmignore, library templates, NOTES.txt, crds/ and empty files stay out"

run "$KEDGE" render rel "$C" --set db.enabled=false,tags.extras=false
like "$out" "# Source: app/templates/deploy.yaml" "with subcharts off the chart renders"
printf '%s\n' "$out" | grep -q 'charts/db/\|charts/memo/'
tap_report $((!$?)) "condition and tags turn subcharts off"

run "$KEDGE" render rel "$C" --include-crds --skip-tests -n prod --is-upgrade \
	--kube-version 1.29.3 --api-versions example.org/v1
like "$out" "^---
# Source: app/crds/crd.yaml
apiVersion: apiextensions.k8s.io/v1" "--include-crds prints crds/ first"
printf '%s\n' "$out" | grep -q 'app-test'
tap_report $((!$?)) "--skip-tests leaves out test hooks"
like "$out" "namespace: prod" "--namespace"
like "$out" "UPGRADE, value: \"true\"" "--is-upgrade"
like "$out" "KUBE, value: \"v1.29.3\"" "--kube-version"
like "$out" "HASAPI, value: \"true\"" "--api-versions"

run "$KEDGE" render rel "$C" --no-hooks
printf '%s\n' "$out" | grep -q 'migrate\|app-test'
tap_report $((!$?)) "--no-hooks leaves out every hook"
run "$KEDGE" render rel "$C" --show-only templates/cm.yaml --show-only 'charts/*/templates/svc.yaml'
is "$(printf '%s\n' "$out" | grep -c '^# Source:')" 3 "--show-only selects templates (globs too)"
run "$KEDGE" render rel "$C" -s templates/nope.yaml
is "$rc" 1 "--show-only of a missing template fails"
is "$err" "Error: could not find template templates/nope.yaml in chart" "as Helm says it"
run "$KEDGE" render "$C" --name-template 'gen-{{ "x" | upper | lower }}'
like "$out" "name: gen-x-app" "--name-template"
run "$KEDGE" render "$C"
like "$out" "name: release-name-app" "the default release name"
run "$KEDGE" render Bad_Name "$C"
is "$rc" 1 "an invalid release name fails"

# the --set family and values files
printf 'replicas: 5\nimage: {tag: "2.0"}\n' >"$TMP/v1.yaml"
printf 'image: {tag: "3.0"}\n' >"$TMP/v2.yaml"
printf 'from-a-file' >"$TMP/setfile"
run "$KEDGE" render rel "$C" -f "$TMP/v1.yaml" -f "$TMP/v2.yaml"
like "$out" "replicas: 5" "-f files merge"
like "$out" "nginx:3.0" "a later -f wins"
run "$KEDGE" render rel "$C" -f "$TMP/v1.yaml" --set replicas=7 \
	--set-string 'image.tag=010' --set-json 'global={"region":"ap"}'
like "$out" "replicas: 7" "--set beats -f"
like "$out" "nginx:010" "--set-string keeps 010 a string"
like "$out" "value: \"ap\"}" "--set-json"
run "$KEDGE" render rel "$C" --set-file image.tag="$TMP/setfile"
like "$out" "nginx:from-a-file" "--set-file"
run "$KEDGE" render rel "$C" --set-literal 'image.tag=a,b=c'
like "$out" "nginx:a,b=c" "--set-literal takes the value as is"
run "$KEDGE" render rel "$C" --set 'image.repository=null'
is "$rc" 1 "--set key=null deletes the key (required then fails)"
is "$out" "" "no partial output"
like "$err" "execution error at \(app/templates/deploy.yaml:12:[0-9]+\): image.repository is required" \
	"the required message, with file, line and column"
run "$KEDGE" render rel "$C" --set failme=true
is "$err" "Error: execution error at (app/templates/check.yaml:1:3): failme is set

Use --debug flag to render out invalid YAML" "fail inside an include: Helm's message, at the place in the rendered file"
run "$KEDGE" render rel "$C" --set failtwo=true
like "$err" '^Error: template: app/templates/check.yaml:1:3: executing "app/templates/check.yaml" at <include "app.check" .>: error calling include: template: app/templates/_helpers.tpl:2:[0-9]+: executing "app.check" at <fail "two\\nlines">: error calling fail: HELM\[two' \
	"a multi-line fail message: Go's error chain, as Helm prints it"
run "$KEDGE" render rel "$C" --set 'a.b[x]=1'
is "$rc" 1 "a malformed --set fails"
like "$err" "failed parsing --set data" "naming the flag"

# strvals: list indexes, nested lists and maps, escapes, types
run "$KEDGE" render rel "$C" -s templates/setcheck.yaml \
	--set 'setcheck.l[1]=x,setcheck.m[0].k=v,setcheck.n[0][1]=2' \
	--set 'setcheck.esc=a\,b,setcheck.dot\.key=1,setcheck.list={p,q}' \
	--set 'setcheck.zero=007,setcheck.int=12,setcheck.t=TRUE,setcheck.nul=null'
like "$out" 'json: "\{\\"dot.key\\":1,\\"esc\\":\\"a,b\\",\\"int\\":12,\\"l\\":\[null,\\"x\\"\],\\"list\\":\[\\"p\\",\\"q\\"\],\\"m\\":\[\{\\"k\\":\\"v\\"\}\],\\"n\\":\[\[null,2\]\],\\"nul\\":null,\\"t\\":true,\\"zero\\":\\"007\\"\}"' \
	"--set: indexes pad with null, escapes, {lists}, ints, bools, 007 stays a string, a null without a default stays"
run "$KEDGE" render rel "$C" -s templates/setcheck.yaml --set-json 'setcheck={"a":[1,{"b":null}]}'
like "$out" 'json: "\{\\"a\\":\[1,\{\\"b\\":null\}\]\}"' "--set-json with a whole object"
run "$KEDGE" render rel "$C" -s templates/setcheck.yaml --set-json 'setcheck.a=[1,2],setcheck.b="x"'
like "$out" 'json: "\{\\"a\\":\[1,2\],\\"b\\":\\"x\\"\}"' "--set-json with key=JSON pairs"

# bad input
printf 'replicas: 4\n---\nreplicas: 9\n' >"$TMP/two-docs.yaml"
run "$KEDGE" render rel "$C" -f "$TMP/two-docs.yaml"
like "$out" "replicas: 4" "a values file's first document counts, as in Helm"
printf 'a: [1\n' >"$TMP/bad-values.yaml"
run "$KEDGE" render rel "$C" -f "$TMP/bad-values.yaml"
is "$rc" 1 "a broken values file fails"
like "$err" "bad-values.yaml:2:1: did not find expected" "naming the file and line"
run "$KEDGE" render rel "$C" --kube-version 1.19.0
is "$rc" 1 "an incompatible kube version fails"
like "$err" "chart requires kubeVersion: >=1.20.0-0 which is incompatible with Kubernetes v1.19.0" "as Helm says"
run "$KEDGE" render rel "$C/charts/lib"
is "$rc" 1 "a library chart cannot be rendered"
like "$err" "library charts are not installable" "as Helm says"
mkdir -p "$TMP/nodep/templates"
printf 'apiVersion: v2\nname: nodep\nversion: 1.0.0\ndependencies:\n  - {name: gone, version: 1.0.0}\n' >"$TMP/nodep/Chart.yaml"
run "$KEDGE" render rel "$TMP/nodep"
is "$rc" 1 "a dependency missing from charts/ fails"
like "$err" "found in Chart.yaml, but missing in charts/ directory: gone" "naming it"
run "$KEDGE" render rel "$C" --set replicas=0,name=Web
is "$rc" 1 "a schema violation fails"
is "$err" "Error: values don't meet the specifications of the schema(s) in the following chart(s):
app:
- replicas: Must be greater than or equal to 1
- name: Does not match pattern '^[a-z]+\$'" "every violation, with its path"
is "$out" "" "and prints nothing"
# patterns are Go's regexp (Unicode classes, inline flags), as in Helm
run "$KEDGE" render rel "$C" --set label=äbX12
is "$rc" 0 "a value matching a Go-syntax pattern passes"
run "$KEDGE" render rel "$C" --set label=Ab1
is "$rc" 1 "a value not matching it fails"
like "$err" "- label: Does not match pattern" "naming the property"

cp -r "$C" "$TMP/syntax"
printf 'a: 1\nb: {{ if }}x{{ end }}\n' >"$TMP/syntax/templates/bad.yaml"
run "$KEDGE" render rel "$TMP/syntax"
is "$rc" 1 "a template syntax error fails"
like "$err" "^Error: parse error at \(app/templates/bad.yaml:2\): missing value for if" \
	"naming chart, file and line"
is "$out" "" "with no partial result"

cp -r "$C" "$TMP/cycle"
printf '{{ define "loop" }}{{ include "loop" . }}{{ end }}{{ include "loop" . }}\n' \
	>"$TMP/cycle/templates/loop.yaml"
run "$KEDGE" render rel "$TMP/cycle"
is "$rc" 1 "a cyclic include fails"
like "$err" "app/templates/loop.yaml:1:[0-9]+: executing \"loop\" .*rendering template has a nested reference name: loop: unable to execute template" \
	"naming the file, line and template, in Helm's words"

cp -r "$C" "$TMP/invalid"
printf 'a: [1\nb: 2\n' >"$TMP/invalid/templates/broken.yaml"
run "$KEDGE" render rel "$TMP/invalid"
is "$rc" 1 "invalid YAML output fails"
like "$err" "YAML parse error on app/templates/broken.yaml: error converting YAML to JSON: yaml: line 1: did not find expected ',' or ']'" \
	"naming the file and the line as Helm does (go-yaml counts this one from 0)"
is "$out" "" "with no partial result"

cp -r "$C" "$TMP/link"
ln -s /etc/passwd "$TMP/link/files/passwd"
run "$KEDGE" render rel "$TMP/link"
is "$rc" 1 "a symbolic link out of the chart is refused"
like "$err" "symbolic link files/passwd points outside the chart" "naming the link"
rm "$TMP/link/files/passwd"
ln -s lines.txt "$TMP/link/files/alias.txt"
run "$KEDGE" render rel "$TMP/link"
is "$rc" 0 "a link inside the chart is followed"

# a .tgz of the chart, and a 2 GB bomb: 512 members of 4 MiB of zeros, made
# of concatenated gzip members so it is written in a moment
tar -C "$TMP" -czf "$TMP/pkg/app-1.2.3.tgz" app
run "$KEDGE" render rel "$TMP/pkg/app-1.2.3.tgz"
is "$rc" 0 "a packaged chart renders"
like "$out" "name: memo-3" "with its subcharts"
mkdir -p "$TMP/tr/c"
printf 'apiVersion: v2\nname: c\nversion: 1.0.0\n' >"$TMP/tr/c/Chart.yaml"
echo x >"$TMP/tr/evil.txt"
tar -C "$TMP/tr" -P -czf "$TMP/trav.tgz" c/Chart.yaml c/../evil.txt 2>/dev/null
run "$KEDGE" render rel "$TMP/trav.tgz"
is "$rc" 1 "an archive member outside the chart is refused"
like "$err" "member \"c/../evil.txt\" illegally references a parent directory" "naming the member"
ln -s /etc/passwd "$TMP/tr/c/link"
tar -C "$TMP/tr" -czf "$TMP/link.tgz" c
run "$KEDGE" render rel "$TMP/link.tgz"
is "$rc" 1 "a link in an archive is refused"
like "$err" "member \"c/link\" is a link; links are not allowed in chart archives" "naming it"
printf 'not a chart archive\n' >"$TMP/junk.tgz"
run "$KEDGE" render rel "$TMP/junk.tgz"
is "$rc" 1 "a file that is no archive is refused"
like "$err" "junk.tgz: not a gzip-compressed chart archive" "saying so"
mkdir -p "$TMP/b/c"
head -c 4194304 /dev/zero >"$TMP/b/c/big.yaml"
tar -C "$TMP/b" -cf "$TMP/b/one.tar" c/big.yaml
head -c 512 "$TMP/b/one.tar" | gzip -c >"$TMP/b/hdr.gz"
head -c 4194304 /dev/zero | gzip -c >"$TMP/b/data.gz"
cat "$TMP/b/hdr.gz" "$TMP/b/data.gz" >"$TMP/b/unit.gz"
for i in 1 2 3 4 5 6 7 8 9; do cat "$TMP/b/unit.gz" "$TMP/b/unit.gz" >"$TMP/b/u2.gz"; mv "$TMP/b/u2.gz" "$TMP/b/unit.gz"; done
mv "$TMP/b/unit.gz" "$TMP/bomb.tgz"
is "$(gzip -dc "$TMP/bomb.tgz" 2>/dev/null | head -c 2147484160 | wc -c)" 2147484160 "the bomb inflates to 2 GB"
start=$(date +%s)
run "$KEDGE" render rel "$TMP/bomb.tgz"
is "$rc" 1 "the .tgz bomb is refused"
like "$err" "bomb.tgz: the archive decompresses to more than 100 MiB \(KD_LIMIT_CHART_BYTES\)" "naming the archive and the limit"
ok "quickly" test $(($(date +%s) - start)) -lt 20

# a document that is a scalar or a list: Helm reads every document into
# its head struct and fails, naming what it found (checked with helm
# v3.17.1); a null or comment-only document is no document
S=$TMP/scalar
mkdir -p "$S/templates"
printf 'apiVersion: v2\nname: sc\nversion: 0.1.0\n' >"$S/Chart.yaml"
printf -- '---\n# only a comment\n---\n~\n' >"$S/templates/empty.yaml"
for body in 'hello world:string' '- a:array' '42:number' 'true:bool' '"quoted":string'; do
	printf '%s\n' "${body%:*}" >"$S/templates/x.yaml"
	run "$KEDGE" render "$S" --kube-version 1.30.0
	is "$rc" 1 "a document that is ${body%:*}: the render fails"
	like "$err" "YAML parse error on sc/templates/x.yaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal ${body##*:} into Go value of type releaseutil.SimpleHead" \
		"...as Helm says (${body##*:})"
done
rm "$S/templates/x.yaml"
run "$KEDGE" render "$S" --kube-version 1.30.0
is "$rc" 0 "null and comment-only documents render"

done_testing

# Allocation-failure mode (tests/unit/oom.c, make oom): a YAML decode and
# encode, a template render, and a chart with a subchart and a schema
# loaded and rendered from its folder and from a .tgz, each run once for
# every allocation it makes with that allocation failing. Each run must
# give the same output or a clear out-of-memory error, free everything,
# and raise no ASan or LeakSanitizer report. Every allocation is tried
# (a few hundred per scenario, about 6 s in all); --max 3000 samples
# evenly past that, should a scenario grow.
. tests/lib.sh

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:exitcode=98
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=97
bin=build/tests/san/oom
ok "the allocation-failure build exists (make oom)" test -x "$bin"

c=$TMP/web
mkdir -p "$c/templates" "$c/charts/db/templates"
cat >"$c/Chart.yaml" <<'Y'
apiVersion: v2
name: web
version: 1.2.0
dependencies:
  - name: db
    version: 0.1.0
    condition: db.enabled
Y
cat >"$c/values.yaml" <<'Y'
replicas: 2
image: {repository: nginx, tag: "1.25"}
db: {enabled: true, size: 1Gi}
Y
echo '{"type":"object","properties":{"replicas":{"type":"integer","minimum":1}}}' >"$c/values.schema.json"
cat >"$c/templates/_helpers.tpl" <<'Y'
{{- define "web.labels" -}}
app: {{ .Chart.Name }}
release: {{ .Release.Name }}
{{- end }}
Y
cat >"$c/templates/deploy.yaml" <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}-web
  labels:
{{ include "web.labels" . | indent 4 }}
spec:
  replicas: {{ .Values.replicas }}
  template:
    spec:
      containers:
        - name: web
          image: "{{ .Values.image.repository }}:{{ .Values.image.tag }}"
Y
printf 'apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\nspec:\n  ports: [{port: 80}]\n' >"$c/templates/svc.yaml"
printf 'apiVersion: v2\nname: db\nversion: 0.1.0\n' >"$c/charts/db/Chart.yaml"
printf 'size: 500Mi\n' >"$c/charts/db/values.yaml"
printf 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata:\n  name: {{ .Release.Name }}-db\nspec:\n  resources: {requests: {storage: {{ .Values.size }}}}\n' >"$c/charts/db/templates/pvc.yaml"
tar -C "$TMP" -czf "$TMP/web.tgz" web

for s in yaml tmpl sprig "chart $c" "tgz $TMP/web.tgz"; do
	name=${s%% *}
	# shellcheck disable=SC2086 # the scenario and its argument
	"$bin" $s --max 3000 >"$TMP/$name.out" 2>"$TMP/$name.err"
	src=$?
	reports=$(grep -c -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$TMP/$name.err")
	summary=$(grep -E '^(not )?ok .*each of' "$TMP/$name.out")
	is "$src:$reports" "0:0" "$name: every allocation failing in turn, no crash, leak or sanitizer report"
	like "$summary" '^ok .*each of [0-9]+ allocations failing in turn' "${summary#ok [0-9]* - }"
	[ "$src:$reports" = "0:0" ] || { grep -v '^ok ' "$TMP/$name.out" | head -30; sed 's/^/# /' "$TMP/$name.err" | head -40; }
done
done_testing

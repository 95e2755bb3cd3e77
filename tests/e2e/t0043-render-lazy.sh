# kedge render's memory levers keep Helm's output and errors: templates
# without {{define}} are parsed when they run, each into an arena of its
# own that is emptied after it unless it stored into .Values. Checked on a
# chart whose templates store into .Values for later ones, include another
# file's body by name, define in a body file and use a block; then a
# parse error in a template that runs after a failing one, or that is only
# included, is the error (Helm parses everything before it runs anything).
. tests/lib.sh

C=$TMP/lz
mkdir -p "$C/templates"
printf 'apiVersion: v2\nname: lz\nversion: 0.1.0\n' >"$C/Chart.yaml"
printf 'base: {}\n' >"$C/values.yaml"
cat >"$C/templates/z-writer.yaml" <<'Y'
{{- $_ := set .Values "shared" (dict "greeting" (printf "%s-%d" "hi" 1)) }}
{{- $_ := set .Values.base "k" (list "x" "y") }}
Y
cat >"$C/templates/a-reader.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: reader
  annotations:
    checksum: {{ include (print $.Template.BasePath "/cm.yaml") . | sha256sum }}
data:
  greeting: {{ .Values.shared.greeting }}
  k: {{ .Values.base.k | join "," }}
  local: {{ include "lz.local" . }}
  blk: {{ template "lz.blk" . }}
Y
cat >"$C/templates/cm.yaml" <<'Y'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
data:
  a: {{ "literal" | quote }}
Y
cat >"$C/templates/defs.yaml" <<'Y'
{{- define "lz.local" }}{{ $d := dict "v" "local" }}{{ $_ := set $d "w" "ok" }}{{ $d.v }}-{{ $d.w }}{{ end }}
# {{ block "lz.blk" . }}blockbody{{ end }}
Y

# the checksum is sha256 of cm.yaml's output, as helm v3.17.1 printed it
run "$KEDGE" render rel "$C"
is "$rc" 0 "a chart whose templates share .Values renders"
is "$out" "---
# Source: lz/templates/a-reader.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: reader
  annotations:
    checksum: 66b6916ec8adae7b43948d11a23f0d1c234b9a70fa233ceef6c1fc76177a7d6e
data:
  greeting: hi-1
  k: x,y
  local: local-ok
  blk: blockbody
---
# Source: lz/templates/cm.yaml
apiVersion: v1
kind: ConfigMap
metadata:
  name: cm
data:
  a: \"literal\"
---
# Source: lz/templates/defs.yaml
# blockbody" "what a template stored into .Values, another file's body by name, a define and a block in a body file"

cp -r "$C" "$TMP/late"
printf '{{ fail "boom" }}\n' >"$TMP/late/templates/b-fail.yaml"
printf 'x: {{ if }}\n' >"$TMP/late/templates/0-bad.yaml"
run "$KEDGE" render rel "$TMP/late"
is "$rc" 1 "a failing template with a syntax error in one that runs later fails"
like "$err" "^Error: parse error at \(lz/templates/0-bad.yaml:1\): missing value for if" \
	"with the parse error, as Helm parses everything first"
is "$out" "" "and prints nothing"

cp -r "$C" "$TMP/inc"
printf 'x: {{ include "lz/templates/0-bad.yaml" . }}\n' >"$TMP/inc/templates/b-inc.yaml"
printf 'x: {{ if }}\n' >"$TMP/inc/templates/0-bad.yaml"
run "$KEDGE" render rel "$TMP/inc"
is "$rc" 1 "including a body with a syntax error fails"
like "$err" "^Error: parse error at \(lz/templates/0-bad.yaml:1\): missing value for if" \
	"with that parse error"

done_testing

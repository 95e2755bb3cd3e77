# Render memory (the review of issue 21, findings 7 and 16): one chart
# render holds at most KD_LIMIT_RENDER_BYTES (256 MiB) over all its arenas
# and buffers. include doubling a string, nested range until 10000 and a
# 4.5 MB regex alternation each reached 1.1-1.3 GB before; now each fails
# fast, naming the limit, the template and its line, with a peak RSS near
# the bound. printf widths and precisions follow Go's fmt exactly (1e6 from
# an argument, 10,000,009 written out; past them %!(BADWIDTH),
# %!(BADPREC), %!(NOVERB)): the expected texts are Helm v3.17.1's.
. tests/lib.sh

LIMIT_KIB=$((256 << 10))
# what a render holds beyond its counted arenas and buffers: the binary,
# the loaded chart, the allocator's slack (measured: at most 42 MiB, for
# the 4.5 MB pattern, whose chart alone is held several times)
SLACK_KIB=$((48 << 10))

# chart NAME: a chart folder $TMP/NAME whose template comes on stdin
chart() {
	mkdir -p "$TMP/$1/templates"
	printf 'apiVersion: v2\nname: %s\nversion: 0.1.0\n' "$1" >"$TMP/$1/Chart.yaml"
	cat >"$TMP/$1/templates/a.yaml"
}

# bounded NAME CHART ARGS...: renders, expecting the memory limit named at
# the template's line, within 60 s and the bound's RSS
bounded() {
	local name=$1 chart=$2 start secs
	shift 2
	start=$(date +%s)
	if [ -x /usr/bin/time ]; then
		run /usr/bin/time -o "$TMP/rss" -f %M timeout 120 "$KEDGE" render "$TMP/$chart" "$@"
	else
		run timeout 120 "$KEDGE" render "$TMP/$chart" "$@"
	fi
	secs=$(($(date +%s) - start))
	is "$rc" 1 "$name: refused"
	like "$err" "a\.yaml:[0-9]+:[0-9]+: .*render memory limit: more than 256 MiB held at once \(KD_LIMIT_RENDER_BYTES\)" \
		"$name: the error names the limit and the line"
	[ "$secs" -le 60 ]
	tap_report $? "$name: within 60 s ($secs s)"
	if [ -x /usr/bin/time ]; then
		local kib
		kib=$(tail -1 "$TMP/rss")
		[ "$kib" -lt $((LIMIT_KIB + SLACK_KIB)) ]
		tap_report $? "$name: peak RSS $kib KiB, near the 262144 KiB bound"
	else
		echo "ok - # SKIP no /usr/bin/time for the peak RSS"
	fi
}

# 7: include doubling a string until it is 2 GB
chart dbl <<'EOF'
{{- define "d" }}{{ if lt (len .) 2000000000 }}{{ include "d" (printf "%s%s" . .) }}{{ end }}{{ end -}}
x: {{ include "d" "ab" | len }}
EOF
bounded "include doubling a string" dbl

# 7: 10,000 lists of 10,000 numbers
chart nest <<'EOF'
{{- range until 10000 }}{{ range until 10000 }}x{{ end }}{{ end }}
EOF
bounded "nested range until 10000" nest

# 7: a 4.5 MB alternation of 500,000 words (Go compiles it, 880 MB in
# Helm): its tree and program pass the bound
perl -e 'srand 1; my @w = map { join "", map { ("a".."z")[rand 26] } 1..8 } 1..500000;
	print "{{- \$p := \"", join("|", @w), "\" }}\nx: {{ regexMatch \$p \"abc\" }}\n"' | chart rx
bounded "a 4.5 MB regex alternation" rx
# 40,000 \pL: Go refuses ("expression too large", its rune count); here
# their classes pass the memory bound first
perl -e 'print "{{- \$p := \"", join("|", ("\\\\pL") x 40000), "\" }}\nx: {{ mustRegexMatch \$p \"abc\" }}\n"' | chart pl
bounded "an alternation of 40,000 \\pL" pl

# the bound itself: 25 strings of 10 MB (238 MiB and the list) render, 26
# are past it
chart big <<'EOF'
{{- $l := list }}{{ range until (int .Values.n) }}{{ $l = append $l (printf "%10000000d" 1) }}{{ end -}}
n: {{ len $l }}
EOF
run timeout 120 "$KEDGE" render "$TMP/big" --set n=25
is "$rc" 0 "25 strings of 10 MB render under the bound: $(printf %s "$err" | head -c 300)"
like "$out" "n: 25" "all 25 of them"
bounded "26 strings of 10 MB" big --set n=26

# 16: printf at Go's bounds and one past them, as Helm prints them
chart pf <<'EOF'
a: {{ printf "%*d|" 1000000 7 | len }}
b: {{ printf "%*d|" 1000001 7 | quote }}
c: {{ printf "%*d|" -1000001 7 | quote }}
d: {{ printf "%.*f|" 1000001 1.5 | quote }}
e: {{ printf "%.*d|" -3 7 | quote }}
f: {{ printf "%10000009d|" 7 | len }}
g: {{ printf "%10000010d|x" 7 | quote }}
h: {{ printf "%.10000010d|x" 7 | quote }}
i: {{ printf "%.1000000f" 1.5 | len }}
j: {{ printf "%-*s|" -200001 "ab" | len }}
k: {{ printf "%*s|" 3.0 "ab" | quote }}
l: {{ printf "%200000s|" "ab" | len }}
m: {{ printf "%.*s|" 1000000 "abc" | quote }}
n: {{ printf "%.*d|" 1000000 7 | len }}
o: {{ printf "%0*.3f|" 1000000 -2.5 | len }}
p: {{ printf "%*x|" 1000000 255 | len }}
q: {{ printf "%.1000000e" 1.5 | len }}
r: {{ printf "%*v|" 1000000 (list 1 2) | len }}
s: {{ printf "%.*g|" 1000000 1.25 | quote }}
t: {{ printf "%1000001c|" 65 | len }}
u: {{ printf "%0*d|" 1000 -7 | len }}
v: {{ printf "%08d|%#o|%#O|%O|%#x|%#b|%+08d|% 07d|%#.5o|%#08x|%-08d|%.0d|%5.0d|%#o" -7 8 8 -8 255 5 42 -3 8 255 3 0 0 0 | quote }}
EOF
cat >"$TMP/pf.want" <<'EOF'
---
# Source: pf/templates/a.yaml
a: 1000001
b: "%!(BADWIDTH)7|"
c: "%!(BADWIDTH)7|"
d: "%!(BADPREC)1.500000|"
e: "%!(BADPREC)7|"
f: 10000010
g: "%!(NOVERB)%!(EXTRA int=7)"
h: "%!(NOVERB)%!(EXTRA int=7)"
i: 1000002
j: 200002
k: "%!(BADWIDTH)ab|"
l: 200001
m: "abc|"
n: 1000001
o: 1000001
p: 1000001
q: 1000006
r: 2000004
s: "1.25|"
t: 1000002
u: 1001
v: "-0000007|010|0o010|-0o10|0xff|0b101|+0000042|-000003|00010|0x000000ff|3       ||     |0"
EOF
run timeout 60 "$KEDGE" render "$TMP/pf"
is "$rc" 0 "printf at and past Go's width and precision bounds renders: $err"
is "$out" "$(cat "$TMP/pf.want")" "as Helm v3.17.1 prints it"

# a width at Go's bound, many times: the memory bound, not a crash
chart pfmany <<'EOF'
{{- range until 40 }}{{ printf "%10000009d" 1 }}{{ end }}
EOF
run timeout 120 "$KEDGE" render "$TMP/pfmany"
is "$rc" 1 "40 widths of 10,000,009 (400 MB of output) are refused"
like "$err" "KD_LIMIT_(RENDER|OUTPUT)_BYTES|output too large" "naming a limit"

done_testing

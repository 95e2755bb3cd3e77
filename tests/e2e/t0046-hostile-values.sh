# Hostile input to kedge render's values, templates and chart folders (the
# review of issue 21): endless streams and folders as values files, --set
# errors that keep their reason, Helm's results or named limits at the
# bounds of seq, printf and regex repeats, a chart folder linking out of
# the repository. Each ends with an error naming the input and the limit,
# in bounded time.
. tests/lib.sh

C=$TMP/c
mkdir -p "$C/templates"
printf 'apiVersion: v2\nname: c\nversion: 0.1.0\n' >"$C/Chart.yaml"
printf 'a: {{ .Values.a | quote }}\n' >"$C/templates/cm.yaml"

# 4: streams never end, so only the limit stops the read (64 MiB)
run timeout 60 "$KEDGE" render "$C" -f /dev/zero
is "$rc" 1 "-f /dev/zero fails (not a hang: timeout would give 124)"
like "$err" "/dev/zero is larger than 67108864 bytes \(the limit\)" "naming the file and the limit"
run timeout 60 "$KEDGE" render "$C" -f <(yes)
is "$rc" 1 "-f <(yes) fails"
like "$err" "/dev/fd/[0-9]+ is larger than 67108864 bytes" "naming the pipe and the limit"
run timeout 60 "$KEDGE" render "$C" --set-file a=/dev/zero
is "$rc" 1 "--set-file a=/dev/zero fails"
like "$err" "/dev/zero is larger than 67108864 bytes" "naming the file and the limit"
yes | timeout 60 "$KEDGE" render "$C" -f - >"$TMP/o" 2>"$TMP/e"
is "$?" 1 "-f - with an endless standard input fails"
like "$(cat "$TMP/e")" "standard input is larger than 67108864 bytes" "naming standard input"
run timeout 60 "$KEDGE" render "$C" -f /etc
is "$rc" 1 "-f /etc is refused, not taken as empty values"
like "$err" "/etc is a directory" "saying it is a directory"
run timeout 60 "$KEDGE" render "$C" --set-file a=/etc
like "$err" "/etc is a directory" "--set-file with a directory too"
printf 'a: fine\n' >"$TMP/v.yaml"
run "$KEDGE" render "$C" -f "$TMP/v.yaml" --set-file a=<(printf from-a-pipe)
like "$out" 'a: "from-a-pipe"' "a finite pipe still reads whole"

# 12: --set errors keep their reason and leave out the (maybe huge) input
big=$(head -c 100000 /dev/zero | tr '\0' x)
run "$KEDGE" render "$C" --set "a.b[x$big]=1"
is "$rc" 1 "a 100 kB --set with a bad index fails"
like "$err" '^Error: failed parsing --set data: error parsing index: strconv.Atoi: parsing "x+": invalid syntax$' \
	"Helm's prefix, then the reason, not cut off by an echo of the input"
run "$KEDGE" render "$C" --set "$big,b"
like "$err" 'failed parsing --set data: key "x{64}" has no value \(cannot end with ,\)$' "a long key is cut, the reason kept"
run "$KEDGE" render "$C" --set-json "{$big"
like "$err" 'failed parsing --set-json data JSON: --set-json:1:2: expected a string key' "--set-json: the JSON reason"
is "$(printf '%s' "$err" | wc -c | tr -d ' ')" "$(printf '%s' "$err" | head -c 400 | wc -c | tr -d ' ')" "and a short message"
lists() { printf 'a'; for ((i = 0; i < $1; i++)); do printf '[0]'; done; printf '=1'; }
run "$KEDGE" render "$C" --set "$(lists 300)"
is "$rc" 1 "300 levels of [0] fail"
is "$err" "Error: failed parsing --set data: lists nested more than 256 deep (KD_LIMIT_DEPTH)" \
	"naming the depth limit, not out of memory"
run "$KEDGE" render "$C" --set "$(lists 256)"
like "$err" "lists nested more than 256 deep" "one past the limit fails"
run "$KEDGE" render "$C" --set "$(lists 255)"
is "$rc" 0 "255 levels (the root map makes 256) render: $err"
like "$out" 'a: "\[\[\[\[' "as nested lists"

# 5: uniqueItems over 300,000 items (about 2 MB of values) in seconds, not
# minutes (each item hashed once); the pair found is the pairwise scan's:
# the first item that has a later copy, and its first copy
U=$TMP/u
mkdir -p "$U/templates"
printf 'apiVersion: v2\nname: u\nversion: 0.1.0\n' >"$U/Chart.yaml"
printf 'n: {{ len .Values.l }}\n' >"$U/templates/n.yaml"
printf '{"type":"object","properties":{"l":{"type":"array","uniqueItems":true}}}\n' >"$U/values.schema.json"
awk 'BEGIN { printf "l: ["; for (i = 0; i < 300000; i++) printf "%s{\"k\": %d, \"s\": \"v%d\"}", i ? "," : "", i, i; print "]" }' >"$TMP/uniq.yaml"
start=$(date +%s%N)
run timeout 60 "$KEDGE" render "$U" -f "$TMP/uniq.yaml"
echo "# 300,000 unique items checked in $((($(date +%s%N) - start) / 1000000)) ms"
is "$rc" 0 "300,000 distinct maps pass uniqueItems: $err"
like "$out" "n: 300000" "all there"
sed 's/{"k": 299999, "s": "v299999"}/{"s": "v7", "k": 7}/; s/{"k": 299990, "s": "v299990"}/{"k": 3, "s": "v3"}/' "$TMP/uniq.yaml" >"$TMP/dup.yaml"
start=$(date +%s%N)
run timeout 60 "$KEDGE" render "$U" -f "$TMP/dup.yaml"
echo "# 300,000 items with duplicates checked in $((($(date +%s%N) - start) / 1000000)) ms"
is "$rc" 1 "duplicates far apart are found"
like "$err" "l: array items\[3,299990\] must be unique" "the first item with a copy, and that copy (keys in another order are equal)"

# 16: at the limits, Helm's result or an error naming the limit
T=$TMP/t
mkdir -p "$T/templates"
printf 'apiVersion: v2\nname: t\nversion: 0.1.0\n' >"$T/Chart.yaml"
tpl() { printf '%s\n' "$1" >"$T/templates/x.yaml"; run timeout 60 "$KEDGE" render "$T"; }
tpl 'a: {{ len (seq 1000000) }}'
like "$out" "a: 6888895" "seq of 1,000,000 numbers (the limit) is whole"
tpl 'a: {{ len (seq 1000001) }}'
is "$rc" 1 "seq past 1,000,000 numbers fails, not a shorter list"
like "$err" "error calling seq: seq: more than 1000000 numbers \(KD_LIMIT_TMPL_SEQ_ITEMS\)" "naming the limit"
tpl 'a: {{ len (until 1000001) }}'
like "$err" "error calling until: more than 1000000 items \(KD_LIMIT_TMPL_SEQ_ITEMS\)" "until too"
tpl 'a: {{ mustRegexMatch "((a{1000}){1000}){1000}" "a" }}'
is "$rc" 1 "nested repeats multiplying past 1000 are refused"
like "$err" 'error parsing regexp: invalid repeat count: `\{1000\}`' "with Go's message"
tpl 'a: {{ regexMatch "((a{1000}){1000}){1000}" "a" }}'
like "$out" "a: false" "regexMatch gives sprig's false for a bad pattern, as Helm does"

# 3: 70,000 nested groups: Go's "expression nests too deeply", no crash
deep="$(printf '(%.0s' $(seq 70000))a$(printf ')%.0s' $(seq 70000))"
printf 'a: {{ mustRegexMatch "%s" "a" }}\n' "$deep" >"$T/templates/x.yaml"
run timeout 60 "$KEDGE" render "$T"
is "$rc" 1 "mustRegexMatch with 70,000 nested groups fails (no SIGSEGV: 139)"
like "$err" "error parsing regexp: expression nests too deeply" "with Go's message"
printf 'a: {{ regexMatch "%s" "a" }}\n' "$deep" >"$T/templates/x.yaml"
run timeout 60 "$KEDGE" render "$T"
like "$out" "a: false" "regexMatch: false, as Helm"
run timeout 60 "$KEDGE" lua -e 'local m, e = require("kedge.regex").match(string.rep("(", 70000) .. "a" .. string.rep(")", 70000), "a") print(m, e)'
like "$out" "^nil.*expression nests too deeply" "kedge.regex: nil and Go's message: $err"

# 17 is tested in t0730-check.sh (a chart folder linking out of the repo)

done_testing

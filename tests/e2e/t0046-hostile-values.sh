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

done_testing

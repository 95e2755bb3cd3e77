# kedge's age against Debian's age both ways (X25519, ssh-ed25519, armor,
# empty and multi-MiB payloads), the C2SP vectors, and bad files.
. tests/lib.sh
VECTORS=${KEDGE_AGE_VECTORS:-../shared/age-vectors}
[ -d "$VECTORS" ] || VECTORS=/work/shared/age-vectors
VECTORS=$(cd "$VECTORS" && pwd)
cd "$TMP" || exit 1
"$KEDGE" keygen -o k.key 2>/dev/null
R=$(age-keygen -y k.key)
like "$R" "^age1" "kedge keygen: age-keygen reads the identity"
head -c 5000000 /dev/urandom >big
: >empty
ssh-keygen -q -t ed25519 -N '' -f s
for f in big empty; do
	"$KEDGE" encrypt -r "$R" -o "$f.k.age" "$f" && age -d -i k.key "$f.k.age" | cmp -s - "$f"
	is "$?" 0 "kedge encrypts ($f), age decrypts"
	age -r "$R" -o "$f.a.age" "$f" && "$KEDGE" decrypt -i k.key "$f.a.age" | cmp -s - "$f"
	is "$?" 0 "age encrypts ($f), kedge decrypts"
done
"$KEDGE" encrypt -a -r "$R" -R s.pub -o two.age big && age -d -i s two.age | cmp -s - big && age -d -i k.key two.age | cmp -s - big
is "$?" 0 "armored, to an X25519 and an ssh-ed25519 recipient: age decrypts with either"
age -a -R s.pub -o s.age big && "$KEDGE" decrypt -i s s.age | cmp -s - big
is "$?" 0 "age to ssh-ed25519 (armored): kedge decrypts with the SSH key"
run python3 "$VECTORS/check.py" "$KEDGE"
like "$out" "^96 right, 0 wrong" "the C2SP age vectors: 96 right, 0 wrong"
echo "# $(printf '%s\n' "$out" | tail -n 1)"
# bad files: a clear error, exit 1, nothing written
age-keygen -o other.key 2>/dev/null
run "$KEDGE" decrypt -i other.key -o out big.k.age
is "$rc:$([ -e out ] && echo out)" "1:" "a wrong identity: exit 1, no output file"
like "$err" "no identity matched" "saying no identity matched"
head -c 3000000 big.k.age >trunc.age
run "$KEDGE" decrypt -i k.key trunc.age
like "$rc:$err" "^1:.*(truncated|authentication)" "a truncated file is refused"
is "$out" "" "and releases nothing"
# the byte there XORed with 1 (writing a fixed byte left the file as it
# was when the byte already held it: once in 256 runs)
cp big.k.age flip.age && perl -e 'open(my $f, "+<", $ARGV[0]) or die; seek($f, 2000000, 0); read($f, my $b, 1);
	seek($f, 2000000, 0); print $f chr(ord($b) ^ 1); close($f)' flip.age
run "$KEDGE" decrypt -i k.key flip.age
like "$rc:$err" "^1:.*chunk" "a flipped byte in a chunk: refused, naming the chunk"
# the stanza's first character changed to another (A, or B where it is A)
sed '2{/^-> X25519 A/!s/^-> X25519 ./-> X25519 A/;t;s/^-> X25519 A/-> X25519 B/}' big.k.age >hdr.age
run "$KEDGE" decrypt -i k.key hdr.age
is "$rc" 1 "a changed header: refused"
sed '2i -> grease-x abc\nAAAA' big.k.age >mac.age
run "$KEDGE" decrypt -i k.key mac.age
like "$rc:$err" "^1:.*header MAC mismatch" "a stanza added to the header: the MAC mismatch is named"
# a file only to a stanza type kedge does not know: skipped, as the spec asks
printf 'age-encryption.org/v1\n-> future-kind abc\nAAAA\n--- %s\n' "$(head -c 32 /dev/zero | base64 | tr -d '=')" >unknown.age
head -c 40 /dev/urandom >>unknown.age
run "$KEDGE" decrypt -i k.key unknown.age
like "$rc:$err" "^1:.*no identity matched" "an unknown stanza type is skipped: no identity matched"
# a huge header: refused at its limit, before any key work
{ echo age-encryption.org/v1; for i in $(seq 1 300); do printf -- '-> X25519 %s\n%s\n' \
	"$(head -c 32 /dev/urandom | base64 | tr -d '=')" "$(head -c 32 /dev/urandom | base64 | tr -d '=')"; done; } >huge.age
run "$KEDGE" decrypt -i k.key huge.age
like "$rc:$err" "^1:.*more than 256 stanzas" "a header of 300 stanzas is refused at the limit"
head -c 100000 /dev/zero | tr '\0' 'A' | sed 's/^/-> X25519 /' | { echo age-encryption.org/v1; cat; echo; } >long.age
run "$KEDGE" decrypt -i k.key long.age
is "$rc" 1 "a 100 KB header line is refused"
is "$out" "" "releasing nothing"
done_testing

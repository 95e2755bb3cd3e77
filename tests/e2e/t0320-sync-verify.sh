# Signature verification: commits and annotated tags signed by git with
# gpg.format=ssh (ssh-keygen -Y sign) with ECDSA P-256, RSA and Ed25519
# keys, checked against an OpenSSH allowed-signers file; unsigned,
# untrusted and tampered commits are refused while the last verified
# commit stays current.
. tests/lib.sh
if ! command -v ssh-keygen >/dev/null 2>&1; then
	echo "1..0 # SKIP ssh-keygen is not installed (./build.sh test installs openssh-client)"
	exit 0
fi
. tests/gitlib.sh

R=$TMP/repo
S=$TMP/state
K=$TMP/keys
mkdir -p "$K"
for t in ecdsa rsa ed25519 rogue; do
	case $t in
	ecdsa) opts=(-t ecdsa -b 256) ;;
	rsa) opts=(-t rsa -b 3072) ;;
	*) opts=(-t ed25519) ;;
	esac
	ssh-keygen -q "${opts[@]}" -N '' -C "$t" -f "$K/$t" || echo "Bail out! ssh-keygen -t $t failed"
done
{
	for t in ecdsa rsa; do printf '%s %s\n' "$t@kedge.invalid" "$(cat "$K/$t.pub")"; done
	printf '# comments and blank lines are fine\n\n'
	printf 'ed@kedge.invalid,ops@kedge.invalid namespaces="git,file" %s\n' "$(cat "$K/ed25519.pub")"
} >"$K/allowed"
# fp KEY: the key's fingerprint as a regex (base64 holds + and /)
fp() { ssh-keygen -lf "$K/$1.pub" | awk '{print $2}' | sed 's/[+/]/\\&/g'; }
signed() { # key: git commit options that sign with it
	echo -c gpg.format=ssh -c "user.signingkey=$K/$1"
}
sign_commit() { # key path content
	local key=$1
	shift
	# shellcheck disable=SC2046
	printf '%s\n' "$2" >"$R/$1" && git -C "$R" add -A &&
		git -C "$R" $(signed "$key") commit -q -S -m "signed by $key: $1" &&
		git -C "$R" push -q -f origin HEAD:main
}
vsync() { run "$KEDGE" sync --repo "$R.git" --state "$S" --trusted-keys "$K/allowed" "$@"; }
meta() { cat "$S/rev/$1.json"; }

ok "a config repo" new_repo "$R"
c0=$(head_of "$R")
run "$KEDGE" sync --repo "$R.git" --ref main --state "$TMP/offstate"
commit_file "$R" second "2"
run "$KEDGE" sync --repo "$R.git" --ref main --state "$TMP/offstate" --trusted-keys "$K/allowed" --verify head
is "$rc" 3 "switching to --verify head refuses an unsigned commit"
like "$err" "still serving $c0 \(itself never verified\)" "and says the commit still served was never verified"
like "$(cat "$TMP/offstate/status.json")" "\"current_verified\": false" "status.json says so too"
git -C "$R" reset -q --hard "$c0" && git -C "$R" push -q -f origin HEAD:main
vsync --ref main --verify head
is "$rc" 3 "an unsigned first commit is refused (exit 3)"
like "$err" "REFUSED $c0 .*commit $c0 is not signed; nothing is served yet" "loudly"
ok "and nothing is served" test ! -e "$S/current"
like "$(cat "$S/status.json")" "\"refusal\": \"commit $c0 is not signed\"" "the refusal is recorded"

for t in ecdsa rsa ed25519; do
	ok "a commit signed with $t" sign_commit "$t" "f-$t" "$t"
	c=$(head_of "$R")
	vsync --ref main --verify head
	is "$rc" 0 "a $t signature from a trusted key verifies"
	is "$out" "$c $S/rev/$c" "and the commit is served ($t)"
	like "$(meta "$c")" "\"state\": \"verified\"" "its metadata says verified ($t)"
	like "$(meta "$c")" "\"key\": \"$(fp "$t")\"" "with the key's fingerprint ($t)"
done
like "$(meta "$c")" "\"principal\": \"ed@kedge.invalid,ops@kedge.invalid\"" "and the allowed-signers principals"
good=$c

# --- refusals ------------------------------------------------------------------
commit_file "$R" unsigned "x"
bad=$(head_of "$R")
vsync --ref main --verify head
is "$rc" 3 "an unsigned commit on top is refused"
is "$out" "$good $S/rev/$good" "the last verified commit is still served"
is "$(readlink "$S/current")" "rev/$good" "current did not move"
like "$(cat "$S/status.json")" "\"wanted\": \"$bad\"" "status.json names the refused commit"
like "$(cat "$S/status.json")" "\"current\": \"$good\"" "and the one still served"
like "$(cat "$S/status.json")" "\"current_verified\": true" "which was verified"
ok "the refused tree was never checked out" test ! -e "$S/rev/$bad"

git -C "$R" reset -q --hard "$good"
sign_commit rogue rogue "r"
vsync --ref main --verify head
is "$rc" 3 "a commit signed by an unknown key is refused"
like "$err" "the signing key is not in $K/allowed" "saying the key is not trusted"

# Tampering: the same signature over a changed message.
git -C "$R" reset -q --hard "$good"
sign_commit ecdsa tamper "t"
git -C "$R" cat-file commit HEAD | sed 's/^signed by ecdsa: tamper$/signed by ecdsa: TAMPERED/' >"$TMP/forged"
forged=$(git -C "$R.git" hash-object -t commit -w "$TMP/forged")
git -C "$R.git" update-ref refs/heads/main "$forged"
vsync --ref main --verify head
is "$rc" 3 "a signature over other content is refused"
like "$err" "bad ecdsa-sha2-nistp256 signature by trusted key $(fp ecdsa)" "as a bad signature"

git -C "$R" reset -q --hard "$good"
printf 'ed@kedge.invalid namespaces="file" %s\n' "$(cat "$K/ed25519.pub")" >"$K/fileonly"
sign_commit ed25519 ns "n"
run "$KEDGE" sync --repo "$R.git" --state "$S" --trusted-keys "$K/fileonly" --ref main --verify head
is "$rc" 3 "a key trusted only for another namespace is refused"
like "$err" "trusted for namespaces \"file\", not \"git\"" "naming the namespaces"

printf 'ed@kedge.invalid valid-before="20200101" %s\n' "$(cat "$K/ed25519.pub")" >"$K/expired"
run "$KEDGE" sync --repo "$R.git" --state "$S" --trusted-keys "$K/expired" --ref main --verify head
is "$rc" 3 "a key past its valid-before is refused"
like "$err" "valid only before 20200101 \(UTC\)" "saying until when it was valid"
printf 'ed@kedge.invalid valid-after="20200101",valid-before="29991231Z" %s\n' "$(cat "$K/ed25519.pub")" >"$K/window"
run "$KEDGE" sync --repo "$R.git" --state "$S" --trusted-keys "$K/window" --ref main --verify head
is "$rc" 0 "a key within its validity window is trusted"

printf 'garbage\n' >"$K/broken"
run "$KEDGE" sync --repo "$R.git" --state "$S" --trusted-keys "$K/broken" --ref main --verify head
is "$rc" 1 "a malformed allowed-signers file is an error"
like "$err" "$K/broken:1: expected 'principals \[options\] key-type base64-key'" "naming file and line"

run "$KEDGE" sync --repo "$R.git" --state "$S" --ref main --verify head
is "$rc" 2 "--verify without --trusted-keys is a usage error"

# --- tags ------------------------------------------------------------------------
git -C "$R" reset -q --hard "$good"
git -C "$R" push -q -f origin HEAD:main
# shellcheck disable=SC2046
git -C "$R" $(signed ed25519) tag -s v1.0.0 -m "release 1.0.0"
git -C "$R" tag -a v1.1.0 -m "unsigned release"
git -C "$R" tag v1.2.0
git -C "$R" push -q origin --tags
vsync --ref v1.0.0 --verify tag
is "$rc" 0 "a tag signed with ed25519 verifies"
like "$(meta "$good")" "\"mode\": \"tag\"" "in tag mode"
vsync --ref "semver:~1.0" --verify tag
is "$rc" 0 "semver: refs verify their tag"
vsync --ref v1.1.0 --verify tag
is "$rc" 3 "an unsigned annotated tag is refused"
like "$err" "tag refs/tags/v1.1.0 .* is not signed" "saying so"
vsync --ref v1.2.0 --verify tag
is "$rc" 3 "a lightweight tag is refused in tag mode"
like "$err" "refs/tags/v1.2.0 is not an annotated tag" "saying why"
vsync --ref main --verify tag
is "$rc" 3 "a branch is refused in tag mode"

# --- force pushes ------------------------------------------------------------------
git -C "$R" reset -q --hard "$good~1"
sign_commit ecdsa forced "f"
forced=$(head_of "$R")
vsync --ref main --verify head
is "$out" "$forced $S/rev/$forced" "a force push to a signed commit is followed"
git -C "$R" reset -q --hard "$good~1"
commit_file "$R" forced-unsigned "u"
vsync --ref main --verify head
is "$rc" 3 "a force push to an unsigned commit is refused"
is "$(readlink "$S/current")" "rev/$forced" "and the verified commit stays current"
git -C "$R" reset -q --hard "$good" && git -C "$R" push -q -f origin HEAD:main

# --- Lua -----------------------------------------------------------------------
run "$KEDGE" lua -e '
local git = require "kedge.git"
local url, state, keys = ...
local r = assert(git.sync{repo = url, ref = "main", state = state, verify = "head", trusted_keys = keys})
local sig = assert(git.open(state)):commit().signature
print(r.refused, sig.state, sig.key_type, sig.principal)
' "$R.git" "$S" "$K/allowed"
is "$out" "nil	verified	ssh-ed25519	ed@kedge.invalid,ops@kedge.invalid" "kedge.git reports the signature state"
commit_file "$R" lua-unsigned "u"
run "$KEDGE" lua -e '
local git = require "kedge.git"
local url, state, keys = ...
local r = assert(git.sync{repo = url, ref = "main", state = state, verify = "head", trusted_keys = keys})
print(r.commit == r.wanted, r.refused)
' "$R.git" "$S" "$K/allowed"
like "$out" "^false	commit [0-9a-f]{40} is not signed$" "and a refusal as result.refused, keeping the old commit"

done_testing

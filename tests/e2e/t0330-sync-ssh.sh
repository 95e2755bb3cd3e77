# kedge sync over SSH against Debian's OpenSSH server on a free port of
# 127.0.0.1, with an ECDSA host key and an ECDSA user key: clone and fetch,
# the pinned host key (mismatch, unknown host, hashed known_hosts, an
# @revoked key, markers and junk lines skipped), and
# the key types libssh2 with mbedTLS cannot use, refused with advice.
. tests/lib.sh
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null 2>&1; then
	echo "1..0 # SKIP openssh-server is not installed (./build.sh test installs it)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP sshd needs root here (it logs in as the current user)"
	exit 0
fi
. tests/gitlib.sh

D=$TMP/sshd
S=$TMP/state
mkdir -p "$D" /run/sshd
ssh-keygen -q -t ecdsa -b 256 -N '' -f "$D/host" -C host
ssh-keygen -q -t ecdsa -b 256 -N '' -f "$D/otherhost" -C otherhost
ssh-keygen -q -t ecdsa -b 256 -N '' -f "$D/user" -C user
ssh-keygen -q -t ecdsa -b 256 -N '' -f "$D/stranger" -C stranger
ssh-keygen -q -t ed25519 -N '' -f "$D/ed" -C ed
ssh-keygen -q -t rsa -b 3072 -N '' -f "$D/rsa" -C rsa
cat "$D/user.pub" "$D/ed.pub" "$D/rsa.pub" >"$D/authorized_keys"
free_port
SSH_PORT=$port
cat >"$D/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $D/host
PidFile $D/sshd.pid
AuthorizedKeysFile $D/authorized_keys
AllowUsers $(id -un)
PermitRootLogin prohibit-password
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
LogLevel VERBOSE
EOF
/usr/sbin/sshd -D -e -f "$D/sshd_config" 2>"$D/sshd.log" &
server_pids+=($!)
wait_listening "$SSH_PORT"

printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$D/host.pub")" >"$D/known_hosts"
printf '[127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$D/otherhost.pub")" >"$D/wrong_known_hosts"
printf 'otherhost.example %s\n' "$(cut -d' ' -f1,2 "$D/host.pub")" >"$D/unrelated_known_hosts"
cp "$D/known_hosts" "$D/hashed_known_hosts" && ssh-keygen -q -H -f "$D/hashed_known_hosts" >/dev/null 2>&1
fp() { ssh-keygen -lf "$D/$1.pub" | awk '{print $2}' | sed 's/[+/]/\\&/g'; }

R=$TMP/repo
ok "a config repo" new_repo "$R"
c1=$(head_of "$R")
URL="ssh://$(id -un)@127.0.0.1:$SSH_PORT$R.git"
ssync() { run "$KEDGE" sync --repo "$URL" --ref main --state "$S" "$@"; }

ssync --ssh-key "$D/user" --known-hosts "$D/known_hosts"
is "$rc" 0 "clone over SSH with an ECDSA user key and a pinned ECDSA host key"
is "$out" "$c1 $S/rev/$c1" "the commit is checked out"
ok "a push" commit_file "$R" bundles/a.yaml "a: 1"
c2=$(head_of "$R")
ssync --ssh-key "$D/user" --known-hosts "$D/known_hosts"
is "$out" "$c2 $S/rev/$c2" "fetch over SSH after a push"
ssync --ssh-key "$D/user" --known-hosts "$D/known_hosts"
like "$err" "unchanged, 0 objects fetched" "a no-op poll over SSH transfers nothing"
ssync --ssh-key "$D/user" --known-hosts "$D/hashed_known_hosts"
is "$rc" 0 "a hashed known_hosts entry (ssh-keygen -H) matches"

run "$KEDGE" sync --repo "ssh://$(id -un)@127.0.0.1:$SSH_PORT$TMP/nothere.git" --ref main --state "$S" \
	--ssh-key "$D/user" --known-hosts "$D/known_hosts"
is "$rc" 1 "a missing repository over SSH fails"
like "$err" "repository not found: ssh://" "saying so"

ssync --ssh-key "$D/user" --known-hosts "$D/wrong_known_hosts"
is "$rc" 1 "a host key that differs from the pin is refused"
like "$err" "SSH host key mismatch for \[127\.0\.0\.1\]:$SSH_PORT: the server offers $(fp host), $D/wrong_known_hosts:1 \(ecdsa-sha2-nistp256\) pins $(fp otherhost)" \
	"naming both fingerprints"
ssync --ssh-key "$D/user" --known-hosts "$D/unrelated_known_hosts"
is "$rc" 1 "a host missing from known_hosts is refused (no trust on first use)"
like "$err" "SSH host \[127\.0\.0\.1\]:$SSH_PORT is not in $D/unrelated_known_hosts \(it offers $(fp host)\)" \
	"with the offered fingerprint"
ssync --ssh-key "$D/user" --known-hosts "$D/tofu_known_hosts" --trust-new-host
is "$rc" 0 "--trust-new-host accepts a host not yet pinned"
like "$err" "WARN.*trusting SSH host \[127\.0\.0\.1\]:$SSH_PORT on first use" "with a warning"
is "$(cut -d' ' -f1,2,3 "$D/tofu_known_hosts")" "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$D/host.pub")" "and pins its key"
ssync --ssh-key "$D/user" --known-hosts "$D/tofu_known_hosts"
is "$rc" 0 "the pin holds for the next sync"
cp "$D/wrong_known_hosts" "$D/tofu_wrong"
ssync --ssh-key "$D/user" --known-hosts "$D/tofu_wrong" --trust-new-host
is "$rc" 1 "--trust-new-host never overrides a mismatch"
{
	printf '# junk first: markers kedge skips, lines without fields\n@cert-authority * %s\n' \
		"$(cut -d' ' -f1,2 "$D/otherhost.pub")"
	printf 'lonely-host\n[127.0.0.1]:%s ecdsa-sha2-nistp256 !!!notbase64\n\n' "$SSH_PORT"
	cat "$D/known_hosts"
} >"$D/messy_known_hosts"
ssync --ssh-key "$D/user" --known-hosts "$D/messy_known_hosts"
is "$rc" 0 "comments, @cert-authority and malformed lines are skipped"
{ cat "$D/known_hosts"; printf '@revoked * %s\n' "$(cut -d' ' -f1,2 "$D/host.pub")"; \
  printf '@revoked [127.0.0.1]:%s %s\n' "$SSH_PORT" "$(cut -d' ' -f1,2 "$D/host.pub")"; } \
	>"$D/revoked_known_hosts"
ssync --ssh-key "$D/user" --known-hosts "$D/revoked_known_hosts" --trust-new-host
is "$rc" 1 "an @revoked host key is refused even where a line pins it"
like "$err" "SSH host key of \[127\.0\.0\.1\]:$SSH_PORT is revoked: the server offers $(fp host), which $D/revoked_known_hosts:3 \(@revoked ecdsa-sha2-nistp256\) refuses" \
	"saying which line revokes it"

ssync --ssh-key "$D/user"
is "$rc" 1 "SSH without --known-hosts is refused"
like "$err" "SSH needs --known-hosts FILE" "saying what to give"
is "$(readlink "$S/current")" "rev/$c2" "refusals leave the served commit alone"

ssync --ssh-key "$D/ed" --known-hosts "$D/known_hosts"
is "$rc" 1 "an Ed25519 user key is refused before connecting"
like "$err" "is a ssh-ed25519 key; kedge's SSH \(libssh2 1\.10 with mbedTLS\) signs with ECDSA keys only" \
	"saying which key types work"
ssync --ssh-key "$D/rsa" --known-hosts "$D/known_hosts"
like "$err" "is a ssh-rsa key; .*ECDSA keys only" "and so is an RSA key"
ssync --ssh-key "$D/stranger" --known-hosts "$D/known_hosts"
is "$rc" 1 "a key the server does not know fails"
like "$err" "refused" "auth refused"
ssync --known-hosts "$D/known_hosts"
like "$err" "asks for an SSH key: give --ssh-key FILE" "no key at all names the option"

# A server that offers only an Ed25519 host key: libssh2 with mbedTLS
# cannot use it, and the error says which host key type is needed.
ssh-keygen -q -t ed25519 -N '' -f "$D/edhost" -C edhost
free_port
ED_PORT=$port
sed -e "s|^Port .*|Port $ED_PORT|" -e "s|^HostKey .*|HostKey $D/edhost|" \
	-e "s|^PidFile .*|PidFile $D/sshd-ed.pid|" "$D/sshd_config" >"$D/sshd_ed_config"
/usr/sbin/sshd -D -e -f "$D/sshd_ed_config" 2>"$D/sshd-ed.log" &
server_pids+=($!)
wait_listening "$ED_PORT"
printf '[127.0.0.1]:%s %s\n' "$ED_PORT" "$(cut -d' ' -f1,2 "$D/edhost.pub")" >"$D/ed_known_hosts"
run "$KEDGE" sync --repo "ssh://$(id -un)@127.0.0.1:$ED_PORT$R.git" --ref main --state "$S" \
	--ssh-key "$D/user" --known-hosts "$D/ed_known_hosts"
is "$rc" 1 "a server with only an Ed25519 host key fails"
like "$err" "needs an ECDSA host key on the server" "saying which host key type works"

done_testing

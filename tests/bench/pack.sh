#!/usr/bin/env bash
# Packs of the example repo (tests/example-repo, its three sites, a signed
# commit) made, verified and bootstrapped under --root in a temporary
# folder (no cluster: the pass is skipped): the pack's size by part, and
# the wall time of each command, cold (first create: sync and renders)
# and warm (a second create reuses the state dir's mirror and charts).
# Images are not in these packs: this build has no kedge.images yet.
# Prints figures only; run from the repository root after ./build.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/gitlib.sh
command -v ssh-keygen >/dev/null || { echo "pack bench: ssh-keygen is missing"; exit 1; }

ssh-keygen -q -t ed25519 -N '' -C ops -f "$TMP/key"
printf 'ops namespaces="git,kedge-pack" %s\n' "$(cat "$TMP/key.pub")" >"$TMP/allowed"
cp -r tests/example-repo "$TMP/work"
git init -q --bare "$TMP/sites.git"
git -C "$TMP/work" init -q
git -C "$TMP/work" add -A
git -C "$TMP/work" -c gpg.format=ssh -c "user.signingkey=$TMP/key" commit -q -S -m sites
git -C "$TMP/work" push -q "$TMP/sites.git" HEAD:main

# timed NAME CMD...: prints "NAME seconds exit"
timed() {
	local name=$1 a b rc
	shift
	a=$(date +%s.%N)
	"$@" >"$TMP/.out" 2>&1
	rc=$?
	b=$(date +%s.%N)
	printf '%-34s %8.3f s  (exit %d)\n' "$name" "$(awk -v a="$a" -v b="$b" 'BEGIN {print b - a}')" "$rc"
	[ "$rc" = 0 ] || [ "$rc" = 4 ] || sed 's/^/    /' "$TMP/.out"
}
create() { "$KEDGE" pack create "$1" --repo "$TMP/sites.git" --ref main --verify head \
	--trusted-keys "$TMP/allowed" --sign-key "$TMP/key" --state-dir "$TMP/state" "${@:2}"; }

mkdir -p "$TMP/root"
echo "kedge pack, example repo (3 sites), $(nproc) cores"
timed "create (cold: sync, render)" create "$TMP/p1"
timed "create (warm state dir)" create "$TMP/p2"
timed "create --tar" create "$TMP/p3" --tar
timed "verify (folder)" "$KEDGE" pack verify "$TMP/p1" --trusted-keys "$TMP/allowed"
timed "verify (tar)" "$KEDGE" pack verify "$TMP/p3.tar" --trusted-keys "$TMP/allowed"
timed "bootstrap (fresh root)" env -u KUBECONFIG "$KEDGE" bootstrap "$TMP/p1" --site berlin-01 \
	--root "$TMP/root" --trusted-keys "$TMP/allowed"
timed "bootstrap (again: nothing to do)" env -u KUBECONFIG "$KEDGE" bootstrap "$TMP/p1" --site berlin-01 \
	--root "$TMP/root" --trusted-keys "$TMP/allowed"
echo
echo "size by part (bytes):"
for part in repo.git charts bin images; do
	[ -e "$TMP/p1/$part" ] && printf '  %-10s %10d\n' "$part" "$(find "$TMP/p1/$part" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')"
done
printf '  %-10s %10d\n' MANIFEST "$(stat -c %s "$TMP/p1/MANIFEST")"
printf '  %-10s %10d (%d files)\n' total "$(find "$TMP/p1" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')" \
	"$(find "$TMP/p1" -type f | wc -l)"
printf '  %-10s %10d\n' tar "$(stat -c %s "$TMP/p3.tar")"
printf '  %-10s %10d (gzip -6 of the tar, for comparison)\n' tar.gz "$(gzip -6 -c "$TMP/p3.tar" | wc -c)"

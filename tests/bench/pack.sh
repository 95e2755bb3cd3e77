#!/usr/bin/env bash
# Packs of the example repo (tests/example-repo, its three sites, a signed
# commit) with 5 images (its charts' four, pointed at a docker-registry on
# 127.0.0.1, and one extraImages entry; each image a shared base layer and
# one of its own, pushed with skopeo), made, verified and bootstrapped
# under --root in a temporary folder (k3s's images folder there, no
# cluster: the pass is skipped): the pack's size by part, what the shared
# blobs saved, and the wall time of each command, cold (first create: sync,
# renders, pulls) and warm (a second create reuses the state dir's mirror
# and charts; the images are pulled again into the new pack).
# Prints figures only; run from the repository root after ./build.sh.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
. tests/servers/registry.sh
. tests/servers/images.sh
. tests/gitlib.sh
for tool in ssh-keygen docker-registry skopeo openssl python3; do
	command -v "$tool" >/dev/null || { echo "pack bench: $tool is missing (./build.sh test installs it)"; exit 1; }
done

SRV=$TMP/srv
mkdir -p "$SRV/certs.d"
make_certs "$SRV"
cp "$SRV/ca.crt" "$SRV/certs.d/"
free_port; REG=127.0.0.1:$port
registry_start "$SRV" "$REG" "$SRV/registry" ""
server_pids+=("$registry_started")
IMAGES="redis node-exporter busybox nginx extra"
IMAGE_BASE_BYTES=$((8 << 20)) make_images "$SRV/src" amd64 $IMAGES
push_images "$SRV/src" "$REG" "$SRV/certs.d" "" $IMAGES || { echo "pack bench: skopeo push failed"; exit 1; }
ssh-keygen -q -t ed25519 -N '' -C ops -f "$TMP/key"
printf 'ops namespaces="git,kedge-pack" %s\n' "$(cat "$TMP/key.pub")" >"$TMP/allowed"
cp -r tests/example-repo "$TMP/work"
for c in cache:redis metrics-agent:node-exporter toolbox:busybox web:nginx; do
	sed -i "s|^image: .*|image: $REG/apps/${c#*:}:1.0|" "$TMP/work/charts/${c%%:*}/values.yaml"
done
sed -i "s|^image: .*|image: $REG/apps/redis:1.0|" "$TMP/work/bundles/cache/values.yaml"
printf 'extraImages: ["%s/apps/extra:1.0"]\n' "$REG" >>"$TMP/work/bundles/web/bundle.yaml"
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
	--trusted-keys "$TMP/allowed" --sign-key "$TMP/key" --state-dir "$TMP/state" --registry-ca "$SRV/ca.crt" "${@:2}"; }

mkdir -p "$TMP/root/var/lib/rancher/k3s"
echo "kedge pack, example repo (3 sites, 5 images), $(nproc) cores"
timed "create (cold: sync, render, pull)" create "$TMP/p1"
grep "images  5 images" "$TMP/.out" | sed 's/^kedge pack: images  /  /' 
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
for part in repo.git charts images bin; do
	[ -e "$TMP/p1/$part" ] && printf '  %-10s %10d\n' "$part" "$(find "$TMP/p1/$part" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')"
done
printf '  %-10s %10d\n' MANIFEST "$(stat -c %s "$TMP/p1/MANIFEST")"
printf '  %-10s %10d (%d files)\n' total "$(find "$TMP/p1" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')" \
	"$(find "$TMP/p1" -type f | wc -l)"
printf '  %-10s %10d\n' tar "$(stat -c %s "$TMP/p3.tar")"
printf '  %-10s %10d (gzip -6 of the tar, for comparison)\n' tar.gz "$(gzip -6 -c "$TMP/p3.tar" | wc -c)"

# kedge pack create / verify / ls with real parts: a config repo (the
# example repo plus a bundle whose chart lives in a Helm HTTP repository
# served by lighttpd) with commits signed by ssh-keygen (gpg.format=ssh),
# MANIFEST.sig checked by `ssh-keygen -Y verify`, the pack's repo.git
# accepted by `kedge sync --verify head`. Then the bad input: a tampered
# blob, MANIFEST edited after signing, an untrusted key, a file that is
# not listed, a missing one, a truncated tar, an unsigned commit, a site
# the repo lacks, a wrong-architecture binary, and a full disk (a small
# tmpfs) after which a rerun resumes and completes.
. tests/lib.sh
. tests/servers/registry.sh
. tests/servers/images.sh
. tests/gitlib.sh
. tests/servers/helmrepo.sh

for tool in lighttpd ssh-keygen python3 openssl docker-registry htpasswd skopeo umoci; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool is not installed (./build.sh test installs it)"
		exit 0
	fi
done

# --- keys, the chart repository, the images, the config repo -----------------------
K=$TMP/keys
mkdir -p "$K"
for k in ops rogue; do ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$K/$k"; done
ssh-keygen -q -t ed25519 -N 'a passphrase' -C locked -f "$K/locked"
ssh-keygen -q -t ecdsa -b 256 -N '' -C ecdsa -f "$K/ecdsa"
printf 'ops@kedge.invalid namespaces="git,kedge-pack" %s\n' "$(cat "$K/ops.pub")" >"$K/allowed"
printf 'rogue@kedge.invalid namespaces="kedge-pack" %s\n' "$(cat "$K/rogue.pub")" >"$K/rogue-allowed"
FP=$(ssh-keygen -lf "$K/ops.pub" | awk '{print $2}')
FPRE=$(printf '%s' "$FP" | sed 's/[+/]/\\&/g')

C=$TMP/chart-src/notes
mkdir -p "$C/templates"
printf 'apiVersion: v2\nname: notes\nversion: 0.1.0\n' >"$C/Chart.yaml"
printf 'text: hello\n' >"$C/values.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  text: {{ .Values.text | quote }}\n' \
	>"$C/templates/cm.yaml"
helm_repo_start "$TMP/helm" "$C"
NOTES_SHA=$(sha256sum "$TMP/helm/www/notes-0.1.0.tgz" | cut -d' ' -f1)

# five images sharing a base layer, in a registry over TLS with basic
# auth; the example repo's charts name four of them, a bundle's
# extraImages the fifth
SRV=$TMP/srv
mkdir -p "$SRV/certs.d"
make_certs "$SRV"
cp "$SRV/ca.crt" "$SRV/certs.d/"
free_port; REG=127.0.0.1:$port
registry_start "$SRV" "$REG" "$SRV/registry" "$(htpasswd_auth "$SRV/htpasswd" kedge 's3cret-pack-pw')"
server_pids+=("$registry_started")
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REG" "$(printf 'kedge:s3cret-pack-pw' | base64)" >"$TMP/auth.json"
IMAGES="redis node-exporter busybox nginx extra"
make_images "$SRV/src" amd64 $IMAGES
ok "five images are pushed to the registry with skopeo" push_images "$SRV/src" "$REG" "$SRV/certs.d" \
	kedge:s3cret-pack-pw $IMAGES

R=$TMP/work
git init -q --bare "$TMP/sites.git"
cp -r tests/example-repo "$R"
for c in cache:redis metrics-agent:node-exporter toolbox:busybox web:nginx; do
	sed -i "s|^image: .*|image: $REG/apps/${c#*:}:1.0|" "$R/charts/${c%%:*}/values.yaml"
done
sed -i "s|^image: .*|image: $REG/apps/redis:1.0|" "$R/bundles/cache/values.yaml"
mkdir -p "$R/bundles/notes"
printf 'chart: {repo: "%s", name: notes, version: "0.1.x"}\nnamespace: notes\ntargets: [{matchExpressions: [{key: env, operator: Exists}]}]\nextraImages: ["%s/apps/extra:1.0"]\n' \
	"$HELM_REPO_URL" "$REG" >"$R/bundles/notes/bundle.yaml"
git -C "$R" init -q
git -C "$R" remote add origin "$TMP/sites.git"
SIGN=(-c gpg.format=ssh -c "user.signingkey=$K/ops")
git -C "$R" add -A && git -C "$R" "${SIGN[@]}" commit -q -S -m "sites" && git -C "$R" push -q origin HEAD:main
HEAD=$(git -C "$R" rev-parse HEAD)

S=$TMP/state
create() { run "$KEDGE" pack create "$@" --repo "$TMP/sites.git" --ref main --verify head \
	--trusted-keys "$K/allowed" --state-dir "$S" --registry-config "$TMP/auth.json" --registry-ca "$SRV/ca.crt"; }
P=$TMP/pack

# --- create ---------------------------------------------------------------------
create "$P" --sign-key "$K/ops"
is "$rc" 0 "kedge pack create writes a signed pack"
[ "$rc" = 0 ] || echo "# $err"
like "$out" "3 sites, 1 chart, 5 images, 1 binary" "its summary counts the sites, charts, images and binaries"
like "$err" "images  5 images, 11 blobs \(11 fetched, 0 reused\), .* stored; 1 blob shared between images saved" \
	"the base layer the five images share is stored once, the saving said"
ok "skopeo reads the pack's image layout" skopeo inspect "oci:$P/images:$REG/apps/nginx:1.0"
ok "umoci lists the five images in it" bash -c "[ \$(umoci ls --layout '$P/images' | wc -l) -ge 5 ]"
like "$err" "kedge pack: repo .* at ${HEAD:0:12} \(refs/heads/main\), signature verified" \
	"progress on stderr names the verified commit"
ok "MANIFEST, MANIFEST.sig, repo.git, the chart and the binary are there" \
	test -f "$P/MANIFEST" -a -f "$P/MANIFEST.sig" -a -d "$P/repo.git" \
	-a -f "$P/charts/sha256/$NOTES_SHA.tgz" -a -x "$P/bin/linux-amd64/kedge"
ok "no temporary folder is left" bash -c "! ls -d '$P'.tmp.* 2>/dev/null"
is "$(cmp "$P/bin/linux-amd64/kedge" "$KEDGE" && echo same)" same "the binary is the running kedge"
run python3 - "$P" "$HEAD" "$NOTES_SHA" <<'EOF'
import hashlib, json, os, sys
d, head, notes = sys.argv[1:]
m = json.load(open(d + "/MANIFEST"))
assert m["schema"] == 1 and m["kind"] == "kedge-pack", m
assert m["repo"]["commit"] == head and m["repo"]["signature"]["state"] == "verified", m["repo"]
assert m["sites"] == ["berlin-01", "kiosk-07", "lab-01"], m["sites"]
assert [c["digest"] for c in m["charts"]] == ["sha256:" + notes], m["charts"]
assert m["charts"][0]["name"] == "notes" and m["charts"][0]["version"] == "0.1.0"
assert m["binaries"][0]["platform"] == "linux/amd64"
assert sorted(i["ref"].split("/")[-1] for i in m["images"]) == ["busybox:1.0", "extra:1.0", "nginx:1.0", "node-exporter:1.0", "redis:1.0"], m["images"]
assert all(i["digest"].startswith("sha256:") and i["platforms"] == ["linux/amd64"] for i in m["images"]), m["images"]
paths = [f["path"] for f in m["files"]]
assert paths == sorted(paths), "files sorted"
on_disk = sorted(os.path.relpath(os.path.join(r, f), d) for r, _, fs in os.walk(d) for f in fs)
assert sorted(paths + ["MANIFEST", "MANIFEST.sig"]) == on_disk, (paths, on_disk)
for f in m["files"]:
    b = open(d + "/" + f["path"], "rb").read()
    assert len(b) == f["size"] and hashlib.sha256(b).hexdigest() == f["sha256"], f["path"]
print(len(paths))
EOF
is "$rc" 0 "MANIFEST lists every file, sorted, with its true size and sha256 (checked by python)"
[ "$rc" = 0 ] || echo "# $err"
run ssh-keygen -Y verify -f "$K/allowed" -I ops@kedge.invalid -n kedge-pack -s "$P/MANIFEST.sig" <"$P/MANIFEST"
is "$rc" 0 "ssh-keygen -Y verify accepts MANIFEST.sig"
like "$out" "Good \"kedge-pack\" signature for ops@kedge.invalid" "...as a good kedge-pack signature by ops"
run "$KEDGE" pack verify "$P" --trusted-keys "$K/allowed"
is "$rc" 0 "kedge pack verify accepts it"
like "$out" "verified, [0-9]+ files .* by SHA256:.* \(ops@kedge.invalid\)" "naming the signer"
cp -a "$P" "$TMP/resigned" && rm "$TMP/resigned/MANIFEST.sig"
ssh-keygen -q -Y sign -f "$K/ops" -n kedge-pack "$TMP/resigned/MANIFEST"
run "$KEDGE" pack verify "$TMP/resigned" --trusted-keys "$K/allowed"
is "$rc" 0 "a MANIFEST.sig made by ssh-keygen -Y sign verifies too"
rm "$TMP/resigned/MANIFEST.sig"
ssh-keygen -q -Y sign -f "$K/ops" -n file "$TMP/resigned/MANIFEST"
run "$KEDGE" pack verify "$TMP/resigned" --trusted-keys "$K/allowed"
like "$err" "the SSH signature is for namespace \"file\", not \"kedge-pack\"" "a signature in another namespace is refused"
run "$KEDGE" pack verify "$P" --fingerprint "$FP"
is "$rc" 0 "...and with --fingerprint instead of an allowed-signers file"
run "$KEDGE" pack ls "$P"
like "$out" "chart    notes 0\.1\.0 sha256:$NOTES_SHA" "kedge pack ls lists the chart"
like "$out" "repo     $TMP/sites.git main at $HEAD, signature verified" "...and the repo"
run "$KEDGE" sync --repo "$P/repo.git" --ref main --verify head --trusted-keys "$K/allowed" --state-dir "$TMP/s2"
is "$rc" 0 "kedge sync --verify head accepts repo.git: the signatures are intact"
is "$out" "$HEAD $TMP/s2/rev/$HEAD" "...at the packed commit"

# a second create reuses the state dir's mirror and chart cache
helm_repo_stop "$TMP/helm"
create "$TMP/again" --sign-key "$K/ops"
is "$rc" 0 "with the chart repository gone, create uses the state dir's chart cache"
is "$(cat "$TMP/again/charts/sha256/$NOTES_SHA.tgz" | sha256sum | cut -d' ' -f1)" "$NOTES_SHA" "...the same archive"
create "$P" --sign-key "$K/ops"
is "$rc" 1 "an existing OUT is never written over"
like "$err" "$P exists" "...saying so"

# --- tar -----------------------------------------------------------------------------
create "$TMP/p1.tar" --sign-key "$K/ops" --tar
is "$rc" 0 "--tar writes one file"
ok "tar lists MANIFEST and the binary" bash -c "tar tf '$TMP/p1.tar' | grep -qx MANIFEST && tar tf '$TMP/p1.tar' | grep -qx bin/linux-amd64/kedge"
mkdir "$TMP/x" && tar -xf "$TMP/p1.tar" -C "$TMP/x"
run ssh-keygen -Y verify -f "$K/allowed" -I ops@kedge.invalid -n kedge-pack -s "$TMP/x/MANIFEST.sig" <"$TMP/x/MANIFEST"
is "$rc" 0 "what GNU tar unpacks verifies with ssh-keygen"
run "$KEDGE" pack verify "$TMP/x" --trusted-keys "$K/allowed"
is "$rc" 0 "...and with kedge pack verify"
run "$KEDGE" pack verify "$TMP/p1.tar" --trusted-keys "$K/allowed"
is "$rc" 0 "kedge pack verify reads the tar itself"
tar --format=ustar -cf "$TMP/gnu.tar" -C "$TMP/x" .
run "$KEDGE" pack verify "$TMP/gnu.tar" --trusted-keys "$K/allowed"
is "$rc" 0 "a tar GNU tar made of the folder (tar --format=ustar -C DIR .) verifies too"
head -c 200000 "$TMP/p1.tar" >"$TMP/short.tar"
run "$KEDGE" pack verify "$TMP/short.tar" --trusted-keys "$K/allowed"
is "$rc" 3 "a truncated tar is refused"
like "$err" "short\.tar: truncated: entry .* has [0-9]+ of its [0-9]+ bytes" "...naming the short entry"

# --- bad input -------------------------------------------------------------------------
bad() { rm -rf "$TMP/bad" && cp -a "$P" "$TMP/bad"; }
vbad() { run "$KEDGE" pack verify "$TMP/bad" --trusted-keys "$K/allowed"; }
bad
printf 'x' | dd of="$TMP/bad/charts/sha256/$NOTES_SHA.tgz" bs=1 seek=100 conv=notrunc 2>/dev/null
vbad
is "$rc" 3 "a tampered chart blob is refused"
like "$err" "bad/charts/sha256/$NOTES_SHA\.tgz: sha256 [0-9a-f]{64}, MANIFEST says $NOTES_SHA: the file was changed" \
	"...naming the file"
bad
truncate -s 1000 "$TMP/bad/bin/linux-amd64/kedge"
vbad
like "$err" "bin/linux-amd64/kedge has 1000 bytes, MANIFEST says [0-9]+: truncated" "a truncated binary is named"
bad
sed -i 's/"sites": \[/"sites":  [/' "$TMP/bad/MANIFEST"
vbad
is "$rc" 3 "MANIFEST edited after signing is refused"
like "$err" "MANIFEST\.sig: bad ssh-ed25519 signature by trusted key" "...by its signature"
run "$KEDGE" pack verify "$P" --trusted-keys "$K/rogue-allowed"
is "$rc" 3 "a pack signed by a key the allowed signers lack is refused"
like "$err" "the signing key is not in .*rogue-allowed" "...saying the key is not trusted"
run "$KEDGE" pack verify "$P" --fingerprint "$(ssh-keygen -lf "$K/rogue.pub" | awk '{print $2}')"
like "$err" "signed by $FPRE, not by the key --fingerprint names" "a fingerprint that does not match is named"
bad
echo extra >"$TMP/bad/charts/sha256/.hidden"
vbad
like "$err" "bad/charts/sha256/\.hidden is not in MANIFEST" "a file MANIFEST does not list is refused (dot files too)"
bad
rm "$TMP/bad/repo.git/HEAD"
vbad
like "$err" "bad/repo.git/HEAD is missing" "a missing file is named"
bad
ln -s /etc/passwd "$TMP/bad/charts/link"
vbad
like "$err" "bad/charts/link is a link: a pack holds only files and folders" "a symlink is refused"
bad
rm "$TMP/bad/MANIFEST.sig"
vbad
like "$err" "MANIFEST\.sig is missing: the pack is not signed" "an unsigned pack needs --allow-unsigned"
run "$KEDGE" pack verify "$TMP/bad" --allow-unsigned
is "$rc" 0 "...which checks the files alone"
run "$KEDGE" pack verify "$P"
is "$rc" 2 "verify without any trust is a usage error"

# create's refusals leave no OUT
create "$TMP/locked" --sign-key "$K/locked"
like "$err" "locked is protected by a passphrase: kedge signs with an unencrypted key" "an encrypted key is refused with the fix"
create "$TMP/ecdsa" --sign-key "$K/ecdsa"
like "$err" "ecdsa: the key type is ecdsa-sha2-nistp256; kedge signs packs with ssh-ed25519 keys only" \
	"an ECDSA key is refused, naming ed25519"
create "$TMP/nosite" --site nowhere-01
is "$rc" 1 "a site the repo lacks fails"
like "$err" "site nowhere-01 is not in the config repo \(sites/nowhere-01\.yaml\)" "...naming it"
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000\267\000' >"$TMP/fake-arm64"
create "$TMP/wrongarch" --platform linux/amd64 --kedge-binary "$TMP/fake-arm64"
like "$err" "fake-arm64 is built for linux/arm64 \(ELF machine 183\), which --platform does not name" \
	"a binary for another platform than asked is refused"
create "$TMP/two" --platform linux/amd64,linux/arm64 --kedge-binary "$TMP/fake-arm64" --sign-key "$K/ops"
is "$rc" 0 "--platform linux/amd64,linux/arm64 with an arm64 --kedge-binary"
ok "...packs both binaries" cmp "$TMP/two/bin/linux-arm64/kedge" "$TMP/fake-arm64"
ok "no OUT was made by the refusals" bash -c "! ls -d '$TMP'/locked '$TMP'/ecdsa '$TMP'/nosite '$TMP'/wrongarch 2>/dev/null"
git -C "$R" commit -q --allow-empty -m "unsigned" && git -C "$R" push -q origin HEAD:main
create "$TMP/unsigned" --sign-key "$K/ops"
is "$rc" 1 "an unsigned commit with --verify head is not packed"
like "$err" "commit [0-9a-f]{40} is not signed" "...saying why"
git -C "$R" reset -q --hard "$HEAD" && git -C "$R" push -q -f origin HEAD:main

# --- a full disk, then a rerun that resumes ------------------------------------------
if [ "$(id -u)" = 0 ] && mkdir -p "$TMP/tmpfs" && mount -t tmpfs -o size=6m tmpfs "$TMP/tmpfs" 2>/dev/null; then
	dd if=/dev/zero of="$TMP/tmpfs/filler" bs=1k count=4096 2>/dev/null
	create "$TMP/tmpfs/p" --sign-key "$K/ops"
	is "$rc" 1 "a full disk fails the create"
	like "$err" "(No space left|disk full)" "...saying the disk is full"
	ok "OUT is not there" test ! -e "$TMP/tmpfs/p"
	rm "$TMP/tmpfs/filler"
	create "$TMP/tmpfs/p" --sign-key "$K/ops"
	is "$rc" 0 "after space is freed, the rerun completes"
	like "$err" "resume  continuing the interrupted create in .*/p\.tmp\.[0-9]+" "...taking over the interrupted folder"
	run "$KEDGE" pack verify "$TMP/tmpfs/p" --trusted-keys "$K/allowed"
	is "$rc" 0 "...and the pack verifies"
	ok "no temporary folder is left" bash -c "! ls -d '$TMP'/tmpfs/p.tmp.* 2>/dev/null"
	umount "$TMP/tmpfs"
else
	echo "ok - # SKIP a small tmpfs needs root (mount -t tmpfs)"
fi

done_testing

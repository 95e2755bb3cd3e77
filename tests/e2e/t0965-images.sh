# Container images (kedge.images) against real parts on 127.0.0.1:
# Debian's docker-registry (distribution 2.8) over TLS with htpasswd basic
# auth, small images made here by hand (gzip'd tar layers, OCI configs and
# manifests, a linux/amd64 + linux/arm64 index, two images sharing a base
# layer, one past the 16 MiB ranged-request piece) and pushed with skopeo;
# what kedge pulls is checked with skopeo and umoci; the archive kedge
# writes is imported by Debian's containerd, started here with its own
# root, state and socket, and listed with ctr. Then the bad input: a
# corrupted blob in the registry's storage, a 500 and a body cut short
# mid-blob (a python3 proxy in front of the registry), a wrong password,
# an image that is not there: each named, index.json unchanged, nothing
# half-written, and the rerun after the fix resumes.
. tests/lib.sh
. tests/servers/registry.sh

for tool in openssl docker-registry htpasswd skopeo umoci containerd ctr python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool is not installed (./build.sh test installs it)"
		exit 0
	fi
done

SRV=$TMP/srv
mkdir -p "$SRV/certs.d"
registry_pid= proxy_pid= containerd_pid= mounted=
cleanup() {
	[ -n "$mounted" ] && umount "$mounted"
	[ -n "$registry_pid" ] && kill "$registry_pid" 2>/dev/null
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null
	[ -n "$containerd_pid" ] && kill "$containerd_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT

make_certs "$SRV"
cp "$SRV/ca.crt" "$SRV/certs.d/"
free_port; REG=127.0.0.1:$port
registry_start "$SRV" "$REG" "$SRV/registry" "$(htpasswd_auth "$SRV/htpasswd" kedge 's3cret-image-pw')"
registry_pid=$registry_started
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REG" "$(printf 'kedge:s3cret-image-pw' | base64)" >"$TMP/auth.json"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REG" "$(printf 'kedge:wrong-pw-456' | base64)" >"$TMP/bad-auth.json"

# --- images, by hand ------------------------------------------------------------
# An OCI layout: base layers per architecture, an app layer, configs
# with their diff_ids, manifests, the multi-arch index; "two" shares
# multi's amd64 base layer; "big" has a 20 MiB layer of random bytes.
python3 - "$SRV/src" <<'EOF'
import json, os, sys
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, "tests/servers")
from ocilayout import Layout
out = sys.argv[1]
L = Layout(out)
base_amd = L.layer([("etc/base", b"base layer, amd64\n")])
base_arm = L.layer([("etc/base", b"base layer, arm64\n")])
app = L.layer([("hello", b"#!/bin/sh\necho hello\n")])
amd = L.image("amd64", [base_amd, app])
arm = L.image("arm64", [base_arm, app])
idx = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    dict(amd, platform={"os": "linux", "architecture": "amd64"}),
    dict(arm, platform={"os": "linux", "architecture": "arm64", "variant": "v8"})]}
multi = dict(L.blob(json.dumps(idx).encode()), mediaType=idx["mediaType"])
two = L.image("amd64", [base_amd, L.layer([("two", b"the second image\n")])])
big = L.image("amd64", [L.layer([("big", os.urandom(20 << 20))])])
bad_layer = L.layer([("bad", b"this layer gets corrupted\n")])
bad = L.image("amd64", [bad_layer])
refs = {"multi": multi, "two": two, "big": big, "bad": bad}
L.finish(refs)
with open(out + ".facts", "w") as f:
    for n, d in refs.items(): print(n, d["digest"], file=f)
    print("saved", base_amd[0]["size"] + app[0]["size"], file=f)
    print("badlayer", bad_layer[0]["digest"], file=f)
EOF
digest_of() { sed -n "s/^$1 //p" "$SRV/src.facts"; }
ok "the images are a valid OCI layout (umoci ls reads it)" bash -c "umoci ls --layout '$SRV/src' | grep -qx multi"
push() { skopeo copy -q --all --preserve-digests --dest-cert-dir "$SRV/certs.d" --dest-creds 'kedge:s3cret-image-pw' \
	"oci:$SRV/src:$1" "docker://$REG/apps/$1:1.0"; }
for n in multi two big bad; do ok "skopeo pushes $n to the registry" push "$n"; done

# --- pull -------------------------------------------------------------------------
# pull LAYOUT AUTH PLATFORMS REF...: kedge.images.pull, the summary on stdout
pull() {
	run "$KEDGE" lua -e '
local images, json = require "kedge.images", require "kedge.json"
local dir, auth, ca, platforms = ...
local refs = {select(5, ...)}
local pl = {}
for p in platforms:gmatch("[^,]+") do pl[#pl + 1] = p end
local s, err = images.pull(refs, dir, {platforms = pl, config = auth, ca_file = ca,
  progress = require("kedge.images.pull").progress_lines()})
if not s then io.stderr:write(err, "\n") os.exit(1) end
print(string.format("images=%d blobs=%d fetched=%d reused=%d bytes=%d stored=%d shared=%d saved=%d",
  #s.images, s.blobs, s.fetched, s.reused, s.bytes, s.stored_bytes, s.shared, s.saved))
print(string.format("requests=%d connections=%d", s.requests, s.connections))
for _, i in ipairs(s.images) do print(i.ref .. " " .. i.digest .. " " .. table.concat(i.platforms, ",")) end' \
	"$1" "$2" "$SRV/ca.crt" "$3" "${@:4}"
}
L=$TMP/layout
pull "$L" "$TMP/auth.json" linux/amd64,linux/arm64 "$REG/apps/multi:1.0" "$REG/apps/two:1.0"
is "$rc" 0 "a multi-arch image and one sharing its base layer are pulled over TLS with basic auth"
[ "$rc" = 0 ] || echo "# $err"
like "$out" "^images=2 blobs=7 fetched=7 reused=0 bytes=[0-9]+ stored=[0-9]+ shared=2 saved=$(digest_of saved)$" \
	"the summary: 7 blobs stored once; the base layer two shares and the app layer both platforms share are saved"
like "$out" "$REG/apps/multi:1.0 $(digest_of multi) linux/amd64,linux/arm64/v8" "the index's digest, both platforms"
like "$out" "requests=(1[2-9]|2[0-9]) connections=1$" "every request (with the 401s before credentials) on one kept-alive connection"
is "$(cat "$L/oci-layout")" '{"imageLayoutVersion":"1.0.0"}' "oci-layout is written"
run skopeo inspect "oci:$L:$REG/apps/multi:1.0"
is "$rc" 0 "skopeo inspects the pulled multi-arch image by its reference"
like "$out" '"Architecture": "amd64"' "...the amd64 image of the index"
run skopeo inspect --raw "oci:$L:$REG/apps/multi:1.0"
is "$(printf '%s' "$out" | sha256sum | cut -d' ' -f1)" "$(digest_of multi | cut -c8-)" "the index is kept byte for byte"
run skopeo inspect --override-arch arm64 "oci:$L:$REG/apps/multi:1.0"
like "$out" '"Architecture": "arm64"' "the arm64 image is in the layout too"
ok "skopeo copies the pulled image out, checking every blob's digest" \
	skopeo copy -q "oci:$L:$REG/apps/two:1.0" "dir:$TMP/two-dir"
ok "umoci reads the layout (ls)" bash -c "umoci ls --layout '$L' | grep -qx '$REG/apps/two:1.0'"
ok "umoci stats the image" umoci stat --image "$L:$REG/apps/two:1.0"
like "$(cat "$L/index.json")" "\"io.containerd.image.name\": \"$REG/apps/multi:1.0\"" \
	"index.json names the image for containerd too"
is "$(find "$L/blobs/sha256" -type f | wc -l)" 11 "11 blobs: 7 configs and layers, the manifests of multi's platforms, its index and two's manifest"

# resume: nothing is fetched again
pull "$L" "$TMP/auth.json" linux/amd64,linux/arm64 "$REG/apps/multi:1.0" "$REG/apps/two:1.0"
like "$out" "^images=2 blobs=7 fetched=0 reused=7 bytes=0 " "a second pull fetches no blob"
# a digest reference, and a platform an index does not have
pull "$L" "$TMP/auth.json" linux/amd64 "$REG/apps/two@$(digest_of two)"
like "$out" "$REG/apps/two@$(digest_of two) $(digest_of two) linux/amd64" "a digest reference is pulled as it is named (one manifest: its config's platform)"
pull "$L" "$TMP/auth.json" linux/arm64 "$REG/apps/two:1.0"
like "$err" "image $REG/apps/two:1\.0 is for linux/amd64, not linux/arm64" "a one-platform image for another platform is refused"
pull "$L" "$TMP/auth.json" linux/s390x "$REG/apps/multi:1.0"
like "$err" "image $REG/apps/multi:1\.0: none of its platforms is linux/s390x \(the index has linux/amd64, linux/arm64/v8\)" \
	"a platform the index lacks is named with those it has"

# Docker's media types: skopeo converts two to a Docker schema 2 manifest
ok "skopeo pushes two as a Docker schema 2 image" skopeo copy -q -f v2s2 --dest-cert-dir "$SRV/certs.d" \
	--dest-creds 'kedge:s3cret-image-pw' "oci:$SRV/src:two" "docker://$REG/apps/two-docker:1.0"
pull "$L" "$TMP/auth.json" linux/amd64 "$REG/apps/two-docker:1.0"
like "$out" "$REG/apps/two-docker:1\.0 sha256:[0-9a-f]{64} linux/amd64" "a Docker schema 2 manifest pulls too"
dd=$(printf '%s' "$out" | sed -n "s|^$REG/apps/two-docker:1\.0 sha256:\([0-9a-f]*\) .*|\1|p")
like "$(cat "$L/blobs/sha256/$dd")" '"mediaType": *"application/vnd\.docker\.distribution\.manifest\.v2\+json"' \
	"...kept as the registry served it, under its digest (containerd takes it; skopeo's oci: reads only OCI types)"
is "$(sha256sum "$L/blobs/sha256/$dd" | cut -d' ' -f1)" "$dd" "...whose bytes are that digest"

# one writer at a time
flock -o "$L/oci-layout" sleep 3 &
flock_pid=$!
sleep 0.3
run "$KEDGE" lua -e 'local _, err = require("kedge.images").pull({...}, "'"$L"'", {lock_timeout = 0.2,
  config = "'"$TMP/auth.json"'", ca_file = "'"$SRV/ca.crt"'"}) io.stderr:write(tostring(err))' "$REG/apps/two:1.0"
like "$err" "image layout $L: another pull is writing it \(another kedge holds $L/oci-layout; waited 0\.2 s\)" \
	"a second pull into a layout being written waits, then says who holds it"
kill "$flock_pid"; wait "$flock_pid" 2>/dev/null
is "$(cat "$L/oci-layout")" '{"imageLayoutVersion":"1.0.0"}' "...the lock leaves oci-layout as it was"

# a layer past the ranged-request piece
t0=$(date +%s%N)
pull "$L" "$TMP/auth.json" linux/amd64 "$REG/apps/big:1.0"
echo "# a 20 MiB layer over TLS in 16 MiB pieces: $((($(date +%s%N) - t0) / 1000000)) ms"
is "$rc" 0 "a 20 MiB layer is fetched in ranged pieces"
[ "$rc" = 0 ] || echo "# $err"
like "$out" "bytes=2[0-9]{7} " "...all of its bytes"
like "$err" "^image 1/1 $REG/apps/big:1\.0" "progress names the image and its place in the list"
like "$err" "  [0-9.]+ MiB fetched" "...and the bytes as they come"

# --- bad input ------------------------------------------------------------------------
idx_sum() { sha256sum "$L/index.json" | cut -d' ' -f1; }
partials() { find "$L" -name '*.partial' | wc -l; }
before=$(idx_sum)
pull "$L" "$TMP/bad-auth.json" linux/amd64 "$REG/apps/bad:1.0"
like "$err" "image $REG/apps/bad:1\.0: oci://$REG/apps/bad:1\.0: $REG refused the credentials of kedge from .*bad-auth\.json \(401\)" \
	"a wrong password is named by user and file"
ok "...never the password" bash -c "! printf '%s' \"\$1\" | grep -q wrong-pw-456" _ "$err$out"
pull "$L" "$TMP/auth.json" linux/amd64 "$REG/apps/nope:1.0"
like "$err" "image $REG/apps/nope:1\.0: oci://$REG/apps/nope:1\.0: not found in the registry" "an image that is not there is named"
# the registry's copy of bad's layer: one byte changed, the size kept
badhex=$(digest_of badlayer | cut -c8-)
data=$(find "$SRV/registry" -path "*/blobs/sha256/*/$badhex/data")
cp "$data" "$TMP/bad-layer.good"
printf 'X' | dd of="$data" bs=1 seek=20 conv=notrunc 2>/dev/null
pull "$L" "$TMP/auth.json" linux/amd64 "$REG/apps/bad:1.0"
like "$err" "image $REG/apps/bad:1\.0: oci://$REG/apps/bad@sha256:$badhex: the blob's digest is sha256:[0-9a-f]{64}, not sha256:$badhex" \
	"a blob whose bytes are not its digest is refused, naming image and digest"
is "$(idx_sum) $(partials)" "$before 0" "index.json is unchanged, nothing half-written stays"
ok "the bad blob is not in the layout" test ! -e "$L/blobs/sha256/$badhex"

# a proxy in front of the registry that fails bad's layer: a 500, or a
# body cut short after half of it
free_port; PROXY=127.0.0.1:$port
echo pass >"$SRV/proxy-mode"
cat >"$SRV/proxy.py" <<'PY'
import http.client, http.server, ssl, sys
port, upstream, ca, modefile, target = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=ca)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        mode = open(modefile).read().strip()
        if target in self.path and mode == "500":
            self.send_response(500); self.send_header("Content-Length", "6"); self.end_headers()
            self.wfile.write(b"broken"); return
        c = http.client.HTTPSConnection(upstream, context=ctx)
        hdrs = {k: v for k, v in self.headers.items() if k.lower() in ("authorization", "accept", "range")}
        c.request("GET", self.path, headers=hdrs)
        r = c.getresponse()
        body = r.read()
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if target in self.path and mode == "cut":
            self.wfile.write(body[:len(body) // 2]); self.wfile.flush()
            self.close_connection = True; return
        self.wfile.write(body)
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
python3 "$SRV/proxy.py" "$port" "$REG" "$SRV/ca.crt" "$SRV/proxy-mode" "$badhex" >"$SRV/proxy.log" 2>&1 &
proxy_pid=$!
wait_listening "$port"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$PROXY" "$(printf 'kedge:s3cret-image-pw' | base64)" >"$TMP/proxy-auth.json"
cp "$TMP/bad-layer.good" "$data"
echo 500 >"$SRV/proxy-mode"
pull "$L" "$TMP/proxy-auth.json" linux/amd64 "$PROXY/apps/bad:1.0"
like "$err" "image $PROXY/apps/bad:1\.0: oci://$PROXY/apps/bad@sha256:$badhex: the server answered 500" \
	"a 500 mid-image (plain HTTP on 127.0.0.1) is an error naming image and digest"
is "$(idx_sum) $(partials)" "$before 0" "...index.json unchanged, no partial blob"
echo cut >"$SRV/proxy-mode"
pull "$L" "$TMP/proxy-auth.json" linux/amd64 "$PROXY/apps/bad:1.0"
like "$err" "image $PROXY/apps/bad:1\.0: oci://$PROXY/apps/bad@sha256:$badhex: .*(short|closed|truncated|before|end)" \
	"a blob cut short mid-way is an error naming image and digest"
is "$(idx_sum) $(partials)" "$before 0" "...index.json unchanged, no partial blob"
echo pass >"$SRV/proxy-mode"
pull "$L" "$TMP/proxy-auth.json" linux/amd64 "$PROXY/apps/bad:1.0"
like "$out" "^images=1 blobs=2 fetched=1 reused=1 " "fixed, the rerun resumes: the config it had is not fetched again, the layer is"
[ "$rc" = 0 ] || echo "# $err"
pull "$L" "$TMP/auth.json" linux/amd64 "$REG/apps/bad:1.0"
is "$rc" 0 "the fixed registry serves the image too"

# --- present, install: k3s's folder and a real containerd ---------------------------------
C=$TMP/ctr
mkdir -p "$C" "$TMP/root/var/lib/rancher/k3s"
printf '%s\n' 'version = 2' "root = \"$C/root\"" "state = \"$C/state\"" \
	'disabled_plugins = ["io.containerd.grpc.v1.cri"]' \
	'[grpc]' "  address = \"$C/c.sock\"" '[ttrpc]' "  address = \"$C/c.sock.ttrpc\"" \
	'[debug]' "  address = \"$C/debug.sock\"" '[metrics]' '  address = ""' >"$C/config.toml"
containerd --config "$C/config.toml" >"$C/log" 2>&1 &
containerd_pid=$!
for i in $(seq 1 100); do [ -S "$C/c.sock" ] && break; sleep 0.1; done
ok "containerd runs with its own root, state and socket" ctr -a "$C/c.sock" version
CTR=(ctr -a "$C/c.sock" -n k8s.io)
install() {
	run "$KEDGE" lua -e '
local images = require "kedge.images"
local dir, root, sock = ...
local r, err = images.install(dir, {root = root, containerd_socket = sock, snapshotter = "native"})
if not r then io.stderr:write(err, "\n") os.exit(1) end
print("k3s " .. (r.k3s and ((r.k3s.written and "wrote " or "kept ") .. r.k3s.file) or "none"))
for _, c in ipairs(r.containerd) do
  print("containerd imported " .. #c.imported .. " already " .. #c.already .. " " .. table.concat(c.imported, " "))
end
for _, s in ipairs(r.skipped) do print("skipped " .. s) end' "$1" "$2" "$3"
}
present() {
	run "$KEDGE" lua -e '
local images = require "kedge.images"
local sock, layout = select(1, ...), select(2, ...)
local p = images.present({select(3, ...)}, {containerd_socket = sock, layouts = {layout}})
local keys = {}
for ref, where in pairs(p.present) do keys[#keys + 1] = ref .. "=" .. (where == layout and "layout" or where) end
table.sort(keys)
print("present " .. table.concat(keys, " "))
print("missing " .. table.concat(p.missing, " "))
for _, s in ipairs(p.skipped) do print("skipped " .. s) end' "$@"
}
present "$C/c.sock" "$TMP/none" "$REG/apps/two:1.0" "$REG/apps/gone:1.0"
like "$out" "^present $" "before the install containerd holds none of them"
like "$out" "skipped image layout $TMP/none: .*index\.json" "...and a missing layout is skipped, said so"
t0=$(date +%s%N)
install "$L" "$TMP/root" "$C/c.sock"
echo "# install (the archive and ctr images import of 7 images, 20 MiB): $((($(date +%s%N) - t0) / 1000000)) ms"
is "$rc" 0 "install: the layout goes into k3s's images folder and into containerd"
[ "$rc" = 0 ] || echo "# $err"
like "$out" "k3s wrote $TMP/root/var/lib/rancher/k3s/agent/images/kedge-images-[0-9a-f]{16}\.tar" "the OCI archive is in agent/images/"
like "$out" "containerd imported 7 already 0 " "containerd imports the seven images (bad twice: from the registry and through the proxy)"
TAR=$(ls "$TMP"/root/var/lib/rancher/k3s/agent/images/*.tar)
ok "tar reads the archive kedge wrote" tar -tf "$TAR"
run skopeo inspect "oci-archive:$TAR:$REG/apps/multi:1.0"
like "$out" '"Architecture": "amd64"' "skopeo inspects an image of the archive"
ok "no partial file is left in agent/images/" test "$(ls -A "$TMP/root/var/lib/rancher/k3s/agent/images" | wc -l)" = 1
is "$("${CTR[@]}" images ls -q | sort)" "$(printf '%s\n' "$PROXY/apps/bad:1.0" "$REG/apps/bad:1.0" "$REG/apps/big:1.0" "$REG/apps/multi:1.0" "$REG/apps/two:1.0" "$REG/apps/two@$(digest_of two)" "$REG/apps/two-docker:1.0" | sort)" \
	"ctr images ls lists the images by their references in k8s.io"
run "${CTR[@]}" images ls
like "$out" "$REG/apps/multi:1\.0 +application/vnd\.oci\.image\.index\.v1\+json +$(digest_of multi) " "...the multi-arch one by its index's digest"
install "$L" "$TMP/root" "$C/c.sock"
like "$out" "k3s kept .*kedge-images-[0-9a-f]{16}\.tar" "a second install keeps the archive"
like "$out" "containerd imported 0 already 7 " "...and imports nothing, saying all seven are there"
present "$C/c.sock" "$TMP/none" "$REG/apps/two:1.0" "$REG/apps/two@$(digest_of two)" "$REG/apps/gone:1.0" \
	"$REG/apps/multi@$(digest_of multi)"
like "$out" "^present $REG/apps/multi@$(digest_of multi)=containerd $REG/apps/two:1\.0=containerd $REG/apps/two@$(digest_of two)=containerd$" \
	"present: containerd holds them now (multi by its digest, which it holds as multi:1.0)"
like "$out" "missing $REG/apps/gone:1\.0" "...and names the one it lacks"
present "$TMP/no.sock" "$L" "$REG/apps/multi:1.0"
like "$out" "present $REG/apps/multi:1\.0=layout" "present: a layout holds an image"
like "$out" "skipped containerd: no socket at $TMP/no\.sock" "...a socket that is not there is skipped, said so"

# --- a full disk (a small tmpfs), then room made -----------------------------------------
FULL=$TMP/full
mkdir -p "$FULL"
if mount -t tmpfs -o size=4m tmpfs "$FULL" 2>/dev/null; then
	mounted=$FULL
	pull "$FULL/layout" "$TMP/auth.json" linux/amd64 "$REG/apps/two:1.0" "$REG/apps/big:1.0"
	like "$err" "image $REG/apps/big:1\.0: oci://$REG/apps/big@sha256:[0-9a-f]{64}: writing .*\.partial: .*No space left on device" \
		"a disk full mid-blob is named"
	is "$(find "$FULL" -name '*.partial' | wc -l)" 0 "...no partial blob stays"
	ok "...the image pulled before it is recorded, the one that failed is not" \
		bash -c "grep -q '$REG/apps/two:1.0' '$FULL/layout/index.json' && ! grep -q apps/big '$FULL/layout/index.json'"
	mkdir -p "$FULL/root/var/lib/rancher/k3s"
	install "$L" "$FULL/root" "$C/c.sock"
	like "$err" "writing $FULL/root/var/lib/rancher/k3s/agent/images/kedge-images-[0-9a-f]{16}\.tar: .*No space left on device" \
		"a disk full while writing k3s's archive is named"
	is "$(ls -A "$FULL/root/var/lib/rancher/k3s/agent/images" | wc -l)" 0 "...and leaves agent/images/ empty"
	mount -o remount,size=96m "$FULL"
	pull "$FULL/layout" "$TMP/auth.json" linux/amd64 "$REG/apps/two:1.0" "$REG/apps/big:1.0"
	like "$out" "^images=2 blobs=5 fetched=1 reused=4 " "with room, the rerun fetches only the layer there was no room for"
	install "$L" "$FULL/root" "$C/c.sock"
	like "$out" "k3s wrote $FULL/root/.*\.tar" "...and the install completes"
	umount "$FULL" && mounted=
else
	echo "ok $((tap_n += 1)) # SKIP no tmpfs mount here (the disk-full checks need root)"
fi

done_testing

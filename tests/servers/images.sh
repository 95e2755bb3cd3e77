# Small container images for the pack, bootstrap and bench tests: an OCI
# layout made by hand (gzip'd ustar layers, OCI configs and manifests),
# every image one shared base layer plus a layer of its own, pushed with
# skopeo to a registry of tests/servers/registry.sh. Sourced after it.

# make_images DIR ARCH NAME...: DIR is an OCI layout holding NAME... (ref
# names), each linux/ARCH (amd64, arm64). $IMAGE_BASE_BYTES random bytes
# (default 0) make the shared base layer as large as a real one.
make_images() {
	python3 - "$@" <<'EOP'
import gzip, hashlib, io, json, os, sys, tarfile
out, arch, names = sys.argv[1], sys.argv[2], sys.argv[3:]
os.makedirs(out + "/blobs/sha256", exist_ok=True)
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    open(out + "/blobs/sha256/" + d, "wb").write(data)
    return {"digest": "sha256:" + d, "size": len(data)}
def layer(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in files:
            ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 0; ti.mode = 0o755
            t.addfile(ti, io.BytesIO(data))
    raw = raw.getvalue()
    return (dict(blob(gzip.compress(raw, mtime=0)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip"),
            "sha256:" + hashlib.sha256(raw).hexdigest())
base = layer([("etc/base", b"a base layer every image shares\n"),
              ("etc/random", os.urandom(int(os.environ.get("IMAGE_BASE_BYTES", "0"))))])
manifests = []
for n in names:
    own = layer([(n, ("the %s image\n" % n).encode())])
    cfg = {"architecture": arch, "os": "linux", "config": {"Cmd": ["/" + n]},
           "rootfs": {"type": "layers", "diff_ids": [base[1], own[1]]}}
    c = dict(blob(json.dumps(cfg).encode()), mediaType="application/vnd.oci.image.config.v1+json")
    m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
         "config": c, "layers": [base[0], own[0]]}
    manifests.append(dict(blob(json.dumps(m).encode()), mediaType=m["mediaType"],
                          annotations={"org.opencontainers.image.ref.name": n}))
json.dump({"schemaVersion": 2, "manifests": manifests}, open(out + "/index.json", "w"))
open(out + "/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
EOP
}

# push_images DIR REGISTRY CERT_DIR CREDS NAME...: skopeo copies each to
# REGISTRY/apps/NAME:1.0 (CREDS user:password, or "" for none).
push_images() {
	local dir=$1 reg=$2 certs=$3 creds=$4 n
	shift 4
	for n in "$@"; do
		skopeo copy -q --preserve-digests --dest-cert-dir "$certs" ${creds:+--dest-creds "$creds"} \
			"oci:$dir:$n" "docker://$reg/apps/$n:1.0" || return 1
	done
}

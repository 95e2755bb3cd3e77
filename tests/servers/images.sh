# Small container images for the pack, bootstrap and bench tests: an OCI
# layout made by hand (gzip'd ustar layers, OCI configs and manifests),
# every image one shared base layer plus a layer of its own, pushed with
# skopeo to a registry of tests/servers/registry.sh. Sourced after it.

# make_images DIR ARCH NAME...: DIR is an OCI layout holding NAME... (ref
# names), each linux/ARCH (amd64, arm64). $IMAGE_BASE_BYTES random bytes
# (default 0) make the shared base layer as large as a real one.
make_images() {
	python3 - "$@" <<'EOP'
import os, sys
sys.dont_write_bytecode = True  # no __pycache__ in the tree
sys.path.insert(0, "tests/servers")
from ocilayout import Layout
out, arch, names = sys.argv[1], sys.argv[2], sys.argv[3:]
L = Layout(out)
base = L.layer([("etc/base", b"a base layer every image shares\n"),
                ("etc/random", os.urandom(int(os.environ.get("IMAGE_BASE_BYTES", "0"))))])
L.finish({n: L.image(arch, [base, L.layer([(n, ("the %s image\n" % n).encode())])], cmd="/" + n)
          for n in names})
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

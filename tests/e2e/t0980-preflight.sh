# The image preflight (kedge.preflight) against real components: Debian's
# containerd started here under $TMP with its own socket (images put into
# its k8s.io namespace with `ctr images import` of OCI archives built
# here), a pack's images/ OCI layout, and the real kube-apiserver for the
# pass (tests/servers/kube/lib.sh). A site with images: {require: present}
# is refused (exit 24, nothing applied, the report naming each missing
# image by reference and digest, kedge plan too) until every image its
# rendered objects and extraImages need is in containerd or the pack;
# a site without it is not looked at. kedge check --images lists them.
. tests/lib.sh
for tool in containerd ctr python3 git; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool is not installed (./build.sh test installs it)"
		exit 0
	fi
done
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP containerd needs root"
	exit 0
fi
. tests/servers/kube/lib.sh
kube_start
ctd_pid=
ID=$$$RANDOM
NS=kedge-pf$ID
KC="$KEDGE lua tests/servers/kube/kc.lua"
kc() { $KC "$KUBE_ADMIN" "$@"; }
cleanup() {
	[ -n "$ctd_pid" ] && kill "$ctd_pid" 2>/dev/null
	kc delete v1 Namespace "" "$NS" >/dev/null 2>&1
	kc delete v1 Namespace "" "$NS-off" >/dev/null 2>&1
	wait "$ctd_pid" 2>/dev/null
	kube_cleanup
}
trap cleanup EXIT

# --- containerd, on its own socket, no CRI -----------------------------------
C=$TMP/ctd
SOCK=$C/c.sock
mkdir -p "$C"
cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.tracing.processor.v1.otlp"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$C/c.ttrpc.sock"
[debug]
  address = ""
[metrics]
  address = ""
EOF
containerd --config "$C/config.toml" >"$C/log" 2>&1 &
ctd_pid=$!
for i in $(seq 1 200); do
	ctr -a "$SOCK" version >/dev/null 2>&1 && break
	sleep 0.1
done
ok "containerd answers on its own socket" ctr -a "$SOCK" version
ctr_() { ctr -a "$SOCK" -n k8s.io "$@"; }

# mkimage OUT NAME=REF...: an OCI image layout (a folder, or OUT.tar) with
# a tiny image per NAME, each annotated with its reference as containerd's
# import reads it; prints "REF DIGEST" per image.
cat >"$TMP/mkimage.py" <<'EOF'
import gzip, hashlib, io, json, os, sys, tarfile
out, specs = sys.argv[1], sys.argv[2:]
blobs, manifests = {}, []
def blob(data, media):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[d] = data
    return {"mediaType": media, "digest": d, "size": len(data)}
def tar_of(files):
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for n, data in sorted(files.items()):
            ti = tarfile.TarInfo(n); ti.size = len(data); ti.mtime = 0
            t.addfile(ti, io.BytesIO(data))
    return raw.getvalue()
for spec in specs:
    name, ref = spec.split("=", 1)
    layer_raw = tar_of({name: ("image " + name + "\n").encode()})
    layer = blob(gzip.compress(layer_raw, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip")
    cfg = {"architecture": "amd64", "os": "linux", "config": {"Cmd": ["/" + name]},
           "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer_raw).hexdigest()]}}
    config = blob(json.dumps(cfg, sort_keys=True).encode(), "application/vnd.oci.image.config.v1+json")
    m = blob(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                         "config": config, "layers": [layer]}, sort_keys=True).encode(),
             "application/vnd.oci.image.manifest.v1+json")
    m["platform"] = {"architecture": "amd64", "os": "linux"}
    m["annotations"] = {"io.containerd.image.name": ref,
                        "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[-1]}
    manifests.append(m)
    print(ref, m["digest"])
files = {"oci-layout": json.dumps({"imageLayoutVersion": "1.0.0"}).encode(),
         "index.json": json.dumps({"schemaVersion": 2, "manifests": manifests}, sort_keys=True).encode()}
for d, data in blobs.items():
    files["blobs/sha256/" + d[7:]] = data
if out.endswith(".tar"):
    open(out, "wb").write(tar_of(files))
else:
    for n, data in files.items():
        p = os.path.join(out, n)
        os.makedirs(os.path.dirname(p), exist_ok=True) if os.path.dirname(p) else None
        open(p, "wb").write(data)
EOF
python3 "$TMP/mkimage.py" "$TMP/init.tar" init=kedge-test/init:0 >"$TMP/init.digest"
INIT_DIGEST=$(cut -d' ' -f2 "$TMP/init.digest")
like "$INIT_DIGEST" "^sha256:[0-9a-f]{64}$" "an init image built by hand (its digest pinned below)"

# --- the config repo -------------------------------------------------------------
W=$TMP/work
mkdir -p "$W/charts/app/templates" "$W/sites" "$W/bundles/app" "$W/bundles/off"
printf 'apiVersion: v2\nname: app\nversion: 1.0.0\n' >"$W/charts/app/Chart.yaml"
cat >"$W/charts/app/templates/deploy.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  replicas: 1
  selector: {matchLabels: {app: {{ .Release.Name }}}}
  template:
    metadata: {labels: {app: {{ .Release.Name }}}}
    spec:
      initContainers:
        - name: init
          image: docker.io/kedge-test/init@$INIT_DIGEST
          resources: {requests: {cpu: 10m, memory: 16Mi}}
      containers:
        - name: web
          image: kedge-test/web:1.0
          resources: {requests: {cpu: 10m, memory: 16Mi}}
EOF
cat >"$W/sites/edge.yaml" <<'EOF'
name: edge
labels: {images: present}
capacity: {cpu: "2", memory: 2Gi, pods: 10}
images: {require: present}
EOF
cat >"$W/sites/lab.yaml" <<'EOF'
name: lab
labels: {images: anywhere}
capacity: {cpu: "2", memory: 2Gi, pods: 10}
EOF
cat >"$W/bundles/app/bundle.yaml" <<EOF
chart: charts/app
release: app
namespace: $NS
targets: [{matchLabels: {images: present}}]
extraImages: [ghcr.io/kedge-test/sidecar:2.1]
EOF
cat >"$W/bundles/off/bundle.yaml" <<EOF
chart: charts/app
release: app
namespace: $NS-off
targets: [{matchLabels: {images: anywhere}}]
EOF
git init -q -b main "$W" && git -C "$W" add -A && git -C "$W" -c user.name=t -c user.email=t@t.invalid commit -q -m sites
git clone -q --bare "$W" "$TMP/sites.git"
REPO=$TMP/sites.git
WEB=docker.io/kedge-test/web:1.0
INIT=docker.io/kedge-test/init@$INIT_DIGEST
SIDECAR=ghcr.io/kedge-test/sidecar:2.1

# --- kedge check --images ------------------------------------------------------
run "$KEDGE" check --repo "$W" --images
is "$rc" 0 "kedge check --images: the repo is fine"
like "$out" "ok   edge .*
     image $INIT \\(app\\)
     image $WEB \\(app\\)
     image $SIDECAR \\(app\\)" "it lists edge's images, normalised and sorted, extraImages too"
run "$KEDGE" check --repo "$W" --images --json --site lab
like "$out" "\"ref\": \"$WEB\"" "--json carries them"
like "$out" "\"digest\": \"$INIT_DIGEST\"" "with the digest a reference pins"
run "$KEDGE" check --repo "$W" --json --site lab
[[ $out != *'"images"'* ]]
tap_report $? "without --images, no image list"

pass() { # plan|apply SITE [options]
	local cmd=$1 site=$2
	shift 2
	run "$KEDGE" "$cmd" --site "$site" --repo "$REPO" --ref main --state-dir "$TMP/state-$site" \
		--kubeconfig "$KUBE_ADMIN" --containerd-socket "$SOCK" --wait 0 --progress "$@"
}
is_rc() {
	[ "$rc" = "$1" ]
	tap_report $? "$2" "got:      $rc
expected: $1
stderr:   $err"
}
report_json() { "$KEDGE" report show --site edge --state-dir "$TMP/state-edge"; }

# --- nothing there: refused ------------------------------------------------------
pass plan edge
is_rc 24 "kedge plan: nothing there, exit 24"
like "$err" "images: 3 of the 3 images the site needs are not on this node; nothing was applied \\(looked in containerd's k8s.io namespace at $SOCK, no pack given\\)" "plan says why"
like "$err" "  $INIT \\(bundle app\\)" "naming each missing image"
like "$err" "  $WEB \\(no digest pinned\\) \\(bundle app\\)" "a tag reference: no digest pinned"
pass apply edge
is_rc 24 "kedge apply: refused, exit 24"
like "$err" "kedge apply: budget  fits" "after the budget"
kc get v1 Namespace "" "$NS" >/dev/null 2>&1
is "$?" 3 "nothing was applied: not even the namespace"
run report_json
like "$out" '"result": "images-missing"' "the report: images-missing"
like "$out" "\"ref\": \"$INIT\"" "it lists the missing images by reference"
like "$out" "\"digest\": \"$INIT_DIGEST\"" "and digest"
like "$out" "\"ref\": \"$SIDECAR\"" "extraImages count"
like "$out" '"needed": 3' "three needed"

# --- one in containerd ----------------------------------------------------------
python3 "$TMP/mkimage.py" "$TMP/web.tar" web=$WEB >/dev/null
ok "ctr imports the web image into k8s.io" ctr_ images import "$TMP/web.tar"
pass apply edge
is_rc 24 "with the web image in containerd: still refused"
like "$err" "images: 2 of the 3 images" "two missing"
[[ $err != *"  $WEB "* ]]
tap_report $? "the web image is no longer named"

# --- the rest in the pack ---------------------------------------------------------
PACK=$TMP/pack
python3 "$TMP/mkimage.py" "$PACK/images" init=$INIT sidecar=$SIDECAR >/dev/null
pass apply edge --pack "$TMP/nopack"
is_rc 24 "a --pack without images/: refused"
like "$err" "not looked at: image layout $TMP/nopack/images" "naming the layout it could not read"
ok "the init image's digest is in the pack's layout" grep -q "${INIT_DIGEST#sha256:}" "$PACK/images/index.json"
pass plan edge --pack "$PACK"
is_rc 10 "plan with the pack: changes pending (exit 10)"
like "$err" "images  3 images present" "the preflight passes"
pass apply edge --pack "$PACK"
is_rc 0 "apply with the pack: exit 0"
ok "the Deployment is there" kc get apps/v1 Deployment "$NS" app
run report_json
like "$out" '"result": "ok"' "the report: ok"
like "$out" "\"where\": \"containerd\"" "it says where each image was: containerd"
like "$out" "\"where\": \"$PACK/images\"" "or the pack"

# --- containerd unreachable: only the pack counts ----------------------------------
pass plan edge --pack "$PACK" --containerd-socket "$TMP/none.sock"
is_rc 24 "containerd's socket gone: the web image is missing"
like "$err" "not looked at: containerd: no socket at $TMP/none.sock" "saying containerd was not looked at"

# --- require off (the default): not looked at ---------------------------------------
pass apply lab --containerd-socket "$TMP/none.sock"
is_rc 0 "a site without images: applies with nothing present"
[[ $err != *"images "* ]]
tap_report $? "and prints no images step"

# --- the agent: containerd-socket: and pack: in its config ----------------------------
agent_once() { # STATE PACK
	printf 'site: edge\nrepo: %s\nref: main\nstate-dir: %s\nkubeconfig: %s\nwait: false\ncontainerd-socket: %s\npack: %s\n' \
		"$REPO" "$1" "$KUBE_ADMIN" "$SOCK" "$2" >"$TMP/agent.yaml"
	run "$KEDGE" agent --config "$TMP/agent.yaml" --once
}
agent_once "$TMP/agent-1" "$TMP/nopack"
is_rc 24 "kedge agent --once with a pack lacking the images: the tick's code is 24"
agent_once "$TMP/agent-2" "$PACK"
is_rc 0 "with pack: naming the pack: the tick passes"

# --- the site option is checked ------------------------------------------------------
printf 'images: {require: sometimes}\n' >>"$W/sites/lab.yaml"
run "$KEDGE" check --repo "$W" --site lab
is "$rc" 1 "images.require: sometimes is a problem"
like "$err" "sites/lab.yaml:4:[0-9]+: images.require is present .* or off, not \"sometimes\"" "named by file and line"
printf 'name: lab\ncapacity: {pods: 10}\nimages: {requires: present}\n' >"$W/sites/lab.yaml"
run "$KEDGE" check --repo "$W" --site lab
like "$err" "sites/lab.yaml:3:[0-9]+: unknown key \"requires\" in images \\(did you mean \"require\"\\?\\)" "a misspelt key"
printf 'name: lab\ncapacity: {pods: 10}\nimages: {require: off}\n' >"$W/sites/lab.yaml"
run "$KEDGE" check --repo "$W" --site lab
is "$rc" 0 "require: off is fine"
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec:\n  containers: [{name: c, image: "Not A Ref"}]\n' \
	>"$W/charts/app/templates/bad.yaml"
run "$KEDGE" check --repo "$W" --site edge
is "$rc" 1 "a site that requires its images: an image that is no reference is a problem"
like "$err" "bundles/app/bundle.yaml: bundle app: Pod bad, containers\\[0\\] \\(c\\): \"Not A Ref\" is not an image reference" \
	"named by bundle file, object and container"

done_testing

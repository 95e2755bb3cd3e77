# kedge bootstrap with real parts: a pack made by kedge pack create from a
# config repo with signed commits (ssh-keygen) and a remote chart (a Helm
# HTTP repository served by lighttpd, stopped before the bootstrap: the
# node is offline), installed under --root in a temporary folder, its one
# pass applied to a real kube-apiserver (tests/servers/kube), its images
# (pulled from docker-registry into the pack) imported into a containerd
# started here and written to k3s's images folder. Then: a
# second run changes nothing, --dry-run changes nothing, a pack for
# another site, an untrusted key, a tampered blob and a truncated tar are
# refused with the node untouched, a missing kubeconfig is reported with
# the rest installed, and a full disk (a small tmpfs) fails a step that a
# rerun finishes.
. tests/lib.sh
. tests/servers/registry.sh
. tests/servers/images.sh
. tests/gitlib.sh
. tests/servers/helmrepo.sh
. tests/servers/kube/lib.sh

for tool in lighttpd ssh-keygen python3 openssl docker-registry htpasswd skopeo containerd ctr; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "1..0 # SKIP $tool is not installed (./build.sh test installs it)"
		exit 0
	fi
done

kube_start
trap 'for p in "${server_pids[@]}"; do kill "$p" 2>/dev/null; done; umount "$TMP/tmpfs" 2>/dev/null; kube_cleanup' EXIT

# --- two images in a registry, a containerd of the test's own -------------------------------
SRV=$TMP/srv
mkdir -p "$SRV/certs.d"
make_certs "$SRV"
cp "$SRV/ca.crt" "$SRV/certs.d/"
free_port; REG=127.0.0.1:$port
registry_start "$SRV" "$REG" "$SRV/registry" ""
server_pids+=("$registry_started")
make_images "$SRV/src" amd64 app sidecar
ok "two images are pushed to the registry" push_images "$SRV/src" "$REG" "$SRV/certs.d" "" app sidecar
CT=$TMP/ctr
mkdir -p "$CT"
printf '%s\n' 'version = 2' "root = \"$CT/root\"" "state = \"$CT/state\"" \
	'disabled_plugins = ["io.containerd.grpc.v1.cri"]' \
	'[grpc]' "  address = \"$CT/c.sock\"" '[ttrpc]' "  address = \"$CT/c.sock.ttrpc\"" \
	'[debug]' "  address = \"$CT/debug.sock\"" '[metrics]' '  address = ""' >"$CT/config.toml"
containerd --config "$CT/config.toml" >"$CT/log" 2>&1 &
server_pids+=($!)
for i in $(seq 1 100); do [ -S "$CT/c.sock" ] && break; sleep 0.1; done
ok "containerd runs with its own root, state and socket" ctr -a "$CT/c.sock" version
KC="$KEDGE lua tests/servers/kube/kc.lua"
kc() { $KC "$KUBE_ADMIN" "$@"; }

# --- keys, the chart repository, the config repo ------------------------------------
K=$TMP/keys
mkdir -p "$K"
for k in ops rogue; do ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$K/$k"; done
printf 'ops@kedge.invalid namespaces="git,kedge-pack" %s\n' "$(cat "$K/ops.pub")" >"$K/allowed"
printf 'rogue@kedge.invalid %s\n' "$(cat "$K/rogue.pub")" >"$K/rogue-allowed"

C=$TMP/chart-src/notes
mkdir -p "$C/templates"
printf 'apiVersion: v2\nname: notes\nversion: 0.1.0\n' >"$C/Chart.yaml"
printf 'text: hello\n' >"$C/values.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  text: {{ .Values.text | quote }}\n' \
	>"$C/templates/cm.yaml"
helm_repo_start "$TMP/helm" "$C"

R=$TMP/work
mkdir -p "$R/sites" "$R/bundles/notes" "$R/bundles/settings" "$R/charts/settings/templates"
for s in edge-01 edge-02; do printf 'name: %s\nlabels: {env: edge}\n' "$s" >"$R/sites/$s.yaml"; done
printf 'chart: {repo: "%s", name: notes, version: "0.1.x"}\nnamespace: boot\ntargets: [{matchLabels: {env: edge}}]\nvalues: {text: from-the-pack}\nextraImages: ["%s/apps/app:1.0", "%s/apps/sidecar:1.0"]\n' \
	"$HELM_REPO_URL" "$REG" "$REG" >"$R/bundles/notes/bundle.yaml"
printf 'chart: charts/settings\nnamespace: boot\ntargets: [{matchLabels: {env: edge}}]\n' >"$R/bundles/settings/bundle.yaml"
printf 'apiVersion: v2\nname: settings\nversion: 1.0.0\n' >"$R/charts/settings/Chart.yaml"
printf 'color: blue\n' >"$R/charts/settings/values.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  color: {{ .Values.color | quote }}\n' \
	>"$R/charts/settings/templates/cm.yaml"
printf 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: boot\n' >"$R/charts/settings/templates/ns.yaml"
git init -q --bare "$TMP/sites.git"
git -C "$R" init -q
git -C "$R" remote add origin "$TMP/sites.git"
git -C "$R" add -A
git -C "$R" -c gpg.format=ssh -c "user.signingkey=$K/ops" commit -q -S -m "edge sites"
git -C "$R" push -q origin HEAD:main
HEAD=$(git -C "$R" rev-parse HEAD)

P=$TMP/stick/pack
mkdir -p "$TMP/stick"
run "$KEDGE" pack create "$P" --repo "$TMP/sites.git" --ref main --site edge-01 --verify head \
	--trusted-keys "$K/allowed" --sign-key "$K/ops" --state-dir "$TMP/packstate" --registry-ca "$SRV/ca.crt"
is "$rc" 0 "a pack for edge-01, with its two images"
[ "$rc" = 0 ] || echo "# $err"
helm_repo_stop "$TMP/helm"

boot() { # ROOT [options]: bootstrap the pack into ROOT
	local root=$1
	shift
	mkdir -p "$root"
	run env -u KUBECONFIG "$KEDGE" bootstrap "${PACK:-$P}" --root "$root" --trusted-keys "$K/allowed" "$@"
}
empty() { [ -z "$(find "$1" -mindepth 1 2>/dev/null | head -1)" ]; }

# --- dry run ---------------------------------------------------------------------------
N=$TMP/node
boot "$N" --kubeconfig "$KUBE_ADMIN" --dry-run --containerd-socket "$CT/c.sock"
is "$rc" 0 "--dry-run succeeds"
like "$err" "binary  would install bin/linux-amd64/kedge as $N/usr/local/bin/kedge" "...printing the binary step"
like "$err" "pass    would run one pass: kedge apply --site edge-01" "...and the pass"
ok "...and changes nothing on the node" empty "$N"
ok "...nor on the stick" test ! -e "$P/reports"
is "$(ctr -a "$CT/c.sock" -n k8s.io images ls -q | wc -l)" 0 "...nor in containerd"
run kc get v1 ConfigMap boot settings
is "$rc" 3 "...nor in the cluster"

# --- the bootstrap -----------------------------------------------------------------------
mkdir -p "$N/var/lib/rancher/k3s"
CTR_OPTS=(--containerd-socket "$CT/c.sock" --snapshotter native)
boot "$N" --kubeconfig "$KUBE_ADMIN" --wait 30 "${CTR_OPTS[@]}"
is "$rc" 0 "kedge bootstrap installs the pack and runs one pass"
[ "$rc" = 0 ] || { echo "# $err"; echo "# $out"; cat "$P/reports/edge-01/pass.log" 2>/dev/null | sed 's/^/# /'; }
like "$out" "bootstrapped site edge-01 at ${HEAD:0:12}" "...saying so"
like "$err" "verify  [0-9]+ files, signature verified by SHA256:" "the pack was verified first"
like "$err" "images  make 2 images available to k3s and containerd: written to .*containerd .*: 2 imported, 0 already there" \
	"the images step says what it did"
ok "kedge is installed, executable, the pack's binary" cmp "$N/usr/local/bin/kedge" "$P/bin/linux-amd64/kedge"
ok "...mode 0755" test "$(stat -c %a "$N/usr/local/bin/kedge")" = 755
ok "the agent's unit is installed" grep -q "ExecStart=/usr/local/bin/kedge agent --config /etc/kedge/agent.yaml" \
	"$N/etc/systemd/system/kedge-agent.service"
like "$(tr '\n' ' ' <"$N/etc/kedge/agent.yaml")" "site: edge-01.*repo: /var/lib/kedge/pack/repo.git.*verify: head.*trusted-keys: /etc/kedge/allowed_signers" \
	"the agent's config points at the pack's copy of the repo, verifying commits"
ok "the allowed signers are installed for it" cmp "$N/etc/kedge/allowed_signers" "$K/allowed"
run "$KEDGE" sync --repo "$N/var/lib/kedge/pack/repo.git" --ref main --verify head --trusted-keys "$K/allowed" \
	--state-dir "$TMP/s3"
is "$out" "$HEAD $TMP/s3/rev/$HEAD" "the copy serves the packed commit, signature intact"
is "$(kc get v1 ConfigMap boot settings data.color)" blue "the pass applied the repo's own chart"
is "$(kc get v1 ConfigMap boot notes data.text)" from-the-pack "...and the remote chart, offline, from the pack"
like "$(ctr -a "$CT/c.sock" -n k8s.io images ls -q | tr '\n' ' ')" "$REG/apps/app:1\.0 .*$REG/apps/sidecar:1\.0" \
	"the images are in containerd's k8s.io namespace"
ok "...and an archive of them in k3s's agent/images folder" \
	bash -c "ls '$N'/var/lib/rancher/k3s/agent/images/*.tar >/dev/null"
rep=$(ls "$P"/reports/edge-01/edge-01-*.json 2>/dev/null | head -n 1)
ok "the report is on the stick, under its id" test -s "$rep"
like "$(cat "$rep")" "\"site\": \"edge-01\"" "...the pass's report for edge-01"
like "$(cat "$P/reports/edge-01/bootstrap.json")" "\"state\": \"verified\"" "bootstrap.json records the verified signature"
ok "kedge status is on the stick too" test -e "$P/reports/edge-01/status.txt"
run "$KEDGE" pack verify "$P" --trusted-keys "$K/allowed"
is "$rc" 0 "the pack still verifies with its reports in it"

before=$(stat -c %Y.%i "$N/usr/local/bin/kedge")
boot "$N" --kubeconfig "$KUBE_ADMIN" "${CTR_OPTS[@]}"
is "$rc" 0 "a second run succeeds"
is "$out" "nothing to do: the node holds this pack already" "...and changes nothing"
like "$(printf '%s' "$err" | tr '\n' ' ')" "binary  unchanged.*repo    unchanged.*images  unchanged: already in .*: 0 imported, 2 already there.*agent   unchanged.*pass    unchanged" "...step by step (containerd has the images)"
is "$(stat -c %Y.%i "$N/usr/local/bin/kedge")" "$before" "the binary was not rewritten"

# --- refusals: the node stays untouched --------------------------------------------------------
N2=$TMP/node2
boot "$N2" --site edge-02 --kubeconfig "$KUBE_ADMIN"
is "$rc" 3 "a pack for another site is refused"
like "$err" "the pack is for edge-01, not for site edge-02 .*nothing was changed" "...naming both"
run env -u KUBECONFIG "$KEDGE" bootstrap "$P" --root "$N2" --trusted-keys "$K/rogue-allowed"
is "$rc" 3 "a pack signed by an untrusted key is refused"
like "$err" "the signing key is not in .*rogue-allowed" "...saying so"
cp -a "$P" "$TMP/bad"
printf 'x' | dd of="$(ls "$TMP"/bad/charts/sha256/*.tgz)" bs=1 seek=50 conv=notrunc 2>/dev/null
PACK=$TMP/bad boot "$N2" --kubeconfig "$KUBE_ADMIN"
is "$rc" 3 "a tampered chart blob is refused"
like "$err" "bad/charts/sha256/[0-9a-f]{64}\.tgz: sha256 .* the file was changed; nothing was changed" "...naming it"
run "$KEDGE" pack create "$TMP/stick/p2" --repo "$TMP/sites.git" --ref main --site edge-01 --sign-key "$K/ops" \
	--state-dir "$TMP/packstate" --tar --registry-ca "$SRV/ca.crt"
head -c 300000 "$TMP/stick/p2.tar" >"$TMP/stick/short.tar"
PACK=$TMP/stick/short.tar boot "$N2"
is "$rc" 3 "a truncated tar is refused"
like "$err" "short\.tar: truncated" "...saying so"
ok "none of these touched the node" empty "$N2"

# --- a tar, and a node without a cluster yet ----------------------------------------------------
N3=$TMP/node3
PACK=$TMP/stick/p2.tar boot "$N3"
is "$rc" 4 "without a kubeconfig: installed, the pass not run (exit 4)"
like "$err" "pass    skipped: no kubeconfig" "...said on stderr"
ok "...the binary and the agent are installed" test -x "$N3/usr/local/bin/kedge" -a -f "$N3/etc/kedge/agent.yaml"
ok "a tar's reports go next to it" test -s "$TMP/stick/reports/edge-01/bootstrap.json"
PACK=$TMP/stick/p2.tar boot "$N3" --kubeconfig "$KUBE_ADMIN" --wait 30
is "$rc" 0 "once the kubeconfig is there, a rerun runs the pass"
like "$(printf '%s' "$err" | tr '\n' ' ')" "binary  unchanged.*agent   unchanged.*pass    run one pass" "...and only the pass"

# --- a pack made from the site's upstream (a URL): the agent keeps pulling from it ---------------
G=$TMP/git
make_ca "$G" || echo "Bail out! no CA"
start_git_http "$G"
git clone -q --bare "$TMP/sites.git" "$G/repos/sites.git"
mkdir -p "$TMP/upstate" && cp -r "$TMP/packstate/cache" "$TMP/upstate/"  # the chart repository is gone
run "$KEDGE" pack create "$TMP/stick/up" --repo "$GOOD_URL/sites.git" --ref main --site edge-01 --ca-file "$G/ca.crt" \
	--sign-key "$K/ops" --state-dir "$TMP/upstate" --registry-ca "$SRV/ca.crt"
is "$rc" 0 "a pack made from an HTTPS upstream"
[ "$rc" = 0 ] || echo "# $err"
PACK=$TMP/stick/up boot "$TMP/node4"
like "$(tr '\n' ' ' <"$TMP/node4/etc/kedge/agent.yaml")" "repo: $GOOD_URL/sites.git " "the agent's config names the upstream"
PACK=$TMP/stick/up boot "$TMP/node5" --offline
like "$(tr '\n' ' ' <"$TMP/node5/etc/kedge/agent.yaml")" "repo: /var/lib/kedge/pack/repo.git " "...or, with --offline, the pack's copy"

# --- a full disk during an install step -------------------------------------------------------------
if [ "$(id -u)" = 0 ] && mkdir -p "$TMP/tmpfs" && mount -t tmpfs -o size=8m tmpfs "$TMP/tmpfs" 2>/dev/null; then
	dd if=/dev/zero of="$TMP/tmpfs/filler" bs=1k count=6144 2>/dev/null
	boot "$TMP/tmpfs/root"
	is "$rc" 1 "a full disk fails the binary step"
	like "$err" "binary: .*(No space left|disk full).*run kedge bootstrap again" "...naming it and the fix"
	ok "...leaving no binary, whole or part" bash -c "! ls '$TMP'/tmpfs/root/usr/local/bin/* 2>/dev/null"
	rm "$TMP/tmpfs/filler"
	boot "$TMP/tmpfs/root"
	is "$rc" 4 "after space is freed, the rerun installs everything (no cluster: exit 4)"
	ok "...the binary whole" cmp "$TMP/tmpfs/root/usr/local/bin/kedge" "$P/bin/linux-amd64/kedge"
	umount "$TMP/tmpfs"
else
	echo "ok - # SKIP a small tmpfs needs root (mount -t tmpfs)"
fi

done_testing

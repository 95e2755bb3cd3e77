#!/usr/bin/env bash
# Builds kube-apiserver v1.20.2 from Debian 12's `kubernetes` source package,
# offline (GOPATH mode, GOPROXY=off, CGO off), and caches the binary under
# ${KEDGE_CACHE:-~/.cache/kedge}/kube-<source version>/. Prints that folder.
# The first run takes minutes; later runs only print the folder.
# With --cached: exit 1 at once when it is not built yet.
# Needs golang-go, rsync and golang-github-modern-go-reflect2-dev (build.sh's
# test package list installs them) and a deb-src apt entry (build.sh writes it).
set -euo pipefail

VERSION=1.20.5+really1.20.2-1.1+deb12u1
ORIG=kubernetes_1.20.5+really1.20.2.orig.tar.gz
ORIG_SHA256=b83c0780efb182d928dc63d46488a847f161f04e40a94b96bf5247dd671ecdfc
CACHE=${KEDGE_CACHE:-$HOME/.cache/kedge}
OUT=$CACHE/kube-$VERSION

if [[ -x $OUT/kube-apiserver ]]; then
	echo "$OUT"
	exit 0
fi
[[ ${1:-} == --cached ]] && exit 1 # only asked whether it is there
mkdir -p "$CACHE"
exec 9>"$CACHE/kube-$VERSION.lock"
flock 9 # another test run may be building it right now
if [[ -x $OUT/kube-apiserver ]]; then
	echo "$OUT"
	exit 0
fi

for tool in go rsync; do
	command -v "$tool" >/dev/null || { echo "build-apiserver: $tool is missing (./build.sh test installs it)" >&2; exit 1; }
done
REFLECT2=/usr/share/gocode/src/github.com/modern-go/reflect2
[[ -d $REFLECT2 ]] || { echo "build-apiserver: $REFLECT2 is missing (apt-get install golang-github-modern-go-reflect2-dev)" >&2; exit 1; }

WORK=$CACHE/kube-$VERSION.work
rm -rf "$WORK"
mkdir -p "$WORK/dl"
cd "$WORK/dl"
apt-get source --download-only "kubernetes=$VERSION" >"$WORK/download.log" 2>&1 || {
	tail -n 20 "$WORK/download.log" >&2
	echo "build-apiserver: apt-get source kubernetes=$VERSION failed (is a deb-src entry set up? ./build.sh writes one)" >&2
	exit 1
}
got=$(sha256sum "$ORIG" | cut -d' ' -f1)
[[ $got == "$ORIG_SHA256" ]] || { echo "build-apiserver: $ORIG has sha256 $got, expected $ORIG_SHA256" >&2; exit 1; }

mkdir -p "$WORK/src"
tar -xzf "$ORIG" -C "$WORK/src" --strip-components=1
# The vendored reflect2 v1.0.1 crashes under Go >= 1.18 (SIGSEGV on the first
# JSON map); Debian's 1.0.2 works.
rm -rf "$WORK/src/vendor/github.com/modern-go/reflect2"
cp -r "$REFLECT2" "$WORK/src/vendor/github.com/modern-go/reflect2"

mkdir -p "$WORK/gopath/src/k8s.io"
ln -s "$WORK/src" "$WORK/gopath/src/k8s.io/kubernetes"
cd "$WORK/gopath/src/k8s.io/kubernetes"
export GOPATH=$WORK/gopath GO111MODULE=off GOPROXY=off CGO_ENABLED=0
export GOCACHE=$WORK/gocache
export KUBE_GIT_VERSION=v1.20.2 KUBE_GIT_TREE_STATE=clean KUBE_GIT_COMMIT=faecb196815e248d3ecfb03c680a4507229c2a56
start=$(date +%s)
make WHAT=cmd/kube-apiserver >"$WORK/build.log" 2>&1 || {
	tail -n 30 "$WORK/build.log" >&2
	echo "build-apiserver: make failed (log: $WORK/build.log)" >&2
	exit 1
}
bin=$(find "$WORK/src/_output" -type f -name kube-apiserver | head -n 1)
[[ -n $bin ]] || { echo "build-apiserver: no kube-apiserver binary in _output" >&2; exit 1; }
mkdir -p "$OUT.tmp"
cp "$bin" "$OUT.tmp/kube-apiserver"
echo "$(($(date +%s) - start))" >"$OUT.tmp/build-seconds"
mv "$OUT.tmp" "$OUT"
rm -rf "$WORK"
echo "$OUT"

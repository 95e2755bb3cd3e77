#!/usr/bin/env bash
# kedge's one entry point: fetch the pinned third-party sources, build them
# and kedge as one static musl binary, run the tests or the fuzzers.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$ROOT"
JOBS=$(nproc)
LOGDIR="$ROOT/build/logs"

usage() {
	cat <<'EOF'
usage: ./build.sh [all|deps|arm64|test|demo|fuzz|clean]

  all    (default) build the dependencies if needed, then build/kedge
  arm64  build/arm64/kedge: the same binary for aarch64, cross-compiled
         with Debian's gcc-aarch64-linux-gnu against musl built from its
         pinned source; its dependencies are cached apart (deps-<key>-aarch64)
  deps   build only the dependencies; the last line printed is their prefix
  test   all and arm64, then the test programs, then every test through
         prove (the arm64 binary's smoke suite runs under qemu-aarch64-static)
  demo   all, then a first run of `kedge agent` against a local control
         plane (tests/agent/demo.sh); everything it starts is stopped
  fuzz   build the fuzzers (clang, libFuzzer) and run each for
         ${FUZZ_SECONDS:-60} seconds on its corpus in tests/fuzz/corpus/<name>/
  clean  remove build/ and .deps/ (the dependency cache stays)

The third-party sources are Debian source packages pinned in vendor/pins,
fetched through apt and checked against their sha256. Missing Debian
packages (musl-tools, dpkg-dev, ...) are installed with apt when run as root.

Environment:
  KEDGE_CACHE   where built dependencies are kept (default ~/.cache/kedge);
                one folder deps-<key> per state of vendor/ and compiler
  FUZZ_SECONDS  seconds per fuzzer for `fuzz` (default 60)
EOF
}

say() { printf 'kedge: %s\n' "$*" >&2; }
die() {
	printf 'kedge: error: %s\n' "$*" >&2
	exit 1
}

# --- Debian packages ------------------------------------------------------------

APT_UPDATED=
apt_update_once() {
	[[ -n $APT_UPDATED ]] && return 0
	[[ $(id -u) == 0 ]] || die "need root to run apt-get update"
	mkdir -p "$LOGDIR"
	write_deb_src || true # so one update also fetches the source lists
	say "apt-get update"
	if ! apt-get -o DPkg::Lock::Timeout=600 update >"$LOGDIR/apt-update.log" 2>&1; then
		tail -n 20 "$LOGDIR/apt-update.log" >&2
		die "apt-get update failed (log: $LOGDIR/apt-update.log)"
	fi
	APT_UPDATED=1
}

# install PACKAGE ...: apt-get install (after one apt-get update).
install_pkgs() {
	[[ $(id -u) == 0 ]] || die "missing Debian packages: $* (install them, or run as root)"
	apt_update_once
	say "installing $*"
	if ! DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends "$@" \
		>"$LOGDIR/apt-install.log" 2>&1; then
		tail -n 20 "$LOGDIR/apt-install.log" >&2
		die "apt-get install $* failed (log: $LOGDIR/apt-install.log)"
	fi
}

# need TOOL:PACKAGE ... installs each PACKAGE whose TOOL (a command, or an
# absolute path) is missing. apt-get update runs only if something is missing.
need() {
	local spec tool pkg missing=()
	for spec in "$@"; do
		tool=${spec%%:*} pkg=${spec#*:}
		if [[ $tool == /* ]]; then
			[[ -e $tool ]] && continue
		else
			command -v "$tool" >/dev/null 2>&1 && continue
		fi
		[[ " ${missing[*]} " == *" $pkg "* ]] || missing+=("$pkg")
	done
	((${#missing[@]} == 0)) || install_pkgs "${missing[@]}"
}

# liblua5.4-dev: tools/embed.c precompiles the Lua library with it.
need_build_tools() {
	mkdir -p "$LOGDIR"
	need musl-gcc:musl-tools dpkg-source:dpkg-dev dpkg-architecture:dpkg-dev \
		make:make cmake:cmake pkg-config:pkgconf python3:python3 patch:patch \
		xz:xz-utils bzip2:bzip2 /etc/ssl/certs/ca-certificates.crt:ca-certificates \
		/usr/include/lua5.4/lua.h:liblua5.4-dev
}

need_test_tools() {
	need valgrind:valgrind prove:perl unshare:util-linux file:file \
		lighttpd:lighttpd /usr/lib/lighttpd/mod_openssl.so:lighttpd-mod-openssl \
		openssl:openssl nc:netcat-openbsd git:git perl:perl flock:util-linux \
		ssh-keygen:openssh-client /usr/sbin/sshd:openssh-server \
		go:golang-go rsync:rsync etcd:etcd-server python3:python3 \
		/usr/share/gocode/src/github.com/modern-go/reflect2:golang-github-modern-go-reflect2-dev \
		promtool:prometheus systemd-analyze:systemd faketime:faketime age:age
	# the host-built template tests link core/sprig/crypto.c against these
	need /usr/include/mbedtls/x509_crt.h:libmbedtls-dev /usr/include/sodium.h:libsodium-dev
	need_glibc_libs
	need chromium:chromium chromedriver:chromium-driver
	need docker-registry:docker-registry htpasswd:apache2-utils curl:curl /usr/lib/python3/dist-packages/yaml:python3-yaml
	# container images (t0965): push and check with skopeo and umoci, import into containerd
	need skopeo:skopeo umoci:umoci containerd:containerd ctr:containerd
	need qemu-aarch64-static:qemu-user-static
	need clang:clang
}

# clang's libFuzzer: Debian ships its runtime in libclang-rt-<major>-dev.
libfuzzer_works() {
	mkdir -p "$ROOT/build/fuzz"
	printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
		'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' |
		clang -fsanitize=fuzzer -x c - -o "$ROOT/build/fuzz/.probe" >"$LOGDIR/libfuzzer-probe.log" 2>&1
	local rc=$?
	rm -f "$ROOT/build/fuzz/.probe"
	return $rc
}

# The cross compiler (its binutils come with it); musl is built from source.
need_arm64_tools() {
	need aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu
}

# The sanitizer and fuzzer builds (glibc) compile all of core/ and link
# Debian's builds of the libraries vendor/pins names, same versions.
need_glibc_libs() {
	need /usr/include/zlib.h:zlib1g-dev /usr/include/lua5.4/lua.h:liblua5.4-dev \
		/usr/include/git2.h:libgit2-dev /usr/include/http_parser.h:libhttp-parser-dev \
		/usr/include/libssh2.h:libssh2-1-dev
}

need_fuzz_tools() {
	need clang:clang
	# the fuzzers link core/tmpl/crypto.c against these
	need /usr/include/mbedtls/x509_crt.h:libmbedtls-dev /usr/include/sodium.h:libsodium-dev
	need_glibc_libs
	libfuzzer_works && return 0
	local rt
	rt="libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
	install_pkgs "$rt"
	libfuzzer_works || {
		cat "$LOGDIR/libfuzzer-probe.log" >&2
		die "clang -fsanitize=fuzzer does not work, even with $rt installed"
	}
}

# --- steps ------------------------------------------------------------------------

# shellcheck source=vendor/deps.sh
. "$ROOT/vendor/deps.sh"

commit_id() {
	git rev-parse --short HEAD 2>/dev/null || echo unknown
}

build_kedge() {
	local prefix=$1
	[[ -f $ROOT/Makefile ]] || die "no Makefile yet: nothing to build beyond the dependencies"
	say "building kedge"
	make -j"$JOBS" DEPS="$prefix" CC=musl-gcc KEDGE_COMMIT="$(commit_id)"
}

# build_arm64: build/arm64/kedge, its objects under build/arm64/ so the
# native build's are untouched.
build_arm64() {
	local prefix
	prefix=$(DEPS_ARCH=aarch64 deps_build)
	say "building kedge for aarch64"
	make -j"$JOBS" BUILD=build/arm64 DEPS="$prefix" CC="$prefix/musl/bin/musl-gcc" \
		AR=aarch64-linux-gnu-ar STRIP=aarch64-linux-gnu-strip KEDGE_COMMIT="$(commit_id)" build/arm64/kedge
}

run_tests() {
	local prefix=$1 f files=()
	say "building tests"
	make -j"$JOBS" DEPS="$prefix" CC=musl-gcc KEDGE_COMMIT="$(commit_id)" tests
	# The Kubernetes tests need a kube-apiserver built from Debian's source
	# package; the first time that takes minutes, so say so here rather than
	# inside a silent test (the test builds it itself when this is skipped).
	if [[ -z ${KEDGE_TEST_KUBECONFIG:-} ]] && ! tests/servers/kube/build-apiserver.sh --cached >/dev/null; then
		say "building kube-apiserver for the Kubernetes tests (once, about 7 minutes)"
		ensure_deb_src # apt-get source needs the deb-src lists
		uris_of kubernetes "$(sed -n 's/^VERSION=//p' tests/servers/kube/build-apiserver.sh)" >/dev/null
		tests/servers/kube/build-apiserver.sh >/dev/null || die "building kube-apiserver failed"
	fi
	for d in build/tests/unit build/tests/fuzz; do
		[[ -d $d ]] || continue
		while IFS= read -r -d '' f; do
			files+=("$f")
		done < <(find "$d" -maxdepth 1 -type f -perm -u+x -print0 | LC_ALL=C sort -z)
	done
	shopt -s nullglob
	files+=(tests/unit/*.sh tests/lua/*.lua tests/e2e/*.sh)
	shopt -u nullglob
	((${#files[@]})) || die "no tests found (build/tests/{unit,fuzz}/, tests/lua/*.lua, tests/e2e/*.sh)"
	[[ -x tests/run-one ]] || die "tests/run-one is missing or not executable"
	say "running ${#files[@]} test files"
	exec prove --exec tests/run-one -j2 "${files[@]}"
}

run_fuzz() {
	local prefix=$1 secs=${FUZZ_SECONDS:-60} f name corpus work log rc
	local passed=0 failed=0 fuzzers=()
	say "building fuzzers"
	make -j"$JOBS" DEPS="$prefix" CLANG=clang fuzz
	while IFS= read -r -d '' f; do
		fuzzers+=("$f")
	done < <(find build/fuzz -maxdepth 1 -type f -name 'fuzz_*' -perm -u+x -print0 2>/dev/null | LC_ALL=C sort -z)
	((${#fuzzers[@]})) || die "make fuzz built no build/fuzz/fuzz_* programs"
	mkdir -p build/fuzz/work build/fuzz/artifacts build/fuzz/logs
	for f in "${fuzzers[@]}"; do
		name=$(basename "$f")
		name=${name#fuzz_}
		corpus=tests/fuzz/corpus/$name
		work=build/fuzz/work/$name # new inputs land here, not in the repo
		log=build/fuzz/logs/$name.log
		mkdir -p "$work"
		local dirs=("$work") dict=()
		[[ -f tests/fuzz/dict/$name.dict ]] && dict=(-dict="tests/fuzz/dict/$name.dict")
		if [[ -d $corpus ]]; then
			dirs+=("$corpus")
		else
			say "note: no corpus at $corpus"
		fi
		say "fuzzing $name for ${secs} s"
		rc=0
		"$f" -max_total_time="$secs" -print_final_stats=1 "${dict[@]}" \
			-artifact_prefix="build/fuzz/artifacts/$name-" "${dirs[@]}" >"$log" 2>&1 || rc=$?
		if ((rc == 0)); then
			passed=$((passed + 1))
			say "  $name: ok ($(grep -m1 -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?') runs)"
		else
			failed=$((failed + 1))
			tail -n 30 "$log" >&2
			say "  $name: FAILED (exit $rc; log $log; inputs in build/fuzz/artifacts/)"
		fi
	done
	echo "fuzz: $passed passed, $failed failed"
	((failed == 0))
}

cmd=${1:-all}
case $cmd in
-h | --help | help)
	usage
	exit 0
	;;
all | deps | arm64 | test | demo | fuzz | clean) ;;
*)
	usage >&2
	exit 2
	;;
esac
(($# <= 1)) || {
	usage >&2
	exit 2
}

case $cmd in
clean)
	if [[ -f Makefile ]]; then make clean >/dev/null 2>&1 || true; fi
	rm -rf build .deps
	say "removed build/ and .deps/ (the dependency cache in $DEPS_CACHE stays)"
	;;
deps)
	need_build_tools
	prefix=$(deps_build)
	printf '%s\n' "$prefix"
	;;
all)
	need_build_tools
	prefix=$(deps_build)
	build_kedge "$prefix"
	;;
arm64)
	need_build_tools
	need_arm64_tools
	build_arm64
	;;
test)
	need_build_tools
	need_test_tools
	need_arm64_tools
	prefix=$(deps_build)
	build_kedge "$prefix"
	build_arm64
	run_tests "$prefix"
	;;
demo)
	need_build_tools
	need_test_tools
	prefix=$(deps_build)
	build_kedge "$prefix"
	bash tests/agent/demo.sh
	;;
fuzz)
	need_build_tools
	need_fuzz_tools
	prefix=$(deps_build)
	run_fuzz "$prefix"
	;;
esac

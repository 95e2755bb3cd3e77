# shellcheck shell=bash
# kedge's third-party dependencies: fetch (through apt), verify, unpack, build.
#
# Sourced by build.sh, which provides say, die, apt_update_once and the
# variables ROOT (the repo), JOBS and LOGDIR. Being under vendor/, this file is
# part of the cache key: changing how dependencies are made rebuilds them.
#
# Layout:
#   .deps/dl/<file>              verified downloads (ignored by git)
#   .deps/src/<pkg>_<version>/   unpacked sources, Debian patches applied
#   .deps/build/<pkg>/           scratch build trees
#   $LOGDIR/<pkg>.log            full build logs
#   ${KEDGE_CACHE:-~/.cache/kedge}/deps-<key>/{include,lib}   the result
#   ${KEDGE_CACHE:-~/.cache/kedge}/deps-<key>-<arch>/           a cross build's,
#       with musl/ (its libc and musl-gcc wrapper) beside include/ and lib/
#
# DEPS_ARCH (a machine name as uname -m spells it, e.g. aarch64) asks for a
# cross build with Debian's <arch>-linux-gnu- gcc; empty or unset is native.

# Build order: each package only needs those before it.
DEPS_ORDER=(zlib mbedtls http-parser libyaml lua5.4 libssh2 libgit2 libsodium)

# What a complete prefix must hold (checked before it is published).
DEPS_EXPECT=(
	include/lua.h include/luaconf.h include/lualib.h include/lauxlib.h
	include/git2.h include/git2 include/mbedtls/ssl.h include/yaml.h
	include/zlib.h include/zconf.h include/http_parser.h include/libssh2.h
	include/sodium.h lib/libsodium.a
	lib/liblua.a lib/libgit2.a lib/libssh2.a lib/libmbedtls.a lib/libmbedx509.a
	lib/libmbedcrypto.a lib/libhttp_parser.a lib/libyaml.a lib/libz.a
)

# A cross build first builds musl itself (the native one is Debian's).
DEPS_CROSS_EXPECT=(musl/bin/musl-gcc musl/lib/musl-gcc.specs musl/lib/libc.a)

DEPS_DIR="$ROOT/.deps"
DEPS_PINS="$ROOT/vendor/pins"
DEPS_CACHE="${KEDGE_CACHE:-${HOME:-/root}/.cache/kedge}"

# The pin lines (package version file sha256) of one package.
pins_of() {
	awk -v p="$1" '$1 == p && NF == 4 { print $2, $3, $4 }' "$DEPS_PINS"
}

version_of() {
	local v
	v=$(pins_of "$1" | awk 'NR == 1 { print $1 }')
	[[ -n $v ]] || die "vendor/pins has no entry for $1"
	printf '%s\n' "$v"
}

# Source folder of a package: .deps/src/<pkg>_<version without epoch>.
src_dir_of() {
	local v
	v=$(version_of "$1")
	printf '%s/src/%s_%s\n' "$DEPS_DIR" "$1" "${v#*:}"
}

# deps_cross: the cross compiler's prefix for DEPS_ARCH ("" when native).
deps_cross() {
	[[ -n ${DEPS_ARCH:-} ]] && printf '%s-linux-gnu-\n' "$DEPS_ARCH"
	return 0
}

# deps_cc_version: the identity of the compiler the dependencies are built with.
deps_cc_version() {
	local cross
	cross=$(deps_cross)
	if [[ -n $cross ]]; then
		command -v "${cross}gcc" >/dev/null || die "${cross}gcc not found (Debian package gcc-${cross%-})"
		"${cross}gcc" --version
	else
		command -v musl-gcc >/dev/null || die "musl-gcc not found (Debian package musl-tools)"
		musl-gcc --version
	fi
}

# deps_key: first 16 hex of sha256 over every file under vendor/ (names and
# contents), the compiler's identity and, for a cross build, the target.
deps_key() {
	local cc
	cc=$(deps_cc_version)
	{
		(cd "$ROOT" && find vendor -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
		printf '%s\n' "$cc"
		[[ -z ${DEPS_ARCH:-} ]] || printf 'target %s\n' "$DEPS_ARCH"
	} | sha256sum | cut -c1-16
}

deps_prefix() {
	printf '%s/deps-%s%s\n' "$DEPS_CACHE" "$(deps_key)" "${DEPS_ARCH:+-$DEPS_ARCH}"
}

# --- sources ------------------------------------------------------------------

# Source packages need a deb-src entry. It is derived from the machine's own
# apt sources (so no mirror is named in the repo), and apt's lists are
# refreshed only when apt does not know the pinned version yet.
DEBSRC_FILE=/etc/apt/sources.list.d/kedge-deb-src.sources
DEBSRC_LIST=/etc/apt/sources.list.d/kedge-deb-src.list

# write_deb_src: (re)write the deb-src file; true if it changed.
write_deb_src() {
	local want target
	if [[ -f /etc/apt/sources.list.d/debian.sources ]]; then
		target=$DEBSRC_FILE
		want=$(sed -E 's/^Types:[[:space:]]+deb[[:space:]]*$/Types: deb-src/' \
			/etc/apt/sources.list.d/debian.sources)
		grep -q '^Types: deb-src$' <<<"$want" ||
			die "cannot derive deb-src entries from /etc/apt/sources.list.d/debian.sources (no 'Types: deb' line)"
	elif [[ -f /etc/apt/sources.list ]] && grep -Eq '^deb[[:space:]]' /etc/apt/sources.list; then
		target=$DEBSRC_LIST
		want=$(sed -nE 's/^deb([[:space:]])/deb-src\1/p' /etc/apt/sources.list)
	else
		die "no apt sources found to derive deb-src entries from"
	fi
	[[ -f $target ]] && [[ "$(cat "$target")" == "$want" ]] && return 1
	[[ $(id -u) == 0 ]] || die "need root to write $target (Debian source packages)"
	say "enabling Debian source packages in $target"
	printf '%s\n' "$want" >"$target"
}

ensure_deb_src() {
	if write_deb_src; then
		# shellcheck disable=SC2034 # build.sh's flag: new entries need a fresh update
		APT_UPDATED=
		apt_update_once
	fi
}

# uris_of PKG VERSION: apt's "'URI' FILE SIZE HASH" lines for that source.
uris_of() {
	local out
	if ! out=$(apt-get source --print-uris -qq "$1=$2" 2>/dev/null) || ! grep -q "^'" <<<"$out"; then
		apt_update_once
		out=$(apt-get source --print-uris -qq "$1=$2" 2>&1) || true
		grep -q "^'" <<<"$out" ||
			die "apt does not know source package $1=$2 (is deb-src enabled?):"$'\n'"$out"
	fi
	grep "^'" <<<"$out"
}

# fetch PKG: every pinned file of PKG into .deps/dl, verified.
fetch() {
	local pkg=$1 ver file sum uris uri actual
	ver=$(version_of "$pkg")
	mkdir -p "$DEPS_DIR/dl"
	uris=
	while read -r _ file sum; do
		local dest="$DEPS_DIR/dl/$file"
		if [[ -f $dest ]] && [[ "$(sha256sum <"$dest" | cut -d' ' -f1)" == "$sum" ]]; then
			continue
		fi
		rm -f "$dest"
		if [[ -z $uris ]]; then
			ensure_deb_src
			uris=$(uris_of "$pkg" "$ver")
		fi
		uri=$(awk -v f="$file" '$2 == f { gsub("\047", "", $1); print $1; exit }' <<<"$uris")
		[[ -n $uri ]] || die "apt lists no file $file for $pkg=$ver; it offers:"$'\n'"$uris"
		say "downloading $file"
		/usr/lib/apt/apt-helper -o APT::Sandbox::User=root -qq download-file "$uri" "$dest.part" \
			>"$LOGDIR/download-$file.log" 2>&1 || {
			tail -n 5 "$LOGDIR/download-$file.log" >&2
			rm -f "$dest.part"
			die "download failed: $uri"
		}
		actual=$(sha256sum <"$dest.part" | cut -d' ' -f1)
		if [[ $actual != "$sum" ]]; then
			rm -f "$dest.part"
			die "sha256 mismatch for $file (package $pkg $ver), refusing it:"$'\n'"  expected: $sum (vendor/pins)"$'\n'"  actual:   $actual"
		fi
		mv -f "$dest.part" "$dest"
	done < <(pins_of "$pkg")
}

# apply_series DIR: Debian's quilt series, in order, with patch.
apply_series() {
	local dir=$1 series="$1/debian/patches/series" name opt strip
	[[ -f $series ]] || return 0
	while read -r name opt _; do
		[[ -z $name || $name == \#* ]] && continue
		strip=-p1
		[[ $opt == -p* ]] && strip=$opt
		patch -d "$dir" "$strip" --forward --batch --quiet --no-backup-if-mismatch \
			-i "debian/patches/$name" || die "patch $name of $(basename "$dir") does not apply"
	done <"$series"
}

# unpack PKG: fetch, then unpack into .deps/src unless already there for
# exactly these pins. Prints the source folder.
unpack() {
	local pkg=$1 dir stamp tmp file
	dir=$(src_dir_of "$pkg")
	stamp=$(pins_of "$pkg")
	if [[ -f $dir/.kedge-pins ]] && [[ "$(cat "$dir/.kedge-pins")" == "$stamp" ]]; then
		printf '%s\n' "$dir"
		return 0
	fi
	fetch "$pkg"
	say "unpacking $pkg $(version_of "$pkg")"
	tmp="$dir.tmp"
	rm -rf "$dir" "$tmp"
	mkdir -p "$tmp"
	# The upstream tarball first (its single top folder stripped), then the
	# debian/ folder over it, as dpkg-source does.
	while read -r _ file _; do
		case $file in *.orig.tar.*) tar -xf "$DEPS_DIR/dl/$file" -C "$tmp" --strip-components=1 --no-same-owner ;; esac
	done < <(pins_of "$pkg")
	while read -r _ file _; do
		case $file in *.debian.tar.*) tar -xf "$DEPS_DIR/dl/$file" -C "$tmp" --no-same-owner ;; esac
	done < <(pins_of "$pkg")
	[[ -d $tmp/debian ]] || die "$pkg: no debian/ folder after unpacking"
	apply_series "$tmp"
	printf '%s\n' "$stamp" >"$tmp/.kedge-pins"
	mv "$tmp" "$dir"
	printf '%s\n' "$dir"
}

# --- build --------------------------------------------------------------------

build_one() {
	local pkg=$1 stage=$2 src ver log start
	ver=$(version_of "$pkg")
	src=$(src_dir_of "$pkg")
	log="$LOGDIR/$pkg.log"
	say "building $pkg $ver …"
	start=$SECONDS
	rm -rf "$DEPS_DIR/build/$pkg"
	mkdir -p "$DEPS_DIR/build/$pkg"
	if ! SRC="$src" BLD="$DEPS_DIR/build/$pkg" PREFIX="$stage" JOBS="$JOBS" VENDOR="$ROOT/vendor" \
		bash "$ROOT/vendor/recipes/$pkg.sh" </dev/null >"$log" 2>&1; then
		echo "---- last 40 lines of $log ----" >&2
		tail -n 40 "$log" >&2
		echo "----" >&2
		die "building $pkg $ver failed (full log: $log)"
	fi
	say "  $pkg done ($((SECONDS - start)) s)"
}

# deps_build: make sure the prefix for the current key exists; print it.
deps_build() {
	local prefix stage pkg f start cross expect
	prefix=$(deps_prefix)
	cross=$(deps_cross)
	if [[ -f $prefix/.kedge-deps ]]; then
		printf '%s\n' "$prefix"
		return 0
	fi
	mkdir -p "$DEPS_CACHE" "$LOGDIR"
	# One builder at a time per cache; others wait, then find the result.
	exec {DEPS_LOCK_FD}>"$DEPS_CACHE/.lock"
	if ! flock -n "$DEPS_LOCK_FD"; then
		say "waiting for another dependency build in $DEPS_CACHE"
		flock "$DEPS_LOCK_FD"
	fi
	if [[ -f $prefix/.kedge-deps ]]; then
		exec {DEPS_LOCK_FD}>&-
		printf '%s\n' "$prefix"
		return 0
	fi
	start=$SECONDS
	say "building dependencies into $prefix"
	# Every source is fetched and verified before anything is compiled.
	for pkg in ${cross:+musl} "${DEPS_ORDER[@]}"; do
		unpack "$pkg" >/dev/null
	done
	stage="$prefix.tmp"
	rm -rf "$stage" "$prefix"
	mkdir -p "$stage/include" "$stage/lib/pkgconfig"
	DEPS_STAGE=$stage
	trap 'rm -rf "$DEPS_STAGE"' EXIT

	(
		export CC=musl-gcc AR=ar RANLIB=ranlib
		if [[ -n $cross ]]; then
			CROSS=$cross build_one musl "$stage"
			# vendor/musl-toolchain.cmake and the Lua recipe read these
			export CC="$stage/musl/bin/musl-gcc" AR="${cross}ar" RANLIB="${cross}ranlib"
			export KEDGE_DEPS_ARCH=$DEPS_ARCH
			export KEDGE_DEPS_MULTIARCH="${cross%-}"
		fi
		export CFLAGS="-O2 -ffunction-sections -fdata-sections"
		export PKG_CONFIG_LIBDIR="$stage/lib/pkgconfig" PKG_CONFIG_PATH=
		export KEDGE_DEPS_PREFIX="$stage"
		unset CPPFLAGS LDFLAGS LIBS CMAKE_PREFIX_PATH CPATH C_INCLUDE_PATH LIBRARY_PATH
		for pkg in "${DEPS_ORDER[@]}"; do
			build_one "$pkg" "$stage"
		done
	)

	expect=("${DEPS_EXPECT[@]}")
	[[ -z $cross ]] || expect+=("${DEPS_CROSS_EXPECT[@]}")
	for f in "${expect[@]}"; do
		[[ -e $stage/$f ]] || die "dependency build incomplete: $f missing"
	done
	# Only headers and static libraries are kept; pkg-config and CMake files
	# are rewritten to name the final prefix instead of the staging one.
	rm -rf "${stage:?}/bin" "${stage:?}/share" "${stage:?}/man"
	find "$stage/lib" -maxdepth 1 \( -name '*.so*' -o -name '*.la' \) -delete
	# A cross build's musl wrapper and specs file name their folder too.
	find "$stage/lib" ${cross:+"$stage/musl"} -type f \
		\( -name '*.pc' -o -name '*.cmake' -o -name musl-gcc -o -name '*.specs' \) -print0 |
		xargs -0 -r sed -i "s|$stage|$prefix|g"
	{
		echo "# kedge dependency prefix, key $(deps_key)"
		echo "# compiler: $(deps_cc_version | head -n 1)${DEPS_ARCH:+, target $DEPS_ARCH}"
		grep -Ev '^[[:space:]]*(#|$)' "$DEPS_PINS"
	} >"$stage/.kedge-deps"
	mv -T "$stage" "$prefix"
	trap - EXIT
	rm -rf "$DEPS_DIR/build" # scratch trees; kept only when a build fails
	exec {DEPS_LOCK_FD}>&-
	say "dependencies ready in $((SECONDS - start)) s"
	printf '%s\n' "$prefix"
}

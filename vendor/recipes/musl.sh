#!/usr/bin/env bash
# musl, for cross builds only (the native build uses Debian's musl-tools of
# the same version): configured as Debian's rules do it (fts from
# debian/musl-fts, the gcc wrapper), static only, built with the cross
# compiler named by CROSS (e.g. aarch64-linux-gnu-). Installs into
# $PREFIX/musl: the libc, its headers, and bin/musl-gcc with its specs file,
# which compile and link against that libc with the cross gcc's libgcc.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"
: "${CROSS:?}"
cp -a "$SRC/." "$BLD/tree"
cd "$BLD/tree"
mkdir -p src/fts
cp debian/musl-fts/fts.c debian/musl-fts/config.h src/fts/
cp debian/musl-fts/fts.h include/
# musl picks its own optimisation flags; the dependencies' CFLAGS are not its.
env -u CFLAGS CC="${CROSS}gcc" AR="${CROSS}ar" RANLIB="${CROSS}ranlib" \
	./configure --prefix="$PREFIX/musl" --target="${CROSS%-}" \
	--disable-shared --enable-wrapper=gcc
make -j"$JOBS"
make install
test -x "$PREFIX/musl/bin/musl-gcc" -a -f "$PREFIX/musl/lib/musl-gcc.specs" -a -f "$PREFIX/musl/lib/libc.a"

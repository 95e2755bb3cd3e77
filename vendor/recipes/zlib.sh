#!/usr/bin/env bash
# zlib: its own configure, static only.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"
cp -a "$SRC/." "$BLD/tree"
cd "$BLD/tree"
./configure --static --prefix="$PREFIX" --libdir="$PREFIX/lib" --includedir="$PREFIX/include"
make -j"$JOBS" libz.a
make install

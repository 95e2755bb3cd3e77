#!/usr/bin/env bash
# http-parser: upstream's `make package` builds the static library; install by hand.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"
cp -a "$SRC/." "$BLD/tree"
cd "$BLD/tree"
# CFLAGS_FAST ends in -O3; the extra flags come after it, so -O2 wins.
make package CC="$CC" AR="$AR" CFLAGS_FAST_EXTRA="$CFLAGS"
install -D -m 644 http_parser.h "$PREFIX/include/http_parser.h"
install -D -m 644 libhttp_parser.a "$PREFIX/lib/libhttp_parser.a"

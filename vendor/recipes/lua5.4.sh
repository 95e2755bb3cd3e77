#!/usr/bin/env bash
# Lua 5.4: the library's l*.c files (not the lua/luac programs) compiled
# directly, POSIX features, no dlopen, 5.3 compatibility.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"
LUA_DEFS="-DLUA_COMPAT_5_3 -DLUA_USE_POSIX"

# Debian's luaconf.h patch includes a generated header naming the multiarch
# triplet (used only in the default C module search path).
# A cross build names its target in KEDGE_DEPS_MULTIARCH.
multiarch=${KEDGE_DEPS_MULTIARCH:-$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo "$(uname -m)-linux-gnu")}
mkdir -p "$BLD/gen" "$BLD/obj"
cat >"$BLD/gen/lua5.4-deb-multiarch.h" <<H
#ifndef _LUA_DEB_MULTIARCH_
#define _LUA_DEB_MULTIARCH_
#define DEB_HOST_MULTIARCH "$multiarch"
#endif
H

cd "$SRC/src"
srcs=()
for f in l*.c; do
	case $f in lua.c | luac.c) continue ;; esac
	srcs+=("$f")
done
export LUA_DEFS GEN="$BLD/gen" OBJ="$BLD/obj"
# shellcheck disable=SC2016 # expanded by the inner sh
printf '%s\n' "${srcs[@]}" |
	xargs -P "$JOBS" -n 1 sh -c '"$CC" -std=gnu99 $CFLAGS $LUA_DEFS -I"$GEN" -c "$1" -o "$OBJ/${1%.c}.o"' sh
rm -f "$BLD/liblua.a"
"$AR" rcs "$BLD/liblua.a" "$BLD"/obj/*.o

install -d "$PREFIX/include" "$PREFIX/lib"
install -m 644 "$BLD/liblua.a" "$PREFIX/lib/liblua.a"
install -m 644 lua.h lualib.h lauxlib.h lua.hpp "$BLD/gen/lua5.4-deb-multiarch.h" "$PREFIX/include/"
# The installed luaconf.h carries the defines the library was built with, so
# code including it sees the same configuration as liblua.a.
{
	printf '/* kedge: the configuration liblua.a was compiled with */\n'
	for d in $LUA_DEFS; do
		d=${d#-D}
		printf '#ifndef %s\n#define %s\n#endif\n' "$d" "$d"
	done
	cat luaconf.h
} >"$PREFIX/include/luaconf.h"

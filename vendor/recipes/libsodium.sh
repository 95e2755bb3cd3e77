#!/usr/bin/env bash
# libsodium: only Ed25519 signature verification, for SSH signatures on
# commits and tags (mbedTLS 2.28 has no Ed25519). Debian's source is a git
# snapshot without a generated configure, so, as for Lua, the few files that
# verification needs are compiled directly (portable C: no assembly, the
# 25.5-bit field arithmetic) and archived: open.c, and sign.c for the hash
# set-up open.c shares with it (the linker drops signing itself). The public
# headers are installed with version.h filled in the way configure would.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"
S="$SRC/src/libsodium"
files=(
	crypto_sign/ed25519/ref10/open.c
	crypto_sign/ed25519/ref10/sign.c
	crypto_core/ed25519/ref10/ed25519_ref10.c
	crypto_hash/sha512/hash_sha512.c
	crypto_hash/sha512/cp/hash_sha512_cp.c
	crypto_verify/sodium/verify.c
	sodium/utils.c
	randombytes/randombytes.c
	randombytes/sysrandom/randombytes_sysrandom.c
)
ver=$(sed -nE 's/^AC_INIT\(\[libsodium\],\[([0-9.]+)\].*/\1/p' "$SRC/configure.ac")
major=$(sed -nE 's/^SODIUM_LIBRARY_VERSION_MAJOR=([0-9]+)$/\1/p' "$SRC/configure.ac")
minor=$(sed -nE 's/^SODIUM_LIBRARY_VERSION_MINOR=([0-9]+)$/\1/p' "$SRC/configure.ac")
[[ -n $ver && -n $major && -n $minor ]] || { echo "cannot read libsodium's version from configure.ac" >&2; exit 1; }
mkdir -p "$BLD/include/sodium" "$BLD/obj"
cp -a "$S/include/." "$BLD/include/"
sed -e "s/@VERSION@/$ver/" -e "s/@SODIUM_LIBRARY_VERSION_MAJOR@/$major/" \
	-e "s/@SODIUM_LIBRARY_VERSION_MINOR@/$minor/" \
	-e "s/@SODIUM_LIBRARY_MINIMAL_DEF@/#define SODIUM_LIBRARY_MINIMAL 1/" \
	"$S/include/sodium/version.h.in" >"$BLD/include/sodium/version.h"
DEFS="-DCONFIGURED=1 -DNATIVE_LITTLE_ENDIAN=1 -DHAVE_LINUX_COMPATIBLE_GETRANDOM=1 -DHAVE_SYS_RANDOM_H=1 -DHAVE_MMAP=1 -DHAVE_MPROTECT=1 -DHAVE_MADVISE=1 -DHAVE_MLOCK=1 -DHAVE_POSIX_MEMALIGN=1 -DHAVE_GETPID=1"
# The target's byte order, as the compiler sees it (a cross build's could
# differ from the host's). Read whole, not through grep -q: under pipefail a
# grep that stops early makes the pipeline fail and picked big-endian.
order=$("$CC" -dM -E -x c /dev/null | sed -n 's/^#define __BYTE_ORDER__ //p')
case $order in
__ORDER_LITTLE_ENDIAN__) ;;
__ORDER_BIG_ENDIAN__) DEFS=${DEFS/NATIVE_LITTLE_ENDIAN/NATIVE_BIG_ENDIAN} ;;
*) echo "cannot tell the byte order from $CC (__BYTE_ORDER__ '$order')" >&2; exit 1 ;;
esac
for f in "${files[@]}"; do
	o="$BLD/obj/$(basename "${f%.c}").o"
	# shellcheck disable=SC2086 # DEFS and CFLAGS are word lists
	"$CC" -std=gnu99 $CFLAGS $DEFS -I"$BLD/include/sodium" -I"$BLD/include" \
		-I"$S/crypto_sign/ed25519/ref10" -c "$S/$f" -o "$o"
done
rm -f "$BLD/libsodium.a"
"$AR" rcs "$BLD/libsodium.a" "$BLD"/obj/*.o
install -d "$PREFIX/include/sodium" "$PREFIX/lib"
install -m 644 "$BLD/libsodium.a" "$PREFIX/lib/libsodium.a"
install -m 644 "$S/include/sodium.h" "$PREFIX/include/"
find "$BLD/include/sodium" -maxdepth 1 -name '*.h' -exec install -m 644 {} "$PREFIX/include/sodium/" \;

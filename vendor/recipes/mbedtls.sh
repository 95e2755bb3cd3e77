#!/usr/bin/env bash
# mbedTLS: the config.h options Debian's rules set (pthread threading among
# them: libgit2 shares one TLS config between threads), static library only.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"
cp -a "$SRC/." "$BLD/tree"
cd "$BLD/tree"
for opt in \
	MBEDTLS_DEPRECATED_WARNING \
	MBEDTLS_HAVEGE_C \
	MBEDTLS_MD2_C \
	MBEDTLS_MD4_C \
	MBEDTLS_THREADING_C \
	MBEDTLS_THREADING_PTHREAD \
	MBEDTLS_CMAC_C \
	MBEDTLS_SSL_DTLS_SRTP; do
	python3 scripts/config.py set "$opt"
done
cmake_build "$BLD/tree" \
	-DUSE_STATIC_MBEDTLS_LIBRARY=ON \
	-DUSE_SHARED_MBEDTLS_LIBRARY=OFF \
	-DENABLE_PROGRAMS=OFF \
	-DENABLE_TESTING=OFF \
	-DMBEDTLS_FATAL_WARNINGS=OFF

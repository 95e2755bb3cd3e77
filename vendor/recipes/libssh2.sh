#!/usr/bin/env bash
# libssh2: CMake, mbedTLS crypto backend, zlib compression, static.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"
cmake_build "$SRC" \
	-DCRYPTO_BACKEND=mbedTLS \
	-DENABLE_ZLIB_COMPRESSION=ON \
	-DBUILD_EXAMPLES=OFF \
	-DBUILD_TESTING=OFF

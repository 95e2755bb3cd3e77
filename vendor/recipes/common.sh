# shellcheck shell=bash
# Shared by the recipes in this folder; sourced, not run.
#
# vendor/deps.sh runs each recipe as `bash vendor/recipes/<pkg>.sh` with:
#   SRC     the unpacked, patched source tree (leave it untouched: copy it
#           first if the build writes into its tree)
#   BLD     an empty scratch folder for this package
#   PREFIX  the staging prefix: install include/ and lib/*.a there
#   JOBS    parallel jobs
#   VENDOR  this repo's vendor/ folder
# and CC, AR, RANLIB, CFLAGS, PKG_CONFIG_LIBDIR, PKG_CONFIG_PATH,
# KEDGE_DEPS_PREFIX set for a static musl build.
set -euo pipefail
: "${SRC:?}" "${BLD:?}" "${PREFIX:?}" "${JOBS:?}" "${VENDOR:?}"
set -x

# cmake_build <source dir> [-DOPTION=value ...]: configure, build, install.
cmake_build() {
	local src=$1
	shift
	cmake -S "$src" -B "$BLD/cmake" \
		-DCMAKE_TOOLCHAIN_FILE="$VENDOR/musl-toolchain.cmake" \
		-DCMAKE_BUILD_TYPE=Release \
		-DCMAKE_INSTALL_PREFIX="$PREFIX" \
		-DCMAKE_INSTALL_LIBDIR=lib \
		-DBUILD_SHARED_LIBS=OFF \
		"$@"
	cmake --build "$BLD/cmake" -j "$JOBS"
	cmake --install "$BLD/cmake"
}

#!/usr/bin/env bash
# libyaml: CMake (the Debian tarball has no configure), static, no tests.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"
cmake_build "$SRC" \
	-DBUILD_TESTING=OFF \
	-DINSTALL_CMAKE_DIR=lib/cmake/yaml
# The sources themselves too: the glibc build of the unit tests (valgrind)
# and the clang fuzzers compile libyaml from them.
mkdir -p "$PREFIX/src/libyaml"
cp -r "$SRC/src" "$SRC/include" "$PREFIX/src/libyaml/"

# CMake toolchain for kedge's static dependencies: Debian's musl-gcc wrapper,
# and every find_* / pkg-config lookup confined to the dependency prefix being
# built (exported by vendor/deps.sh as KEDGE_DEPS_PREFIX), so that nothing of
# the host's glibc world (zlib, libyaml, OpenSSL, ...) can leak in.
set(CMAKE_C_COMPILER musl-gcc)

set(CMAKE_FIND_ROOT_PATH "$ENV{KEDGE_DEPS_PREFIX}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)

set(CMAKE_C_FLAGS_INIT "-ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_RELEASE_INIT "-O2 -DNDEBUG")

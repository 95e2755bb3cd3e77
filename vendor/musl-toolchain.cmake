# CMake toolchain for kedge's static dependencies: the musl-gcc wrapper that
# vendor/deps.sh exports as CC (Debian's, or for a cross build the one it
# built), and every find_* / pkg-config lookup confined to the dependency
# prefix being built (exported as KEDGE_DEPS_PREFIX), so that nothing of the
# host's glibc world (zlib, libyaml, OpenSSL, ...) can leak in.
set(CMAKE_C_COMPILER "$ENV{CC}")

set(CMAKE_FIND_ROOT_PATH "$ENV{KEDGE_DEPS_PREFIX}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)

# A cross build (KEDGE_DEPS_ARCH, e.g. aarch64): the target system, the
# cross binutils, and musl's own prefix for its libc's headers and archives.
if(DEFINED ENV{KEDGE_DEPS_ARCH})
	set(CMAKE_SYSTEM_NAME Linux)
	set(CMAKE_SYSTEM_PROCESSOR "$ENV{KEDGE_DEPS_ARCH}")
	set(CMAKE_AR "$ENV{AR}" CACHE FILEPATH "")
	set(CMAKE_RANLIB "$ENV{RANLIB}" CACHE FILEPATH "")
	list(APPEND CMAKE_FIND_ROOT_PATH "$ENV{KEDGE_DEPS_PREFIX}/musl")
endif()

set(CMAKE_C_FLAGS_INIT "-ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_RELEASE_INIT "-O2 -DNDEBUG")

#!/usr/bin/env bash
# libgit2: HTTPS through mbedTLS, SSH through libssh2, the system http-parser
# and zlib, POSIX regcomp; no NTLM, GSSAPI or iconv; library only.
# shellcheck source-path=SCRIPTDIR source=common.sh
. "$(dirname "$0")/common.sh"
# PKG_CONFIG_ARGN=--static: without it libssh2's pkg-config libs lack -lz and
# -lmbedcrypto, the check for libssh2_userauth_publickey_frommemory fails to
# link, and libgit2 quietly drops SSH in-memory credentials.
# CERT_LOCATION: the default CA bundle at run time (kedge sets its own); when
# left unset, libgit2's configure runs the host's openssl to guess one.
cmake_build "$SRC" \
	-DBUILD_TESTS=OFF \
	-DBUILD_CLI=OFF \
	-DBUILD_EXAMPLES=OFF \
	-DBUILD_FUZZERS=OFF \
	-DUSE_HTTPS=mbedTLS \
	-DUSE_SHA1=CollisionDetection \
	-DUSE_SHA256=HTTPS \
	-DUSE_SSH=ON \
	-DPKG_CONFIG_ARGN=--static \
	-DREGEX_BACKEND=regcomp \
	-DUSE_HTTP_PARSER=system \
	-DUSE_BUNDLED_ZLIB=OFF \
	-DUSE_NTLMCLIENT=OFF \
	-DUSE_GSSAPI=OFF \
	-DUSE_ICONV=OFF \
	-DUSE_THREADS=ON \
	-DCERT_LOCATION=/etc/ssl/certs/ca-certificates.crt
grep -qs '^#define GIT_SSH_MEMORY_CREDENTIALS 1' "$BLD/cmake/src/git2/sys/features.h" || {
	echo "libgit2 was configured without SSH memory credentials" >&2
	exit 1
}

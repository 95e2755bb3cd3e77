#include "version/version.h"

#include <git2.h>
#include <http_parser.h>
#include <libssh2.h>
#include <lua.h>
#include <mbedtls/version.h>
#include <sodium/version.h>
#include <stdio.h>
#include <yaml.h>
#include <zlib.h>

const char *kd_version(void)
{
	return KEDGE_VERSION;
}

const char *kd_version_commit(void)
{
	return KEDGE_COMMIT;
}

const char *kd_version_arch(void)
{
#if defined(__x86_64__)
	return "x86_64";
#elif defined(__aarch64__)
	return "aarch64";
#elif defined(__arm__)
	return "arm";
#elif defined(__i386__)
	return "i386";
#elif defined(__riscv) && __riscv_xlen == 64
	return "riscv64";
#else
	return "unknown";
#endif
}

void kd_version_libs(kd_version_lib out[KD_VERSION_LIBS])
{
	int major, minor, rev;
	unsigned long hp = http_parser_version();
	char tls[18];

	out[0].name = "lua";
	snprintf(out[0].version, sizeof(out[0].version), "%s", LUA_RELEASE + 4);
	out[1].name = "libgit2";
	git_libgit2_version(&major, &minor, &rev);
	snprintf(out[1].version, sizeof(out[1].version), "%d.%d.%d", major,
		 minor, rev);
	out[2].name = "mbedtls";
	mbedtls_version_get_string(tls);
	snprintf(out[2].version, sizeof(out[2].version), "%s", tls);
	out[3].name = "libyaml";
	snprintf(out[3].version, sizeof(out[3].version), "%s",
		 yaml_get_version_string());
	out[4].name = "zlib";
	snprintf(out[4].version, sizeof(out[4].version), "%s", zlibVersion());
	out[5].name = "libssh2";
	snprintf(out[5].version, sizeof(out[5].version), "%s",
		 libssh2_version(0));
	out[6].name = "http-parser";
	snprintf(out[6].version, sizeof(out[6].version), "%lu.%lu.%lu",
		 (hp >> 16) & 255, (hp >> 8) & 255, hp & 255);
	/* only Ed25519 verification is linked, not sodium_version_string() */
	out[7].name = "libsodium";
	snprintf(out[7].version, sizeof(out[7].version), "%s", SODIUM_VERSION_STRING);
}

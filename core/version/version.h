/* kedge's own version and the versions of the libraries linked into it, as
 * the libraries report them at run time. */
#ifndef KD_VERSION_VERSION_H
#define KD_VERSION_VERSION_H

#include <stddef.h>

typedef struct kd_version_lib {
	const char *name;
	char version[64];
} kd_version_lib;

#define KD_VERSION_LIBS 8

/* "0.1.0-dev" */
const char *kd_version(void);
/* The git commit kedge was built from ("unknown" outside a checkout). */
const char *kd_version_commit(void);
/* The machine the binary was compiled for, as uname -m names it
 * ("x86_64", "aarch64"): read from the compiler's predefined macros, so a
 * cross build reports its target, not the machine that built it. */
const char *kd_version_arch(void);
/* Fills out[KD_VERSION_LIBS]: lua, libgit2, mbedtls, libyaml, zlib,
 * libssh2, http-parser, libsodium. */
void kd_version_libs(kd_version_lib out[KD_VERSION_LIBS]);

#endif

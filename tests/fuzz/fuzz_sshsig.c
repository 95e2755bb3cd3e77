/* Fuzz target for SSH signature verification (core/git/sshsig.c): the
 * input is cut at NUL bytes into an armored SSHSIG, the signed data and an
 * allowed_signers file, checked at a fixed time (2023-11-14). Verification
 * either trusts the signature, filling principal, fingerprint and key type
 * as NUL-terminated strings, or refuses it (KD_GIT_EREFUSED; KD_EPARSE for
 * a malformed allowed_signers line) with a message. */
#include "fuzz.h"

#include "git/git.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_part parts[3] = {{"", 0}, {"", 0}, {"", 0}};
	kd_git_sig_result res;
	kd_err err = KD_ERR_INIT;
	int rc;

	fz_split(data, size, parts, 3);
	rc = kd_git_sshsig_verify(parts[0].p, parts[0].n, parts[1].p, parts[1].n,
				  parts[2].p, parts[2].n, "allowed_signers",
				  1700000000, &res, &err);
	if (rc) {
		fz_check_err(rc, &err);
		/* a malformed allowed_signers line is a configuration error */
		if (rc != KD_GIT_EREFUSED && rc != KD_EPARSE && rc != KD_ENOMEM)
			abort();
	} else if (!memchr(res.principal, 0, sizeof res.principal) ||
		   !memchr(res.fingerprint, 0, sizeof res.fingerprint) ||
		   !memchr(res.key_type, 0, sizeof res.key_type) || !res.principal[0]) {
		abort();
	}
	return 0;
}

/* SSH signatures (core/git/sshsig.c): good signatures of each key type
 * verify, and every truncation and every single-byte change of a signature
 * is refused without a crash (the signature text comes from the repo, so
 * it is untrusted input). The vectors were made for this test with
 * ssh-keygen -Y sign -n git. */
#include "base/err.h"
#include "git/git.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char msg[] = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\nhello\n";

static const char sig_ec[] =
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAAGgAAAATZWNkc2Etc2hhMi1uaXN0cDI1NgAAAAhuaXN0cDI1NgAAAE\n"
	"EE+dgdbjJDnCugMQsvh5QVvr6JKUjwQur8UKlbEs8soXuCp8ndSuol+Qmc/WKH4YbNfvgu\n"
	"IEdRAxPTVAIH11M3CAAAAANnaXQAAAAAAAAABnNoYTUxMgAAAGUAAAATZWNkc2Etc2hhMi\n"
	"1uaXN0cDI1NgAAAEoAAAAhAPVeNYUUmnk15Jd2Euw/6m2kUAHeyVvm/EBegrbXk3zGAAAA\n"
	"IQDLuTHnLALdJtrUlHsuz85P2oHRV4QZOen+SBFOcthbMg==\n"
	"-----END SSH SIGNATURE-----\n";

static const char pub_ec[] = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPnYHW4yQ5wroDELL4eUFb6+iSlI8ELq/FCpWxLPLKF7gqfJ3UrqJfkJnP1ih+GGzX74LiBHUQMT01QCB9dTNwg=";

static const char sig_ed[] =
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAADMAAAALc3NoLWVkMjU1MTkAAAAgVLtUW+2qJAvc8w0WZLOxUC0viP\n"
	"aNt95KwmMXt/Zt0jsAAAADZ2l0AAAAAAAAAAZzaGE1MTIAAABTAAAAC3NzaC1lZDI1NTE5\n"
	"AAAAQDNGGfJ8J9hm4CLpNJgVsU6rkwg3G8kSoCxPoRog6HWDrpgZfslqwJ8an3Zrvodw0n\n"
	"D7c65EJPf6a+gPUl/3iQI=\n"
	"-----END SSH SIGNATURE-----\n";

static const char pub_ed[] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFS7VFvtqiQL3PMNFmSzsVAtL4j2jbfeSsJjF7f2bdI7";

static const char sig_rsa[] =
	"-----BEGIN SSH SIGNATURE-----\n"
	"U1NIU0lHAAAAAQAAARcAAAAHc3NoLXJzYQAAAAMBAAEAAAEBAMbTE5EuAls8Vm3VJ99A+3\n"
	"cdibvIlLbMm1oTryQM6N1QZfFysiYnUzYvnBROcCjBwW4P/C+N03C9RRFob9NqFXuOMvf5\n"
	"dAV+oWbMItUzkw4D4lycYms67Jb1EhxfZlp9IdgStY5tRP3qsnGsXaUZPVeUEr7u9ucV4y\n"
	"Kd6J/PVNpMZ4p2H5i9VhfO2isLTt0uSp+tUD3VuY+KUXLJkek1l5NBVtNnnIkmLEzpMf45\n"
	"pjDmcRWAJN1kpDc0Ra/k0tKqzrqBfFE7cjDACQQH4iiIJMoVgfDgUf25ZFjJtZULwmaB4n\n"
	"Xd12+CP0fgV72QRu3yzPflerjIxAs19IvImsQiolEAAAADZ2l0AAAAAAAAAAZzaGE1MTIA\n"
	"AAEUAAAADHJzYS1zaGEyLTUxMgAAAQAzBtBz3xSwk8Ihk7sVu1pi1hqNhF6uWqcIZEcaVf\n"
	"UY+NVaOO9a5pW+EXGTGUNfqqpcxaZCHseqzmKIejjFvp1BDY+diTnJOrzn/yn3GGrmBovq\n"
	"w4bE0guj2OeZYzExDaKdXE3jCKhIKLq78uyvDfv9VOGopD3c4p5AP+0/wC6RaHogpOwxch\n"
	"stHjTTCqnZPOjPdAZhUKcJdHaO/2IAtlbcWWdelRyVuzzvk0VbWFlVHExIcMMK9wILDYai\n"
	"XtGo0ewnRe11BdYnHRxOxvCmpuFp2fLmger5O958Qf9hhZXRkIcutCjDokgUEjk6wXdMaQ\n"
	"pyzAVT4spel7ggYxEp8hMN\n"
	"-----END SSH SIGNATURE-----\n";

static const char pub_rsa[] = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDG0xORLgJbPFZt1SffQPt3HYm7yJS2zJtaE68kDOjdUGXxcrImJ1M2L5wUTnAowcFuD/wvjdNwvUURaG/TahV7jjL3+XQFfqFmzCLVM5MOA+JcnGJrOuyW9RIcX2ZafSHYErWObUT96rJxrF2lGT1XlBK+7vbnFeMineifz1TaTGeKdh+YvVYXztorC07dLkqfrVA91bmPilFyyZHpNZeTQVbTZ5yJJixM6TH+OaYw5nEVgCTdZKQ3NEWv5NLSqs66gXxRO3IwwAkEB+IoiCTKFYHw4FH9uWRYybWVC8JmgeJ13ddvgj9H4Fe9kEbt8sz35Xq4yMQLNfSLyJrEIqJR";

static int verify(const char *sig, size_t siglen, const char *data, size_t len,
		  const char *signers, kd_git_sig_result *res, kd_err *err)
{
	return kd_git_sshsig_verify(sig, siglen, data, len, signers, strlen(signers),
				    "allowed", 0, res, err);
}

static void check_key(const char *name, const char *sig, const char *pub,
		      const char *type)
{
	char signers[2048], *copy;
	kd_git_sig_result res;
	kd_err err = KD_ERR_INIT;
	size_t n = strlen(sig);
	int rc, refused = 0, crashed_ok = 1;

	snprintf(signers, sizeof signers, "ops@kedge.invalid %s\n", pub);
	rc = verify(sig, n, msg, strlen(msg), signers, &res, &err);
	is_int(rc, 0, "%s: a good signature verifies (%s)", name, err.msg);
	is_strz(res.key_type, type, "%s: key type", name);
	is_strz(res.principal, "ops@kedge.invalid", "%s: principal", name);
	ok(!strncmp(res.fingerprint, "SHA256:", 7), "%s: fingerprint", name);

	rc = verify(sig, n, "hello", 5, signers, &res, &err);
	is_int(rc, KD_GIT_EREFUSED, "%s: other data is refused", name);
	ok(strstr(err.msg, "bad ") != NULL, "%s: as a bad signature (%s)", name, err.msg);

	rc = verify(sig, n, msg, strlen(msg), "someone ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG5vdCB0aGUga2V5IHlvdSBhcmUgbG9va2luZyBmb3I=\n",
		    &res, &err);
	is_int(rc, KD_GIT_EREFUSED, "%s: an unlisted key is refused", name);

	copy = malloc(n + 1);
	/* up to the armor's end; only the final line break may go */
	for (size_t cut = 0; cut < n - 1; cut++) {
		memcpy(copy, sig, cut);
		if (verify(copy, cut, msg, strlen(msg), signers, &res, &err) != 0)
			refused++;
	}
	is_int(refused, (long long)n - 1, "%s: every truncation is refused", name);
	refused = 0;
	for (size_t i = 0; i < n; i++) {
		memcpy(copy, sig, n + 1);
		copy[i] ^= 0x21;
		rc = verify(copy, n, msg, strlen(msg), signers, &res, &err);
		if (rc == 0 && strchr("=\n-", sig[i]) == NULL)
			crashed_ok = 0;
		refused += rc != 0;
	}
	ok(crashed_ok, "%s: no single-byte change of the base64 verifies", name);
	ok(refused > (int)n / 2, "%s: changed signatures are refused (%d of %zu)", name, refused, n);
	free(copy);
}

int main(void)
{
	kd_git_sig_result res;
	kd_err err = KD_ERR_INIT;
	char signers[4096];

	check_key("ecdsa", sig_ec, pub_ec, "ecdsa-sha2-nistp256");
	check_key("ed25519", sig_ed, pub_ed, "ssh-ed25519");
	check_key("rsa", sig_rsa, pub_rsa, "ssh-rsa");

	snprintf(signers, sizeof signers, "a,b namespaces=\"file\" %s\n", pub_ec);
	is_int(verify(sig_ec, strlen(sig_ec), msg, strlen(msg), signers, &res, &err),
	       KD_GIT_EREFUSED, "a key for other namespaces is refused");
	snprintf(signers, sizeof signers, "a cert-authority %s\n", pub_ec);
	is_int(verify(sig_ec, strlen(sig_ec), msg, strlen(msg), signers, &res, &err),
	       KD_GIT_EREFUSED, "cert-authority lines are not trusted");
	is_int(verify(sig_ec, strlen(sig_ec), msg, strlen(msg), "just-one-word\n", &res, &err),
	       KD_EPARSE, "a malformed allowed-signers line is a parse error");
	is_strz(err.msg, "allowed:1: expected 'principals [options] key-type base64-key' "
		"(OpenSSH allowed-signers format)", "naming file and line");
	snprintf(signers, sizeof signers, "a ssh-ed25519 !!!notbase64\n");
	is_int(verify(sig_ec, strlen(sig_ec), msg, strlen(msg), signers, &res, &err),
	       KD_EPARSE, "a key that is not base64 is a parse error");
	is_int(verify("-----BEGIN PGP SIGNATURE-----\nx\n-----END PGP SIGNATURE-----\n", 60,
		      msg, strlen(msg), signers, &res, &err),
	       KD_GIT_EREFUSED, "a PGP signature is refused");
	ok(strstr(err.msg, "gpg.format=ssh") != NULL, "saying kedge verifies SSH signatures");
	return tap_done();
}

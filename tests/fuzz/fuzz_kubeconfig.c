/* Fuzz target for kubeconfig files (core/kube/config.c): the input is cut
 * at a NUL byte into two files, held in memory files (memfd) that the
 * loader opens by their /proc/self/fd path. The first is loaded alone (as
 * --kubeconfig), then both are merged (as KUBECONFIG=a:b). A config that
 * loads names a server and a context; errors carry a code and a message.
 * Paths a config names (certificate-authority, tokenFile, ...) are read as
 * they would be; the loader bounds every read. */
#include "fuzz.h"

#include "kube/kube.h"

#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static int fds[2] = {-1, -1};

static void put(int fd, const fz_part *p)
{
	if (ftruncate(fd, 0) ||
	    (p->n && pwrite(fd, p->p, p->n, 0) != (ssize_t)p->n))
		abort();
}

static void load(const kd_kube_config_opts *o)
{
	kd_kube_config c;
	kd_err err = KD_ERR_INIT;
	int rc = kd_kube_config_load(&c, o, &err);

	if (rc)
		fz_check_err(rc, &err);
	else if (!c.server || !c.context || !c.source || !c.namespace)
		abort();
	kd_kube_config_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_part parts[2];
	size_t np = fz_split(data, size, parts, 2);
	char one[64], both[160];
	kd_kube_config_opts o = {0};
	int i;

	for (i = 0; i < 2; i++)
		if (fds[i] < 0 && (fds[i] = memfd_create("kubeconfig", MFD_CLOEXEC)) < 0)
			abort();
	put(fds[0], &parts[0]);
	put(fds[1], np > 1 ? &parts[1] : &(fz_part){"", 0});
	snprintf(one, sizeof one, "/proc/self/fd/%d", fds[0]);
	snprintf(both, sizeof both, "/proc/self/fd/%d:/proc/self/fd/%d", fds[0], fds[1]);
	o.kubeconfig = one;
	load(&o);
	o.kubeconfig = NULL;
	o.env = both;
	load(&o);
	return 0;
}

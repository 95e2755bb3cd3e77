/* Replays a fuzz target's saved corpus under the normal (musl, static)
 * build, as TAP: one test per file. A crash or abort in the target fails
 * the whole run, which prove reports. The corpus folder defaults to
 * tests/fuzz/corpus/FUZZ_NAME (run from the repository root). */
#include "tap.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data = NULL;
	long n;
	int rc = -1;

	if (!f)
		return -1;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto cleanup;
	data = malloc((size_t)n + 1);
	if (!data || fread(data, 1, (size_t)n, f) != (size_t)n)
		goto cleanup;
	LLVMFuzzerTestOneInput(data, (size_t)n);
	rc = 0;
cleanup:
	free(data);
	fclose(f);
	return rc;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "tests/fuzz/corpus/" FUZZ_NAME;
	char **names = NULL, path[4096];
	struct dirent *de;
	size_t n = 0, cap = 0, i;
	DIR *d = opendir(dir);

	if (!d) {
		printf("Bail out! cannot open corpus folder %s\n", dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			names = realloc(names, cap * sizeof(*names));
			if (!names)
				return 1;
		}
		names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), by_name);
	ok(n > 0, "corpus %s has files", dir);
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ok(replay(path) == 0, "replay %s", names[i]);
		free(names[i]);
	}
	free(names);
	return tap_done();
}

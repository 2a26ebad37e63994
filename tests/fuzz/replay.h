/* SPDX-License-Identifier: MIT */
/*
 * The plain main() of every fuzz harness (built without MXT_LIBFUZZER):
 * replay the files, or the files in the directories, named on the command
 * line through LLVMFuzzerTestOneInput, so a corpus runs as a normal test.
 * A directory with no input, or one that cannot be read, fails: an empty
 * corpus must not pass as a clean run.  Included once, at the end of a
 * harness, after it defined FUZZ_NAME.
 */
#ifndef MXT_LIBFUZZER
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

static int
replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, n;

	if (f == NULL)
		return -1;
	do {
		if (cap - len < 4096) {
			uint8_t *nb = realloc(buf, cap + 65536);

			if (nb == NULL) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
			cap += 65536;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	int i, rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE|DIRECTORY...\n", FUZZ_NAME);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		DIR *d = opendir(argv[i]);
		struct dirent *de;
		size_t count = 0;

		if (d == NULL) {
			if (replay_file(argv[i]) != 0) {
				fprintf(stderr, "%s: cannot read %s\n", FUZZ_NAME, argv[i]);
				rc = 1;
			}
			continue;
		}
		while ((de = readdir(d)) != NULL) {
			char path[4096];
			int w;

			if (de->d_name[0] == '.')
				continue;
			w = snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			if (w < 0 || (size_t)w >= sizeof(path) || replay_file(path) != 0) {
				fprintf(stderr, "%s: cannot read %s/%s\n", FUZZ_NAME, argv[i],
				    de->d_name);
				rc = 1;
			}
			count++;
		}
		closedir(d);
		if (count == 0) {
			fprintf(stderr, "%s: no inputs in %s\n", FUZZ_NAME, argv[i]);
			rc = 1;
		} else {
			printf("%s: %zu inputs from %s\n", FUZZ_NAME, count, argv[i]);
		}
	}
	return rc;
}
#endif

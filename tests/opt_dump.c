/* SPDX-License-Identifier: MIT */
/*
 * Print the option table as the tests see it (mxt_options_row()), one row
 * per line: "LETTER<TAB>NAME<TAB>ARG<TAB>VALUE,VALUE,...", "-" for an empty
 * field.  tests/completions_check.py compares the shell completions with
 * it, so they cannot drift from the options.
 */
#include <stdio.h>

#include "../src/cli/options.h"

int
main(void)
{
	struct mxt_opt_info o;
	size_t i, j;

	for (i = 0; mxt_options_row(i, &o); i++) {
		if (o.letter != 0)
			printf("-%c\t", o.letter);
		else
			printf("-\t");
		printf("%s%s\t%s\t", o.name != NULL ? "--" : "-", o.name != NULL ? o.name : "",
		    o.arg != NULL ? o.arg : "-");
		for (j = 0; o.values[j] != NULL; j++)
			printf("%s%s", j > 0 ? "," : "", o.values[j]);
		printf("%s\n", j == 0 ? "-" : "");
	}
	return ferror(stdout) ? 1 : 0;
}

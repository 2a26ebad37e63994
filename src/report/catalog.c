/* SPDX-License-Identifier: MIT */
/*
 * The diagnosis catalogue as a table: generated from diagnoses.def, in the
 * same order as the code enum classify.h generates from the same file.  It
 * only answers lookups; it does not decide which codes apply (the classifier).
 */
#include <stddef.h>
#include <string.h>

#include "mxtrace/report.h"

static const struct mxt_diagnosis catalogue[] = {
#define MXT_DIAG(id, code, sev, stage, title, hint) {code, MXT_SEV_##sev, stage, title, hint},
#include "diagnoses.def"
#undef MXT_DIAG
};

/* The whole catalogue.  The table is static: the caller never frees it. */
const struct mxt_diagnosis *
mxt_diagnoses(size_t *n)
{
	if (n != NULL)
		*n = sizeof(catalogue) / sizeof(catalogue[0]);
	return catalogue;
}

/* Look up a dotted code; NULL if the catalogue has no such code. */
const struct mxt_diagnosis *
mxt_diagnosis_find(const char *code)
{
	size_t i;

	if (code == NULL)
		return NULL;
	for (i = 0; i < sizeof(catalogue) / sizeof(catalogue[0]); i++)
		if (strcmp(catalogue[i].code, code) == 0)
			return &catalogue[i];
	return NULL;
}

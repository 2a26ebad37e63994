/* SPDX-License-Identifier: MIT */
/*
 * Classifier and delivery verdict: the driver.  Reads one filled record (the
 * DNS answers, the client's identity, every probe attempt with its steps,
 * capabilities and TLS facts) and appends findings: a catalogue code
 * (diagnoses.def), the exchanger and address it concerns, the raw evidence
 * (reply lines joined by " / ", DNS statuses) and the catalogue's hint.
 * Then it decides the verdict by walking the exchangers in preference order
 * as an RFC 5321 §5.1 MTA would, and adds one delivery.* finding.
 *
 * It reads the record and writes only t->findings and t->verdict.  It never
 * touches the network, never escapes (the renderers do), and calls nothing
 * in other modules, so it can be tested on records built by hand.  The
 * passes live in their own files (see classify.h); this one runs them in
 * order.
 *
 * Per attempt it emits at most one finding per code; DNS findings come once
 * per target, or once per exchanger when they concern one.  Canary attempts
 * (port 587/465) only serve to tell egress blocking apart.
 */
#include <stdlib.h>

#include "mxtrace/xalloc.h"

#include "classify.h"

int
mxt_classify(struct mxt_target *t)
{
	struct ctx *c;
	struct outcome *out = NULL;
	size_t i, ncat;
	int rc;

	if (t == NULL)
		return -1;
	c = mxt_xcalloc(1, sizeof(*c));
	c->t = t;
	c->cat = mxt_diagnoses(&ncat);
	if (ncat != DIAG_COUNT) {
		free(c);
		return -1;
	}
	if (t->input_error != NULL) {
		/* Not a target: one finding, nothing judged. */
		struct sb ev = {0};

		mxt_sb_printf(&ev, "line %zu: %s", t->input_line, t->input_error);
		mxt_emit(c, DIAG_TARGET_INVALID, NULL, NULL, &ev);
		t->verdict.status = MXT_STATUS_UNKNOWN;
		free(t->verdict.summary);
		t->verdict.summary = mxt_xstrdup("not a target: nothing was probed");
		rc = c->oom ? -1 : 0;
		free(c);
		return rc;
	}
	if (t->nattempts > 0) {
		out = mxt_xcalloc(t->nattempts, sizeof(*out));
	}
	mxt_classify_dns(c);
	mxt_classify_client(c);
	mxt_classify_reputation(c);
	mxt_egress_detect(c);
	if (c->eg.blocked)
		mxt_egress_emit(c);
	else if (c->eg.ref_open != NULL)
		mxt_egress_emit_open(c);
	for (i = 0; i < t->nattempts; i++)
		mxt_classify_attempt(c, &t->attempts[i], &out[i]);
	mxt_classify_transport(c);
	mxt_classify_verdict(c, out);
	mxt_transport_verdict(c);
	rc = c->oom ? -1 : 0;
	free(out);
	free(c);
	return rc;
}

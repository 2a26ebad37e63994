/* SPDX-License-Identifier: MIT */
/*
 * Reading an MX answer as a resolver means it (RFC 5321 §5.1, RFC 2181
 * §10.1): follow the CNAME chain that starts at the query name, take the MX
 * records whose owner is on that chain, and ignore every other record.  An
 * answer with no MX for the chain (only a CNAME, only A or TXT records, or
 * MX records of another owner) is NODATA, so the caller falls back to the
 * implicit MX.  c-ares does the name decompression (ares_expand_name); this
 * file walks the sections with bounds checks on every read.  It does not
 * sort, validate host names or query anything.
 */
#include <ares.h>
#include <arpa/nameser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mxtrace/dns.h"
#include "mxtrace/limits.h"
#include "mxtrace/xalloc.h"

/* A CNAME chain longer than this is a loop or an attack (Postfix and
 * unbound stop far earlier than 16 hops too). */
#define CNAME_HOPS_MAX 16
/* Records read from one answer section; more are ignored. */
#define ANSWER_RR_MAX 4096

struct rr {
	char *owner;
	int type;
	int pref;
	char *target; /* CNAME or MX target */
};

static unsigned
get16(const unsigned char *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/* Names compare without case and without a trailing dot. */
static int
same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la > 0 && a[la - 1] == '.')
		la--;
	if (lb > 0 && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* Expand the name at *off into a new string; advance *off.  -1 if bad. */
static int
name_at(const unsigned char *abuf, int alen, int *off, char **out)
{
	char *s = NULL;
	long enclen = 0;

	if (*off >= alen || ares_expand_name(abuf + *off, abuf, alen, &s, &enclen) != ARES_SUCCESS)
		return -1;
	if (enclen <= 0 || enclen > alen - *off) {
		ares_free_string(s);
		return -1;
	}
	*off += (int)enclen;
	*out = mxt_xstrdup(s);
	ares_free_string(s);
	return 0;
}

void
mxt_mx_answer_free(struct mxt_mx_answer *a)
{
	size_t i;

	for (i = 0; i < a->nmx; i++)
		free(a->mx[i].host);
	free(a->mx);
	free(a->canonical);
	memset(a, 0, sizeof(*a));
}

int
mxt_mx_answer_parse(
    const unsigned char *abuf, int alen, const char *qname, struct mxt_mx_answer *out)
{
	struct rr *rr = NULL;
	size_t nrr = 0, i;
	unsigned qd, an;
	int off = HFIXEDSZ, rc = ARES_EBADRESP, hops;
	const char *name;

	memset(out, 0, sizeof(*out));
	if (abuf == NULL || alen < HFIXEDSZ || qname == NULL)
		return ARES_EBADRESP;
	qd = get16(abuf + 4);
	an = get16(abuf + 6);
	for (i = 0; i < qd; i++) {
		char *q = NULL;

		if (name_at(abuf, alen, &off, &q) != 0)
			return ARES_EBADRESP;
		free(q);
		if (alen - off < QFIXEDSZ)
			return ARES_EBADRESP;
		off += QFIXEDSZ;
	}
	if (an > ANSWER_RR_MAX)
		an = ANSWER_RR_MAX;
	rr = mxt_xcalloc(an ? an : 1, sizeof(*rr));
	for (i = 0; i < an; i++) {
		char *owner = NULL;
		unsigned type, cls, rdlen;
		int rdoff;

		if (name_at(abuf, alen, &off, &owner) != 0)
			goto done;
		if (alen - off < RRFIXEDSZ) {
			free(owner);
			goto done;
		}
		type = get16(abuf + off);
		cls = get16(abuf + off + 2);
		rdlen = get16(abuf + off + 8);
		off += RRFIXEDSZ;
		if ((unsigned)(alen - off) < rdlen) {
			free(owner);
			goto done;
		}
		rdoff = off;
		off += (int)rdlen;
		if (cls != C_IN || (type != T_CNAME && type != T_MX)) {
			free(owner); /* A, TXT, RRSIG...: not ours to read here */
			continue;
		}
		rr[nrr].owner = owner;
		rr[nrr].type = (int)type;
		if (type == T_MX) {
			if (rdlen < 3)
				goto done_rr;
			rr[nrr].pref = (int)get16(abuf + rdoff);
			rdoff += 2;
		}
		/* The target may point anywhere in the message but must end
		 * inside the RDATA. */
		if (name_at(abuf, alen, &rdoff, &rr[nrr].target) != 0 || rdoff > off)
			goto done_rr;
		nrr++;
	}
	/* RFC 2181 §10.1: the chain from the query name; each hop once. */
	name = qname;
	for (hops = 0; hops < CNAME_HOPS_MAX; hops++) {
		const char *next = NULL;

		for (i = 0; i < nrr && next == NULL; i++)
			if (rr[i].type == T_CNAME && same_name(rr[i].owner, name))
				next = rr[i].target;
		if (next == NULL)
			break;
		name = next;
		out->ncname++;
	}
	if (hops == CNAME_HOPS_MAX)
		out->cname_loop = 1;
	if (name != qname)
		out->canonical = mxt_xstrdup(name);
	/* RFC 5321 §5.1: the MX of the canonical name; records of any other
	 * owner are ignored.  One allocation for all of them: thousands of
	 * records must not cost thousands of reallocations. */
	out->mx = mxt_xcalloc(nrr ? nrr : 1, sizeof(*out->mx));
	for (i = 0; i < nrr; i++) {
		if (rr[i].type != T_MX)
			continue;
		if (!same_name(rr[i].owner, name)) {
			out->ignored++;
			continue;
		}
		out->mx[out->nmx].pref = rr[i].pref;
		out->mx[out->nmx].host = rr[i].target;
		rr[i].target = NULL;
		out->nmx++;
	}
	rc = out->nmx > 0 ? ARES_SUCCESS : ARES_ENODATA;
	goto done;
done_rr:
	free(rr[nrr].owner);
	free(rr[nrr].target);
done:
	for (i = 0; i < nrr; i++) {
		free(rr[i].owner);
		free(rr[i].target);
	}
	free(rr);
	if (rc == ARES_EBADRESP)
		mxt_mx_answer_free(out);
	return rc;
}

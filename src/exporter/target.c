/* SPDX-License-Identifier: MIT */
/*
 * What a /probe request names (mxtrace(1), EXPORTER MODE): a mail domain
 * (U-labels allowed) or user@domain, or an address to probe as one server
 * ("192.0.2.1", "[2001:db8::1]:587", ...).  Client text is parsed here and
 * nowhere else in the exporter; what is refused gets a one-line reason,
 * escaped (mxt_shown()).
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mxtrace/escape.h"
#include "mxtrace/idn.h"
#include "mxtrace/validate.h"
#include "mxtrace/xalloc.h"
#include "target.h"

/* Client text made safe to show (escaped, cut at 60 bytes); never NULL. */
char *
mxt_shown(const char *s)
{
	char *e = mxt_escape_str(s != NULL ? s : "", 60);

	return e != NULL ? e : mxt_xstrdup("?");
}

/* What a /probe target names: a mail domain (domain, unicode, and rcpt for
 * user@domain), or a server to probe (server, port; port 0: the module's). */

void
mxt_target_req_free(struct mxt_target_req *r)
{
	free(r->domain);
	free(r->unicode);
	free(r->rcpt);
	free(r->server);
	memset(r, 0, sizeof(*r));
}

/* Strict decimal port 1-65535. */
static int
parse_port(const char *s)
{
	int v = 0;
	size_t i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] < '0' || s[i] > '9' || i >= 5)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return i > 0 && v >= 1 && v <= 65535 ? v : -1;
}

/* Only digits and dots, with a dot: meant as an IPv4 address. */
static int
dotted_numeric(const char *s)
{
	int dot = 0;

	for (; *s != '\0'; s++) {
		if (*s == '.')
			dot = 1;
		else if (*s < '0' || *s > '9')
			return 0;
	}
	return dot;
}

/* A target written as an IP address: "A.B.C.D", "A.B.C.D:PORT", an IPv6
 * address alone, or bracketed "[A.B.C.D]", "[IPV6]", "[IPv6:IPV6]" (the
 * address literals of RFC 5321 §4.1.3), each with an optional ":PORT".
 * Returns 1 with r->server (inet_ntop form) and r->port (0: none), 0 when s
 * is not written as an address (a domain, then), -1 with a reason in err.
 * A loopback address needs the module's allow-loopback: a scraper, not
 * the exporter's owner, chooses the target. */
static int
parse_address(const char *s, const char *show, int allow_loopback, struct mxt_target_req *r,
    char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 8], text[INET6_ADDRSTRLEN];
	const char *h = s, *port = NULL, *end, *colon;
	unsigned char b[16];
	size_t n;
	int family, v6only = 0, bracket = s[0] == '[';

	if (bracket) {
		end = strchr(s, ']');
		if (end == NULL || (end[1] != '\0' && end[1] != ':')) {
			snprintf(err, errlen, "bad target '%s': write [ADDRESS] or [ADDRESS]:PORT",
			    show);
			return -1;
		}
		h = s + 1;
		n = (size_t)(end - h);
		/* RFC 5321 §4.1.3: "IPv6:" is a case-insensitive ABNF string. */
		if (n > 5 && strncasecmp(h, "IPv6:", 5) == 0) {
			h += 5;
			n -= 5;
			v6only = 1;
		}
		if (end[1] == ':')
			port = end + 2;
	} else if ((colon = strchr(s, ':')) != NULL && strchr(colon + 1, ':') == NULL) {
		n = (size_t)(colon - s); /* IPv4:PORT (an IPv6 address has two colons) */
		port = colon + 1;
	} else {
		n = strlen(s);
	}
	if (n >= sizeof(host)) {
		if (!bracket)
			return 0;
		snprintf(err, errlen, "bad target '%s': not an IP address in brackets", show);
		return -1;
	}
	memcpy(host, h, n);
	host[n] = '\0';
	if (!v6only && inet_pton(AF_INET, host, b) == 1) {
		family = AF_INET;
	} else if (inet_pton(AF_INET6, host, b) == 1) {
		family = AF_INET6;
	} else if (bracket || dotted_numeric(host)) {
		snprintf(err, errlen, "bad target '%s': not a valid IP address", show);
		return -1;
	} else {
		return 0;
	}
	if (port != NULL && (r->port = parse_port(port)) < 0) {
		snprintf(
		    err, errlen, "bad target '%s': the port is not a number from 1 to 65535", show);
		return -1;
	}
	if (mxt_ip_unusable(family, b)) { /* as the DNS stage judges A/AAAA */
		snprintf(err, errlen, "bad target '%s': not an address mail is sent to", show);
		return -1;
	}
	if (mxt_ip_loopback(family, b) && !allow_loopback) {
		snprintf(err, errlen,
		    "bad target '%s': a loopback address (the module has no allow-loopback)", show);
		return -1;
	}
	inet_ntop(family, b, text, sizeof(text));
	r->server = mxt_xstrdup(text);
	return 1;
}

/* TARGET: a domain (U-labels allowed) or user@domain as the CLI takes it,
 * or an IP address (parse_address()) meaning the server to probe, as
 * --server ADDR does.  On success fills *r, which the caller frees
 * (mxt_target_req_free()); else a reason in err. */
int
mxt_parse_target(
    const char *s, int allow_loopback, struct mxt_target_req *r, char *err, size_t errlen)
{
	const char *at = strrchr(s, '@');
	const char *dom = at != NULL ? at + 1 : s;
	char e[256], *ascii = NULL, *uni = NULL, *show = mxt_shown(s);
	struct in6_addr a6;
	struct in_addr a4;
	size_t i;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f || s[i] == ' ') {
			snprintf(err, errlen, "bad target '%s': control byte or space", show);
			goto done;
		}
	if (at != NULL &&
	    (dom[0] == '[' || inet_pton(AF_INET, dom, &a4) == 1 ||
		inet_pton(AF_INET6, dom, &a6) == 1)) {
		snprintf(err, errlen,
		    "bad target '%s': a recipient at an address; give the address alone "
		    "and the recipient in the module's to",
		    show);
		goto done;
	}
	if (at == NULL) {
		int a = parse_address(s, show, allow_loopback, r, err, errlen);

		if (a != 0) {
			rc = a > 0 ? 0 : -1;
			goto done;
		}
	}
	if (mxt_idn_to_ascii(dom, &ascii, &uni, e, sizeof(e)) != 0 || !mxt_valid_hostname(ascii) ||
	    strchr(ascii, '.') == NULL) {
		snprintf(err, errlen, "bad target '%s': not a domain name, user@domain or address",
		    show);
		goto done;
	}
	if (at != NULL) {
		size_t llen = (size_t)(at - s), n = llen + strlen(ascii) + 2;
		char *addr = mxt_xmalloc(n);

		snprintf(addr, n, "%.*s@%s", (int)llen, s, ascii);
		if (llen == 0 || !mxt_valid_mailbox(addr, 0, e, sizeof(e))) {
			snprintf(err, errlen, "bad target '%s': not a mail address", show);
			free(addr);
			goto done;
		}
		r->rcpt = addr;
	}
	r->domain = ascii;
	r->unicode = uni;
	ascii = uni = NULL;
	rc = 0;
done:
	if (rc != 0)
		mxt_target_req_free(r);
	free(ascii);
	free(uni);
	free(show);
	return rc;
}

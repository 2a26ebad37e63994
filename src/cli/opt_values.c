/* SPDX-License-Identifier: MIT */
/*
 * The value validators behind the option table's parser kinds: strict
 * numbers and seconds that do not depend on the locale, keyword values,
 * addresses, host names through libidn2 and the host name check, mailboxes
 * through mxt_valid_mailbox(), and TARGET.  Every string that can reach an
 * SMTP command line or a DNS query passes one of them before any network
 * I/O: control bytes are refused everywhere, since a CR or LF would end an
 * SMTP command line (RFC 5321 §2.3.8).  They do not open files and do not
 * touch the network.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mxtrace/idn.h"
#include "mxtrace/validate.h"
#include "mxtrace/limits.h"
#include "mxtrace/xalloc.h"
#include "opt.h"
#include "options.h"

/* ASCII helpers: never the locale's ctype, whose rules change with LC_ALL
 * (the Turkish dotless i). */
static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
ascii_casecmp(const char *a, const char *b)
{
	while (*a != '\0' && ascii_lower((unsigned char)*a) == ascii_lower((unsigned char)*b)) {
		a++;
		b++;
	}
	return ascii_lower((unsigned char)*a) - ascii_lower((unsigned char)*b);
}

/* Replace *dst with a copy of s. */
static void
set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = mxt_xstrdup(s);
}

/* Refuse control bytes (C0 and DEL; with multiline, TAB, CR and LF pass) and
 * arguments longer than max: a CR or LF would start a new SMTP command. */
int
mxt_opt_check_text(struct opt_ctx *c, const char *s, size_t max, int multiline)
{
	size_t i, len = strlen(s);

	if (len > max)
		return mxt_opt_fail(c, "argument too long (%zu bytes, at most %zu)", len, max);
	for (i = 0; i < len; i++) {
		unsigned char b = (unsigned char)s[i];

		if (multiline && (b == '\t' || b == '\r' || b == '\n'))
			continue;
		if (b < 0x20 || b == 0x7f)
			return mxt_opt_fail(
			    c, "control character 0x%02x at byte %zu is not allowed", b, i);
	}
	return 0;
}

/* Strict unsigned decimal: digits only, no sign, space or base prefix. */
int
mxt_opt_uint(struct opt_ctx *c, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	const char *p;

	if (*s == '\0')
		return mxt_opt_fail(c, "empty value; expected a number from %ju to %ju",
		    (uintmax_t)min, (uintmax_t)max);
	for (p = s; *p != '\0'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (!is_digit((unsigned char)*p) || v > (UINT64_MAX - d) / 10)
			goto bad;
		v = v * 10 + d;
	}
	if (v < min || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	return mxt_opt_fail(c, "'%s' is not a number from %ju to %ju", mxt_opt_show(c, s),
	    (uintmax_t)min, (uintmax_t)max);
}

static int
parse_int(struct opt_ctx *c, const char *s, int min, int max, int *out)
{
	uint64_t v;

	if (mxt_opt_uint(c, s, (uint64_t)min, (uint64_t)max, &v) != 0)
		return -1;
	*out = (int)v;
	return 0;
}

/* Seconds as "N" or "N.F", to milliseconds (digits past the third decimal
 * are cut).  No strtod: it honours the locale's decimal point and accepts
 * "nan", "inf", "1e12" and hex. */
int
mxt_opt_seconds(struct opt_ctx *c, const char *s, uint64_t min, uint64_t max, uint64_t *ms)
{
	const char *p = s;
	uint64_t whole = 0, frac = 0;
	int nfrac = 0;

	if (!is_digit((unsigned char)*p))
		goto bad;
	for (; is_digit((unsigned char)*p); p++) {
		whole = whole * 10 + (unsigned)(*p - '0');
		if (whole > max / 1000)
			goto bad;
	}
	if (*p == '.') {
		p++;
		if (!is_digit((unsigned char)*p))
			goto bad;
		for (; is_digit((unsigned char)*p); p++) {
			if (nfrac < 3) {
				frac = frac * 10 + (unsigned)(*p - '0');
				nfrac++;
			}
		}
	}
	if (*p != '\0')
		goto bad;
	for (; nfrac < 3; nfrac++)
		frac *= 10;
	*ms = whole * 1000 + frac;
	if (*ms < min || *ms > max)
		goto bad;
	return 0;
bad:
	return mxt_opt_fail(c,
	    "'%s' is not a number of seconds above 0 and at most %ju (like 10 or 0.5)",
	    mxt_opt_show(c, s), (uintmax_t)(max / 1000));
}

/* One of the keyword values of an option (ASCII case-insensitive). */
int
mxt_opt_choice(
    struct opt_ctx *c, const char *s, const struct opt_value *v, const struct opt_value **out)
{
	char list[256];
	size_t n = 0;
	const struct opt_value *p;

	for (p = v; p->name != NULL; p++) {
		if (ascii_casecmp(s, p->name) == 0) {
			*out = p;
			return 0;
		}
	}
	list[0] = '\0';
	for (p = v; p->name != NULL; p++) {
		int w = snprintf(list + n, sizeof(list) - n, "%s%s", p == v ? "" : ", ", p->name);

		if (w < 0 || (size_t)w >= sizeof(list) - n)
			break;
		n += (size_t)w;
	}
	return mxt_opt_fail(c, "'%s' is not one of: %s", mxt_opt_show(c, s), list);
}

static int
is_ipv4(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

static int
is_ipv6(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, s, &a) == 1;
}

/* Only digits and dots: looks like an IPv4 address, so never a host name. */
static int
is_dotted_numeric(const char *s)
{
	for (; *s != '\0'; s++)
		if (!is_digit((unsigned char)*s) && *s != '.')
			return 0;
	return 1;
}

/* A domain or host name (UTF-8 allowed) to its A-label form and, if unicode
 * is not NULL, its U-label form; both are new strings the caller frees.
 * Rejects what c-ares would misread (a backslash is an escape there,
 * ares_search(3)), URLs, empty labels, and names ending in an
 * all-numeric label.  A trailing dot is accepted and dropped. */
static int
parse_domain(struct opt_ctx *c, const char *s, char **ascii, char **unicode)
{
	char ebuf[160], *name;
	const char *p, *last;
	size_t len;
	int rc;

	*ascii = NULL;
	if (unicode != NULL)
		*unicode = NULL;
	if (mxt_opt_check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	len = strlen(s);
	if (len == 0)
		return mxt_opt_fail(c, "empty domain name");
	if (strstr(s, "://") != NULL)
		return mxt_opt_fail(
		    c, "'%s' looks like a URL; give a bare host name", mxt_opt_show(c, s));
	if (s[0] == '-')
		return mxt_opt_fail(
		    c, "'%s' starts with '-'; a host name cannot", mxt_opt_show(c, s));
	for (p = s; *p != '\0'; p++) {
		unsigned char b = (unsigned char)*p;

		if (b >= 0x80 || b == '.' || b == '-' || is_digit(b) ||
		    (ascii_lower(b) >= 'a' && ascii_lower(b) <= 'z'))
			continue;
		return mxt_opt_fail(
		    c, "'%s': character '%c' is not allowed in a host name", mxt_opt_show(c, s), b);
	}
	if (s[0] == '.' || strstr(s, "..") != NULL)
		return mxt_opt_fail(c, "'%s': empty label in host name", mxt_opt_show(c, s));
	last = s + len - (s[len - 1] == '.' ? 1 : 0);
	for (p = last; p > s && p[-1] != '.'; p--)
		;
	if (p < last && is_dotted_numeric(p))
		return mxt_opt_fail(c,
		    "'%s' ends in an all-numeric label; an IP address is not a host name",
		    mxt_opt_show(c, s));
	name = mxt_xstrndup(s, (size_t)(last - s));
	rc = mxt_idn_to_ascii(name, ascii, unicode, ebuf, sizeof(ebuf));
	free(name);
	if (rc != 0) {
		*ascii = NULL;
		if (unicode != NULL)
			*unicode = NULL;
		return mxt_opt_fail(
		    c, "'%s' is not a valid domain name: %s", mxt_opt_show(c, s), ebuf);
	}
	if (!mxt_valid_hostname(*ascii)) {
		mxt_opt_fail(c,
		    "'%s' is not a valid host name (labels of 1-63 letters, digits, hyphens; "
		    "at most %d octets)",
		    mxt_opt_show(c, s), MXT_DOMAIN_MAX);
		goto bad;
	}
	len = strlen(*ascii);
	if (strcmp(*ascii, "onion") == 0 || (len > 6 && strcmp(*ascii + len - 6, ".onion") == 0)) {
		mxt_opt_fail(c, "'%s': .onion names cannot be resolved in DNS (RFC 7686)",
		    mxt_opt_show(c, s));
		goto bad;
	}
	return 0;
bad:
	free(*ascii);
	*ascii = NULL;
	if (unicode != NULL) {
		free(*unicode);
		*unicode = NULL;
	}
	return -1;
}

/* A mailbox: optional <>, domain converted to A-labels, then the RFC 5321
 * syntax check.  allow_empty accepts "" and "<>" (the null reverse-path).
 * *out is a new string without angle brackets. */
int
mxt_opt_mailbox(struct opt_ctx *c, const char *s, int allow_empty, char **out)
{
	char ebuf[160], *inner = NULL, *ascii = NULL, *addr = NULL;
	const char *at;
	size_t len;
	int rc = -1;

	*out = NULL;
	if (mxt_opt_check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	len = strlen(s);
	if (len > 0 && (s[0] == '<') != (s[len - 1] == '>'))
		return mxt_opt_fail(c, "'%s': unbalanced '<' and '>'", mxt_opt_show(c, s));
	if (len >= 2 && s[0] == '<')
		inner = mxt_xstrndup(s + 1, len - 2);
	else
		inner = mxt_xstrdup(s);
	if (inner[0] == '\0') {
		if (!allow_empty) {
			mxt_opt_fail(c, "empty address");
			goto done;
		}
		*out = inner;
		return 0;
	}
	at = strrchr(inner, '@');
	if (at == NULL || at == inner) {
		mxt_opt_fail(
		    c, "'%s' is not an address of the form user@domain", mxt_opt_show(c, s));
		goto done;
	}
	if (at[1] != '[') {
		if (parse_domain(c, at + 1, &ascii, NULL) != 0)
			goto done;
		len = (size_t)(at - inner) + 1 + strlen(ascii) + 1;
		addr = mxt_xmalloc(len);
		snprintf(addr, len, "%.*s@%s", (int)(at - inner), inner, ascii);
	} else
		addr = mxt_xstrdup(inner);
	if (!mxt_valid_mailbox(addr, 0, ebuf, sizeof(ebuf))) {
		mxt_opt_fail(c, "'%s': %s", mxt_opt_show(c, s), ebuf);
		goto done;
	}
	*out = addr;
	addr = NULL;
	rc = 0;
done:
	free(inner);
	free(ascii);
	free(addr);
	return rc;
}

/* Append a recipient; at most MXT_OPT_RCPT_MAX in all.  Takes addr. */
int
mxt_opt_add_rcpt(struct opt_ctx *c, char *addr, int first)
{
	struct mxt_config *cfg = c->cfg;

	if (cfg->nto >= MXT_OPT_RCPT_MAX) {
		free(addr);
		return mxt_opt_fail(c, "more than %d recipients", MXT_OPT_RCPT_MAX);
	}
	if (cfg->to == NULL)
		cfg->to = mxt_xcalloc(MXT_OPT_RCPT_MAX, sizeof(*cfg->to));
	if (first) {
		memmove(cfg->to + 1, cfg->to, cfg->nto * sizeof(*cfg->to));
		cfg->to[0] = addr;
	} else
		cfg->to[cfg->nto] = addr;
	cfg->nto++;
	return 0;
}

/* An IP address (IPv6 with or without brackets), stored without brackets. */
int
mxt_opt_ip(struct opt_ctx *c, const char *s, char **dst)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len;

	if (mxt_opt_check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	len = strlen(s);
	if (len >= 2 && s[0] == '[' && s[len - 1] == ']' && len - 2 < sizeof(buf)) {
		memcpy(buf, s + 1, len - 2);
		buf[len - 2] = '\0';
		if (is_ipv6(buf)) {
			set_str(dst, buf);
			return 0;
		}
	} else if (is_ipv4(s) || is_ipv6(s)) {
		set_str(dst, s);
		return 0;
	}
	return mxt_opt_fail(c, "'%s' is not an IPv4 or IPv6 address", mxt_opt_show(c, s));
}

/* "[IPv6]", "[IPv6]:PORT", "HOST" or "HOST:PORT": *host is a new string
 * (IPv6 without brackets), *port 0 when absent.  With need_ip the host must
 * be an address (a resolver), else it may be a host name, made an A-label. */
int
mxt_opt_hostport(struct opt_ctx *c, const char *s, int need_ip, char **host, int *port)
{
	const char *end, *colon = NULL;
	char *h;
	size_t hlen;

	*host = NULL;
	*port = 0;
	if (mxt_opt_check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	if (s[0] == '\0')
		return mxt_opt_fail(c, "empty host name");
	if (strstr(s, "://") != NULL)
		return mxt_opt_fail(
		    c, "'%s' looks like a URL; give HOST or HOST:PORT", mxt_opt_show(c, s));
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return mxt_opt_fail(c, "'%s': missing ']'", mxt_opt_show(c, s));
		if (end[1] != '\0' && end[1] != ':')
			return mxt_opt_fail(
			    c, "'%s': only ':PORT' may follow ']'", mxt_opt_show(c, s));
		if (end[1] == ':')
			colon = end + 1;
		h = mxt_xstrndup(s + 1, (size_t)(end - s - 1));
		if (!is_ipv6(h)) {
			mxt_opt_fail(c, "'%s': '[%s]' is not an IPv6 address", mxt_opt_show(c, s),
			    mxt_opt_show(c, h));
			free(h);
			return -1;
		}
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			return mxt_opt_fail(c,
			    "'%s': write an IPv6 address in brackets, like [2001:db8::1]:25",
			    mxt_opt_show(c, s));
		hlen = colon != NULL ? (size_t)(colon - s) : strlen(s);
		h = mxt_xstrndup(s, hlen);
		if (!is_ipv4(h)) {
			char *ascii;

			if (need_ip) {
				mxt_opt_fail(c,
				    "'%s' is not an IP address (a DNS server is given by address)",
				    mxt_opt_show(c, s));
				free(h);
				return -1;
			}
			if (is_dotted_numeric(h)) {
				mxt_opt_fail(
				    c, "'%s' is not a valid IPv4 address", mxt_opt_show(c, h));
				free(h);
				return -1;
			}
			if (parse_domain(c, h, &ascii, NULL) != 0) {
				free(h);
				return -1;
			}
			free(h);
			h = ascii;
		}
	}
	if (colon != NULL && parse_int(c, colon + 1, 1, 65535, port) != 0) {
		free(h);
		return -1;
	}
	*host = h;
	return 0;
}

/* --ehlo: a FQDN (U-labels converted, RFC 6531 §3.7.1) or an address literal
 * (RFC 5321 §4.1.4, §2.3.5). */
int
mxt_opt_ehlo(struct opt_ctx *c, const char *s, char **dst)
{
	char *ascii;

	if (mxt_opt_check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	if (s[0] == '[') {
		if (!mxt_valid_address_literal(s))
			return mxt_opt_fail(c,
			    "'%s' is not a valid address literal (like [192.0.2.1] or "
			    "[IPv6:2001:db8::1])",
			    mxt_opt_show(c, s));
		set_str(dst, s);
		return 0;
	}
	if (is_ipv4(s))
		return mxt_opt_fail(c, "write an address as a literal: [%s]", mxt_opt_show(c, s));
	if (is_ipv6(s))
		return mxt_opt_fail(
		    c, "write an address as a literal: [IPv6:%s]", mxt_opt_show(c, s));
	if (parse_domain(c, s, &ascii, NULL) != 0)
		return -1;
	if (strchr(ascii, '.') == NULL) {
		mxt_opt_fail(c,
		    "'%s' is not a fully qualified domain name (RFC 5321 section 2.3.5)",
		    mxt_opt_show(c, s));
		free(ascii);
		return -1;
	}
	free(*dst);
	*dst = ascii;
	return 0;
}

/* --resolver ADDR[:PORT]: an IPv4 address, or IPv6 in brackets; kept in the
 * "ADDR:PORT" / "[ADDR]:PORT" form ares_set_servers_ports_csv() reads. */
int
mxt_opt_resolver(struct opt_ctx *c, const char *s, char **dst)
{
	char *host;
	int port;

	if (s[0] != '[' && is_ipv6(s))
		return mxt_opt_fail(c, "'%s': write an IPv6 address in brackets, like [%s]:53",
		    mxt_opt_show(c, s), mxt_opt_show(c, s));
	if (mxt_opt_hostport(c, s, 1, &host, &port) != 0)
		return -1;
	free(host);
	set_str(dst, s);
	return 0;
}

/* TARGET: a domain, or user@domain (then also the first recipient).  An IP
 * address, host:port or URL is refused with a pointer to --server
 * (see TARGET in mxtrace(1)). */
int
mxt_opt_target(struct opt_ctx *c, const char *s)
{
	struct mxt_config *cfg = c->cfg;
	const char *at, *dom;
	char *addr, *ascii, *unicode;

	c->what = "TARGET";
	if (mxt_opt_check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	if (strstr(s, "://") != NULL)
		return mxt_opt_fail(
		    c, "'%s' looks like a URL; give a domain or user@domain", mxt_opt_show(c, s));
	at = strrchr(s, '@');
	dom = at != NULL ? at + 1 : s;
	if (dom[0] == '[' || is_ipv4(dom) || is_ipv6(dom))
		return mxt_opt_fail(c,
		    "'%s' is an address, not a mail domain; use --server ADDR --to ADDR",
		    mxt_opt_show(c, s));
	if (at == NULL && strchr(s, ':') != NULL)
		return mxt_opt_fail(c,
		    "'%s' is not a domain; to choose a server and port use --server "
		    "HOST:PORT",
		    mxt_opt_show(c, s));
	if (parse_domain(c, dom, &ascii, &unicode) != 0)
		return -1;
	free(cfg->domain);
	free(cfg->domain_unicode);
	cfg->domain = ascii;
	cfg->domain_unicode = unicode;
	if (at != NULL) {
		if (mxt_opt_mailbox(c, s, 0, &addr) != 0)
			return -1;
		if (mxt_opt_add_rcpt(c, addr, 1) != 0)
			return -1;
	}
	set_str(&cfg->target, s);
	return 0;
}

/* --listen [ADDR:]PORT, [IPV6]:PORT, ADDR or PORT: where the exporter serves
 * HTTP.  ADDR must be an address (no name to resolve before listening);
 * without one, 127.0.0.1, so an exporter is never reachable from outside by
 * accident.  Without PORT, MXT_EXPORTER_PORT_DEFAULT. */
int
mxt_opt_listen(struct opt_ctx *c, const char *s)
{
	const char *port = NULL, *p;
	char *host = NULL;
	uint64_t u = MXT_EXPORTER_PORT_DEFAULT;

	if (mxt_opt_check_text(c, s, OPT_ARG_MAX, 0) != 0)
		return -1;
	for (p = s; *p >= '0' && *p <= '9'; p++)
		;
	if (*s != '\0' && *p == '\0') {
		port = s;
	} else if (s[0] == '[') {
		p = strchr(s, ']');
		if (p == NULL || (p[1] != '\0' && p[1] != ':'))
			return mxt_opt_fail(c, "'%s': write [IPV6]:PORT", mxt_opt_show(c, s));
		host = mxt_xstrndup(s + 1, (size_t)(p - s - 1));
		if (p[1] == ':')
			port = p + 2;
		if (!is_ipv6(host))
			goto bad;
	} else {
		p = strchr(s, ':');
		if (p != NULL && strchr(p + 1, ':') != NULL)
			return mxt_opt_fail(c,
			    "'%s': write an IPv6 address in brackets, like [::1]:9125",
			    mxt_opt_show(c, s));
		host = mxt_xstrndup(s, p != NULL ? (size_t)(p - s) : strlen(s));
		if (p != NULL)
			port = p + 1;
		if (host[0] == '\0') {
			free(host);
			host = NULL;
		} else if (!is_ipv4(host))
			goto bad;
	}
	if (port != NULL && mxt_opt_uint(c, port, 1, 65535, &u) != 0) {
		free(host);
		return -1;
	}
	free(c->cfg->listen);
	c->cfg->listen = host != NULL ? host : mxt_xstrdup("127.0.0.1");
	c->cfg->listen_port = (int)u;
	return 0;
bad:
	mxt_opt_fail(c, "'%s' is not an IP address to listen on", mxt_opt_show(c, s));
	free(host);
	return -1;
}

/* SPDX-License-Identifier: MIT */
/*
 * Unit tests for the input validators and the IDN conversion: host names,
 * address literals, mailboxes (with the exact reason for each rejection,
 * CRLF injection first among them: RFC 5321 §4.1.2 allows no control byte)
 * and mxt_idn_to_ascii() (RFC 5890, RFC 6531 §3.7).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <string.h>

#include "mxtrace/escape.h"
#include "mxtrace/idn.h"
#include "mxtrace/validate.h"
#include "t.h"

/* Literals use octal escapes ("b\303\274cher") where a hex escape would
 * swallow the letter after it. */
/* A string of n copies of c. */
static char *
repeat(char c, size_t n)
{
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* A name of exactly n octets made of 63-octet labels ("aaa...a.aaa..."). */
static char *
long_name(size_t n)
{
	char *s = repeat('a', n);
	size_t i;

	for (i = 63; i < n - 1; i += 64)
		s[i] = '.';
	return s;
}

static void
host(const char *s, int want)
{
	char *e = mxt_escape_str(s, 80);

	T_CHECK(mxt_valid_hostname(s) == want, "hostname %s \"%s\"", want ? "valid" : "invalid",
	    e ? e : "(null)");
	free(e);
}

static void
literal(const char *s, int want)
{
	char *e = mxt_escape_str(s, 80);

	T_CHECK(mxt_valid_address_literal(s) == want, "address literal %s \"%s\"",
	    want ? "valid" : "invalid", e ? e : "(null)");
	free(e);
}

/* Check a mailbox; for an invalid one, that the reason starts with why. */
static void
mbox(const char *s, int allow_empty, const char *why)
{
	char err[256] = "untouched", *e = mxt_escape_str(s, 80);
	int ok = mxt_valid_mailbox(s, allow_empty, err, sizeof(err));

	if (why == NULL)
		T_CHECK(ok == 1, "mailbox valid \"%s\"", e ? e : "(null)");
	else
		T_CHECK(ok == 0 && strncmp(err, why, strlen(why)) == 0,
		    "mailbox invalid \"%s\": %s", e ? e : "(null)", why);
	if ((why == NULL) != (ok == 1) || (why != NULL && strncmp(err, why, strlen(why)) != 0))
		printf("# got %d: %s\n", ok, err);
	free(e);
}

static void
hostnames(void)
{
	char *s;

	host("example.com", 1);
	host("EXAMPLE.COM", 1);
	host("mx1.example.com", 1);
	host("example.com.", 1);
	host("localhost", 1);
	host("a", 1);
	host("a-b.c-d", 1);
	host("1a.example", 1);
	host("123.example.com", 1);
	host("xn--bcher-kva.example", 1);
	host("r4---sn-abc.googlevideo.com", 1);
	host("4.3.2.1.in-addr.arpa", 1);

	host(NULL, 0);
	host("", 0);
	host(".", 0);
	host("..", 0);
	host("a..b", 0);
	host(".example.com", 0);
	host("example.com..", 0);
	host("-a.com", 0);
	host("a-.com", 0);
	host("a.-b.com", 0);
	host("a b.com", 0);
	host(" example.com", 0);
	host("example.com\r\n", 0);
	host("exa\nmple.com", 0);
	host("ex\tample.com", 0);
	host("ex\\.ample.com", 0);
	host("a_b.com", 0);
	host("_25._tcp.example.com", 0);
	host("b\303\274cher.example", 0);
	host("1.2.3.4", 0);
	host("123", 0);
	host("a.b.c.1", 0);
	host("[192.0.2.1]", 0);
	host("user@example.com", 0);
	host("example.com:25", 0);
	host("-x", 0);

	s = repeat('a', 63);
	host(s, 1);
	free(s);
	s = repeat('a', 64);
	host(s, 0);
	free(s);
	s = long_name(253);
	host(s, 1);
	T_CHECK(strlen(s) == 253 && s[63] == '.' && s[252] != '.', "long_name(253) is sane");
	free(s);
	s = long_name(254);
	host(s, 0);
	free(s);
	/* 253 octets plus the trailing dot. */
	s = long_name(254);
	s[253] = '.';
	host(s, 1);
	free(s);
	s = repeat('a', 1 << 20);
	host(s, 0);
	free(s);
}

static void
literals(void)
{
	char *s;

	literal("[192.0.2.1]", 1);
	literal("[0.0.0.0]", 1);
	literal("[255.255.255.255]", 1);
	literal("[10.0.0.10]", 1);
	literal("[IPv6:2001:db8::1]", 1);
	literal("[ipv6:::1]", 1);
	literal("[IPV6:2001:db8:0:0:0:0:0:1]", 1);
	literal("[IPv6:::ffff:192.0.2.1]", 1);

	literal(NULL, 0);
	literal("", 0);
	literal("[]", 0);
	literal("192.0.2.1", 0);
	literal("[192.0.2.1", 0);
	literal("192.0.2.1]", 0);
	literal("[192.0.2.1]x", 0);
	literal("[999.1.1.1]", 0);
	literal("[256.0.0.0]", 0);
	literal("[01.2.3.4]", 0);
	literal("[1.2.3.04]", 0);
	literal("[1.2.3.0004]", 0);
	literal("[1.2.3]", 0);
	literal("[1.2.3.4.5]", 0);
	literal("[1..2.3]", 0);
	literal("[1.2.3.-4]", 0);
	literal("[ 1.2.3.4]", 0);
	literal("[1.2.3.4 ]", 0);
	literal("[0x1.2.3.4]", 0);
	literal("[1.2.3.4.]", 0);
	literal("[IPv6:zz]", 0);
	literal("[IPv6:]", 0);
	literal("[IPv6:1.2.3.4]", 0);
	literal("[2001:db8::1]", 0);
	literal("[IPv6:fe80::1%eth0]", 0);
	literal("[IPv6: ::1]", 0);
	literal("[IPv4:1.2.3.4]", 0);
	literal("[IPv6:2001:db8::1]\r\n", 0);
	literal("[[IPv6:::1]]", 0);
	s = repeat('1', 200);
	s[0] = '[';
	s[199] = ']';
	literal(s, 0);
	memcpy(s + 1, "IPv6:", 5);
	literal(s, 0);
	free(s);
}

static void
mailboxes(void)
{
	char err[64], *s, *t;

	mbox("user@example.com", 0, NULL);
	mbox("first.last@example.com", 0, NULL);
	mbox("a+tag@sub.example.com", 0, NULL);
	mbox("!#$%&'*+-/=?^_`{|}~@example.com", 0, NULL);
	mbox("\"john doe\"@example.com", 0, NULL);
	mbox("\"a\\\"b\\\\c\"@example.com", 0, NULL);
	mbox("\"a@b\"@example.com", 0, NULL);
	mbox("\"<x>\"@example.com", 0, NULL);
	mbox("\"\"@example.com", 0, NULL);
	mbox("\"j\xc3\xb6ran\"@example.com", 0, NULL);
	mbox("user@[192.0.2.1]", 0, NULL);
	mbox("user@[IPv6:2001:db8::1]", 0, NULL);
	mbox("user@localhost", 0, NULL);
	mbox("USER@EXAMPLE.COM", 0, NULL);
	mbox("j\xc3\xb6ran@example.com", 0, NULL);
	mbox("\xe7\x94\xa8\xe6\x88\xb7@\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a", 0, NULL);
	mbox("user@b\303\274cher.example", 0, NULL);
	mbox("user@xn--bcher-kva.example", 0, NULL);
	mbox("", 1, NULL);

	/* CRLF and other control bytes (command injection): always this
	 * reason. */
	mbox("a@b\r\nRCPT TO:<x@y>", 0, "control character in address");
	mbox("a@example.com\r\nRCPT TO:<x@y>", 0, "control character in address");
	mbox("a@example.com\n", 0, "control character in address");
	mbox("a@example.com\r", 0, "control character in address");
	mbox("\"a\r\nb\"@example.com", 0, "control character in address");
	mbox("a\t@example.com", 0, "control character in address");
	mbox("a\x7f@example.com", 0, "control character in address");
	mbox("a\x1b[2J@example.com", 0, "control character in address");
	mbox("a\xc2\x85@example.com", 0, "control character in address");
	mbox("<a@example.com>\r\n", 0, "control character in address");

	mbox(NULL, 0, "no address");
	mbox(NULL, 1, "no address");
	mbox("", 0, "empty address");
	mbox("<a@example.com>", 0, "angle bracket");
	mbox("<>", 1, "angle bracket");
	mbox("a@example.com>", 0, "angle bracket");
	mbox("a<b@example.com", 0, "angle bracket");
	mbox("user", 0, "no @ in address");
	mbox("\"user\"", 0, "no @ in address");
	mbox("@example.com", 0, "empty local part");
	mbox("a@b@example.com", 0, "more than one @ in address");
	mbox("a@", 0, "empty domain");
	mbox(".a@example.com", 0, "local part starts with a dot");
	mbox("a.@example.com", 0, "local part ends with a dot");
	mbox("a..b@example.com", 0, "two dots in a row in local part");
	mbox("a b@example.com", 0, "space in local part");
	mbox("a\\b@example.com", 0, "backslash outside a quoted local part");
	mbox("a\"b\"@example.com", 0, "quote in the middle of the local part");
	mbox("a(b)@example.com", 0, "invalid character in local part");
	mbox("a,b@example.com", 0, "invalid character in local part");
	mbox("\"abc@example.com", 0, "unterminated quoted local part");
	mbox("\"abc\\\"@example.com", 0, "unterminated quoted local part");
	mbox("\"a\"b@example.com", 0, "characters between the quoted local part and @");
	mbox("a\xff@example.com", 0, "invalid UTF-8 in local part");
	mbox("a\xc0\xaf@example.com", 0, "invalid UTF-8 in local part");
	mbox("a\xed\xa0\x80@example.com", 0, "invalid UTF-8 in local part");
	mbox("\"a\xe6\x97\"@example.com", 0, "invalid UTF-8 in local part");
	mbox("a@example.com.", 0, "domain ends with a dot");
	mbox("a@b\303\274cher.example.", 0, "domain ends with a dot");
	mbox("a@-example.com", 0, "domain label starts with a hyphen");
	mbox("a@example-.com", 0, "domain label ends with a hyphen");
	mbox("a@ex_ample.com", 0, "underscore in domain");
	mbox("a@ex\\.ample.com", 0, "backslash in domain");
	mbox("a@exa mple.com", 0, "space in domain");
	mbox("a@a..example.com", 0, "empty label in domain");
	mbox("a@.example.com", 0, "empty label in domain");
	mbox("a@1.2.3.4", 0, "all-numeric top-level label");
	mbox("a@[999.1.1.1]", 0, "invalid address literal");
	mbox("a@[IPv6:zz]", 0, "invalid address literal");
	mbox("a@[192.0.2.1", 0, "invalid address literal");
	mbox("a@xn--zz.example", 0, "invalid internationalized domain: ");
	mbox("a@x\xe2\x80\xaey.example", 0, "invalid internationalized domain: ");
	mbox("a@\xff.example", 0, "invalid internationalized domain: ");

	/* Lengths: RFC 5321 §4.5.3.1.1 and §4.5.3.1.3. */
	s = repeat('a', 64 + 1 + 189);
	s[64] = '@';
	s[64 + 1 + 63] = '.';
	s[64 + 1 + 127] = '.';
	mbox(s, 0, NULL);
	T_CHECK(strlen(s) == 254, "254-octet address is the longest");
	t = repeat('a', 255);
	memcpy(t, s, 254);
	mbox(t, 0, "address longer than 254 octets");
	free(t);
	free(s);
	s = repeat('a', 65 + 12);
	memcpy(s + 65, "@example.com", 12);
	mbox(s, 0, "local part longer than 64 octets");
	memmove(s + 1, s + 2, strlen(s + 2) + 1);
	mbox(s, 0, NULL);
	free(s);
	s = repeat('a', 1 << 20);
	mbox(s, 0, "address longer than 254 octets");
	free(s);
	s = repeat('a', 80);
	s[0] = '"';
	s[65] = '"';
	memcpy(s + 66, "@example.com", 12);
	s[78] = '\0';
	mbox(s, 0, "local part longer than 64 octets");
	s[63] = '"';
	memcpy(s + 64, "@example.com", 13);
	mbox(s, 0, NULL);
	free(s);
	s = repeat('a', 64 + 1 + 64 + 4);
	s[64] = '@';
	memcpy(s + 64 + 1 + 64, ".com", 4);
	mbox(s, 0, "domain label longer than 63 octets");
	free(s);

	/* The error buffer. */
	T_CHECK(mxt_valid_mailbox("a\r@b", 0, NULL, 0) == 0, "NULL err buffer");
	memset(err, 'x', sizeof(err));
	T_CHECK(
	    mxt_valid_mailbox("a\r@b", 0, err, 5) == 0 && strcmp(err, "cont") == 0 && err[5] == 'x',
	    "short err buffer truncates");
	T_CHECK(mxt_valid_mailbox("a@example.com", 0, err, sizeof(err)) == 1 && err[0] == '\0',
	    "err empty on success");
}

/* Check a successful conversion. */
static void
idn_ok(const char *in, const char *want_ascii, const char *want_unicode)
{
	char err[128] = "", *a = NULL, *u = NULL, *e = mxt_escape_str(in, 80);
	int rc = mxt_idn_to_ascii(in, &a, &u, err, sizeof(err));

	T_CHECK(rc == 0 && a != NULL && strcmp(a, want_ascii) == 0 && u != NULL &&
		(want_unicode == NULL || strcmp(u, want_unicode) == 0),
	    "idn \"%s\" -> %s", e ? e : "(null)", want_ascii);
	if (rc != 0)
		printf("# err: %s\n", err);
	free(a);
	free(u);
	free(e);
}

/* Check a refused conversion: -1, outputs NULL, a reason (starting with
 * why, if given). */
static void
idn_bad(const char *in, const char *why)
{
	char err[128] = "", *a = (char *)1, *u = (char *)1, *e = mxt_escape_str(in, 80);
	int rc = mxt_idn_to_ascii(in, &a, &u, err, sizeof(err)), ok;

	ok = rc == -1 && a == NULL && u == NULL && err[0] != '\0' &&
	    (why == NULL || strncmp(err, why, strlen(why)) == 0);
	T_CHECK(ok, "idn refuses \"%s\"%s%s", e ? e : "(null)", why ? ": " : "", why ? why : "");
	if (!ok)
		printf("# got %d: %s\n", rc, err);
	if (rc == 0) {
		free(a);
		free(u);
	}
	free(e);
}

static void
idn(void)
{
	char *a = NULL, *s;

	idn_ok("b\303\274cher.example", "xn--bcher-kva.example", "b\303\274cher.example");
	idn_ok("B\303\234CHER.Example.", "xn--bcher-kva.example", "b\303\274cher.example");
	idn_ok("xn--bcher-kva.example", "xn--bcher-kva.example", "b\303\274cher.example");
	idn_ok("XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example", "b\303\274cher.example");
	idn_ok("example.com", "example.com", "example.com");
	idn_ok("EXAMPLE.COM.", "example.com", "example.com");
	idn_ok("localhost", "localhost", "localhost");
	idn_ok("fa\xc3\x9f.de", "xn--fa-hia.de", "fa\xc3\x9f.de");
	idn_ok("r4---sn-abc.googlevideo.com", "r4---sn-abc.googlevideo.com",
	    "r4---sn-abc.googlevideo.com");
	idn_ok("\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a", "xn--fsqu00a.xn--4rr70v",
	    "\xe4\xbe\x8b\xe5\xad\x90.\xe5\xb9\xbf\xe5\x91\x8a");
	/* Full-width letters and the ideographic full stop map (UTS #46). */
	idn_ok("\xef\xbd\x85\xef\xbd\x98.com", "ex.com", "ex.com");
	idn_ok("a\343\200\202b", "a.b", "a.b");

	idn_bad("xn--zz.example", NULL);
	idn_bad("xn--bcher-kva-.example", NULL);
	idn_bad("a..b", "not a valid host name");
	idn_bad("\xc3\xbc..b", "not a valid host name");
	idn_bad(".example.com", "not a valid host name");
	idn_bad("example.com..", "not a valid host name");
	idn_bad("ex\\.ample.com", "not a valid host name");
	idn_bad("b\xc3\xbc\\cher.example", NULL);
	idn_bad("a_b.b\303\274cher.example", "not a valid host name");
	idn_bad("a b.com", "not a valid host name");
	idn_bad("-x", NULL);
	idn_bad("ex\r\nample.com", "control character in domain");
	idn_bad("b\xc3\xbc\ncher.example", "control character in domain");
	idn_bad("example.com\x7f", "control character in domain");
	idn_bad("", "empty domain");
	idn_bad(NULL, "no domain");
	idn_bad("1.2.3.4", "an IP address");
	idn_bad("::1", "an IP address");
	idn_bad("x\xe2\x80\xaey.com", NULL);
	idn_bad("\xff.com", NULL);
	idn_bad("\xc3\xbc\xc0\xaf.com", NULL);
	s = long_name(300);
	idn_bad(s, "not a valid host name");
	free(s);
	s = long_name(300);
	memcpy(s, "\xc3\xbc", 2);
	idn_bad(s, NULL);
	free(s);
	s = repeat('a', 1 << 20);
	idn_bad(s, "domain too long");
	free(s);

	T_CHECK(mxt_idn_to_ascii("b\303\274cher.example", &a, NULL, NULL, 0) == 0 && a != NULL &&
		strcmp(a, "xn--bcher-kva.example") == 0,
	    "idn without unicode output or err buffer");
	free(a);
	T_CHECK(mxt_idn_to_ascii("example.com", NULL, NULL, NULL, 0) == -1, "idn with NULL ascii");
}

/* The address classes (mxtrace/validate.h): each rule at its edges. */
static int
cls(int (*f)(int, const unsigned char *), const char *text)
{
	unsigned char b[16];

	if (inet_pton(AF_INET, text, b) == 1)
		return f(AF_INET, b);
	if (inet_pton(AF_INET6, text, b) == 1)
		return f(AF_INET6, b);
	return -1;
}

static void
address_classes(void)
{
	static const char *unusable[] = {"0.0.0.0", "0.255.1.1", "224.0.0.1", "239.1.1.1",
	    "240.0.0.1", "255.255.255.255", "::", "ff02::1", "::ffff:192.0.2.1"};
	static const char *usable[] = {"1.0.0.1", "223.255.255.255", "127.0.0.1", "10.0.0.1", "::1",
	    "2001:db8::1", "fe80::1", "fc00::1"};
	static const char *global[] = {"1.1.1.1", "9.255.255.255", "11.0.0.1", "100.63.255.255",
	    "100.128.0.1", "169.253.1.1", "172.15.255.255", "172.32.0.1", "192.0.3.1",
	    "192.169.0.1", "198.17.0.1", "198.20.0.1", "198.51.99.1", "203.0.114.1",
	    "223.255.255.255", "2a00:1450::1", "2001:db9::1", "3fff::1", "::ffff:8.8.8.8"};
	static const char *local[] = {"0.1.2.3", "10.1.2.3", "127.0.0.1", "100.64.0.1",
	    "100.127.255.255", "169.254.1.1", "172.16.0.1", "172.31.255.255", "192.168.1.1",
	    "192.0.2.1", "198.18.0.1", "198.19.255.255", "198.51.100.7", "203.0.113.9", "224.0.0.1",
	    "240.0.0.1", "::", "::1", "fe80::1", "fc00::1", "ff02::1", "2001:db8::1", "4000::1",
	    "::ffff:10.0.0.1", "::ffff:127.0.0.1"};
	size_t i;

	for (i = 0; i < sizeof(unusable) / sizeof(unusable[0]); i++)
		T_CHECK(cls(mxt_ip_unusable, unusable[i]) == 1, "%s is unusable", unusable[i]);
	for (i = 0; i < sizeof(usable) / sizeof(usable[0]); i++)
		T_CHECK(cls(mxt_ip_unusable, usable[i]) == 0, "%s is usable", usable[i]);
	for (i = 0; i < sizeof(global) / sizeof(global[0]); i++)
		T_CHECK(cls(mxt_ip_global, global[i]) == 1, "%s is global", global[i]);
	for (i = 0; i < sizeof(local) / sizeof(local[0]); i++)
		T_CHECK(cls(mxt_ip_global, local[i]) == 0, "%s is not global", local[i]);
	T_CHECK(cls(mxt_ip_loopback, "127.0.0.1") == 1 &&
		cls(mxt_ip_loopback, "127.255.1.2") == 1 && cls(mxt_ip_loopback, "::1") == 1,
	    "loopback: 127/8 and ::1");
	T_CHECK(cls(mxt_ip_loopback, "128.0.0.1") == 0 && cls(mxt_ip_loopback, "::2") == 0 &&
		cls(mxt_ip_loopback, "::ffff:127.0.0.1") == 0,
	    "not loopback: 128.0.0.1, ::2, mapped 127.0.0.1");
	T_CHECK(mxt_ip_global(AF_UNIX, (const unsigned char *)"xxxxxxxxxxxxxxxx") == 0,
	    "another family is never global");
}

int
main(void)
{
	hostnames();
	literals();
	mailboxes();
	idn();
	address_classes();
	return t_done();
}

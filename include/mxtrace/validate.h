/* SPDX-License-Identifier: MIT */
/*
 * Validation (src/core/validate.c): every string the user gives that ends
 * up on an SMTP command line or in a DNS query is checked here first (CRLF
 * injection, RFC 5321 syntax).  It checks; it does not convert (IDN is
 * mxtrace/idn.h) or escape (mxtrace/escape.h).
 */
#ifndef MXTRACE_VALIDATE_H
#define MXTRACE_VALIDATE_H

#include <stddef.h>

/* RFC 1123 / RFC 5321 §2.3.5 host name: LDH labels of 1-63 octets, total
 * at most 253, no leading/trailing hyphen, A-labels allowed, one optional
 * trailing dot.  Returns 1 if valid. */
int mxt_valid_hostname(const char *s);

/* An address literal "[1.2.3.4]" or "[IPv6:...]" (RFC 5321 §4.1.3). */
int mxt_valid_address_literal(const char *s);

/* A mailbox for MAIL FROM / RCPT TO (RFC 5321 §4.1.2): local@domain, local
 * part dot-atom or quoted string of printable ASCII (UTF-8 allowed in the local
 * part, RFC 6531), at most 64 octets; domain a host name or address literal;
 * path at most 256.  allow_empty accepts "" (the null sender).  On failure
 * returns 0 and writes a reason to err. */
int mxt_valid_mailbox(const char *s, int allow_empty, char *err, size_t errlen);

/* Classes of an address in network byte order (family AF_INET: 4 bytes,
 * AF_INET6: 16), one home for each rule (RFC 6890; RFC 4291 §2.5.2,
 * §2.5.3, §2.5.5.2, §2.7).  Each returns 1 or 0. */
/* No MTA sends mail to it: IPv4 0/8, 224/4, 240/4; IPv6 ::, ff00::/8 and
 * IPv4-mapped ::ffff:0:0/96. */
int mxt_ip_unusable(int family, const unsigned char *a);
/* 127/8 or ::1. */
int mxt_ip_loopback(int family, const unsigned char *a);
/* Reachable from the Internet: not "this network", private, shared (CGN),
 * loopback, link-local, documentation, benchmarking, multicast or reserved
 * IPv4; IPv6 global unicast 2000::/3 less documentation 2001:db8::/32, an
 * IPv4-mapped address judged by its IPv4 part. */
int mxt_ip_global(int family, const unsigned char *a);

#endif

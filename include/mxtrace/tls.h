/* SPDX-License-Identifier: MIT */
/*
 * TLS facts (src/net/tls.c): the run's client SSL_CTX, and what a finished
 * handshake tells us.  It does not drive handshakes: the connection module
 * (mxtrace/conn.h) does.
 */
#ifndef MXTRACE_TLS_H
#define MXTRACE_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "mxtrace/record.h"

/* A client context: system trust store, or ca_file when not NULL.  Returns
 * NULL with a reason in err.  The caller frees it with SSL_CTX_free. */
SSL_CTX *mxt_tls_ctx_new(const char *ca_file, char *err, size_t errlen);
/* Record protocol, cipher and certificate facts of an established session;
 * name is checked with OpenSSL's X509_check_host, or when there is no name
 * the address ip with X509_check_ip_asc.  With out->dane set, the DANE
 * verdict and the matching record are recorded too, and the PKIX chain
 * verdict (chain_ok) is computed apart, so it means the same either way. */
void mxt_tls_collect(SSL *ssl, const char *name, const char *ip, struct mxt_tls *out);
/* DANE (RFC 7672 §3) for one handshake: SSL_dane_enable() with the MX
 * host name, and cname (may be NULL) as a second name when the MX host is
 * an alias (RFC 7672 §3.2.3); names are checked for DANE-TA(2), not for
 * DANE-EE(3) (RFC 7672 §3.2.2).  Then every usable TLSA record.  Returns
 * how many were added; 0 leaves the handshake as it was. */
int mxt_tls_dane_setup(
    SSL *ssl, const char *name, const char *cname, const struct mxt_tlsa *tlsa, size_t n);
/* OpenSSL's error queue as one line (drains it); caller frees. */
char *mxt_tls_error_string(void);

#endif

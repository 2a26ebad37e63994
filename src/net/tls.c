/* SPDX-License-Identifier: MIT */
/*
 * TLS facts: one client SSL_CTX per run (the system trust store, looked up
 * per issuer on demand, or --ca-file),
 * and what a finished handshake tells us: protocol, cipher, chain verdict,
 * host-name match (OpenSSL's X509_check_host, never hand-written matching;
 * partial wildcards refused), subject, issuer, SANs and validity.  It does
 * not drive handshakes (conn.c does).
 */
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "mxtrace/redact.h"
#include "mxtrace/tls.h"
#include "mxtrace/tlspolicy.h"
#include "mxtrace/xalloc.h"

/* The system trust store, loaded lazily: the hashed certificate directory
 * (SSL_CERT_DIR, else OpenSSL's default, /etc/ssl/certs on Debian) is
 * searched per issuer when a handshake needs it, so a run that never
 * verifies a certificate never parses the bundle (parsing the whole bundle
 * up front costs tens of milliseconds per run).  Only when that directory
 * is missing are OpenSSL's default paths (the bundle file) loaded. */
static int
lazy_system_trust(SSL_CTX *ctx)
{
	const char *dir = getenv(X509_get_default_cert_dir_env());
	X509_LOOKUP *lk;
	struct stat st;

	if (dir == NULL || *dir == '\0')
		dir = X509_get_default_cert_dir();
	/* SSL_CERT_DIR may list several directories; the first one decides. */
	if (strchr(dir, ':') == NULL && (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
		return SSL_CTX_set_default_verify_paths(ctx);
	lk = X509_STORE_add_lookup(SSL_CTX_get_cert_store(ctx), X509_LOOKUP_hash_dir());
	if (lk == NULL || X509_LOOKUP_add_dir(lk, dir, X509_FILETYPE_PEM) != 1)
		return SSL_CTX_set_default_verify_paths(ctx);
	return 1;
}

SSL_CTX *
mxt_tls_ctx_new(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL) {
		snprintf(err, errlen, "cannot create a TLS context");
		return NULL;
	}
	/* Verification is observed, not enforced: the handshake completes and
	 * the verdict is recorded (the report judges it). */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	/* No session resumption: tickets would only cost a round of reading. */
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	/* DANE needs the digests of the context (RFC 7672 §3); each handshake
	 * turns it on only when its exchanger has usable TLSA records. */
	if (SSL_CTX_dane_enable(ctx) <= 0) {
		snprintf(err, errlen, "cannot enable DANE in the TLS context");
		SSL_CTX_free(ctx);
		return NULL;
	}
	if (ca_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
			char *e = mxt_tls_error_string();

			snprintf(err, errlen, "cannot load --ca-file %s: %s", ca_file, e);
			free(e);
			SSL_CTX_free(ctx);
			return NULL;
		}
	} else if (lazy_system_trust(ctx) != 1) {
		snprintf(err, errlen, "cannot load the system trust store");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

char *
mxt_tls_error_string(void)
{
	char buf[512], one[256];
	unsigned long e;
	size_t off = 0;

	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, one, sizeof(one));
		if (off < sizeof(buf) - 1)
			off += (size_t)snprintf(
			    buf + off, sizeof(buf) - off, "%s%s", off ? "; " : "", one);
	}
	if (off >= sizeof(buf))
		off = sizeof(buf) - 1;
	return mxt_xstrdup(buf[0] ? buf : "unknown TLS error");
}

static char *
name_line(X509_NAME *n)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p = NULL, *out;
	long len;

	if (b == NULL)
		return NULL;
	X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
	len = BIO_get_mem_data(b, &p);
	out = mxt_xmalloc((size_t)len + 1);
	memcpy(out, p, (size_t)len);
	out[len] = '\0';
	mxt_secret_scrub(out, (size_t)len); /* the peer chose these bytes */
	BIO_free(b);
	return out;
}

static char *
asn1_time_iso(const ASN1_TIME *t, time_t *when)
{
	struct tm tm;
	char buf[32];

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return NULL;
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (when != NULL)
		*when = timegm(&tm);
	return mxt_xstrdup(buf);
}

int
mxt_tls_dane_setup(
    SSL *ssl, const char *name, const char *cname, const struct mxt_tlsa *tlsa, size_t n)
{
	size_t i;
	int added = 0;

	if (SSL_dane_enable(ssl, name) <= 0) {
		ERR_clear_error();
		return 0;
	}
	/* RFC 7672 §3.2.3 (and RFC 7671 §7): when the MX host name is an
	 * alias, the name its CNAME chain ends at is a reference identifier
	 * too, beside the MX host name SSL_dane_enable() set.  The chain was
	 * validated: DANE is only used when the address answers were. */
	if (cname != NULL && cname[0] != '\0' && strcasecmp(cname, name) != 0 &&
	    SSL_add1_host(ssl, cname) != 1)
		ERR_clear_error();
	/* RFC 7672 §3.2.2: DANE-EE(3) binds the key; names do not matter. */
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (i = 0; i < n; i++) {
		if (!mxt_tlsa_usable(&tlsa[i]))
			continue;
		if (SSL_dane_tlsa_add(ssl, tlsa[i].usage, tlsa[i].selector, tlsa[i].mtype,
			tlsa[i].data, tlsa[i].len) > 0)
			added++;
	}
	ERR_clear_error();
	return added;
}

/* With DANE on, SSL_get_verify_result() is the DANE verdict: verify the
 * chain the peer sent against the trust store apart (PKIX, no name). */
static long
pkix_verify(SSL *ssl, X509 *cert)
{
	X509_STORE_CTX *vc = X509_STORE_CTX_new();
	X509_STORE *store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));
	long code = X509_V_ERR_UNSPECIFIED;

	if (vc == NULL)
		return code;
	if (X509_STORE_CTX_init(vc, store, cert, SSL_get_peer_cert_chain(ssl)) == 1) {
		X509_STORE_CTX_set_default(vc, "ssl_server");
		code = X509_verify_cert(vc) == 1 ? X509_V_OK : X509_STORE_CTX_get_error(vc);
		if (code == X509_V_OK && X509_STORE_CTX_get_error(vc) != X509_V_OK)
			code = X509_STORE_CTX_get_error(vc);
	}
	X509_STORE_CTX_free(vc);
	ERR_clear_error();
	return code;
}

/* Which TLSA record matched, at what depth (SSL_get0_dane_tlsa). */
static void
dane_collect(SSL *ssl, struct mxt_tls *out)
{
	uint8_t u = 0, s = 0, m = 0;
	const unsigned char *data = NULL;
	size_t dlen = 0;
	int depth = SSL_get0_dane_tlsa(ssl, &u, &s, &m, &data, &dlen);

	out->dane_verify_code = SSL_get_verify_result(ssl);
	out->dane_depth = depth;
	out->dane_ok = depth >= 0 && out->dane_verify_code == X509_V_OK;
	if (depth >= 0 && data != NULL) {
		struct mxt_tlsa r = {u, s, m, (unsigned char *)data, dlen};

		out->dane_match = mxt_tlsa_text(&r);
	}
	if (out->dane_verify_code != X509_V_OK)
		out->dane_verify_error =
		    mxt_xstrdup_or_null(X509_verify_cert_error_string(out->dane_verify_code));
}

void
mxt_tls_collect(SSL *ssl, const char *name, const char *ip, struct mxt_tls *out)
{
	X509 *cert;
	STACK_OF(GENERAL_NAME) * sans;
	time_t na = 0;
	int i;

	out->version = mxt_xstrdup_or_null(SSL_get_version(ssl));
	out->cipher = mxt_xstrdup_or_null(SSL_get_cipher_name(ssl));
	cert = SSL_get1_peer_certificate(ssl);
	if (cert == NULL)
		return; /* SSL_get_verify_result() says OK without a cert: not trusted */
	out->have_cert = 1;
	if (out->dane)
		dane_collect(ssl, out);
	out->verify_code = out->dane ? pkix_verify(ssl, cert) : SSL_get_verify_result(ssl);
	out->chain_ok = out->verify_code == X509_V_OK;
	if (!out->chain_ok)
		out->verify_error =
		    mxt_xstrdup_or_null(X509_verify_cert_error_string(out->verify_code));
	if (name != NULL && name[0] != '\0') {
		out->peer_name = mxt_xstrdup(name);
		out->name_ok =
		    X509_check_host(cert, name, 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) == 1;
	} else if (ip != NULL && ip[0] != '\0') {
		/* An address target (--server ADDR): an iPAddress SAN must name it. */
		out->peer_name = mxt_xstrdup(ip);
		out->name_ok = X509_check_ip_asc(cert, ip, 0) == 1;
	}
	out->subject = name_line(X509_get_subject_name(cert));
	out->issuer = name_line(X509_get_issuer_name(cert));
	out->not_before = asn1_time_iso(X509_get0_notBefore(cert), NULL);
	out->not_after = asn1_time_iso(X509_get0_notAfter(cert), &na);
	if (out->not_after != NULL) {
		int pday = 0, psec = 0;

		/* Whole days from now to notAfter, as OpenSSL counts them: 30
		 * days and one minute ago is -30, not -31. */
		if (ASN1_TIME_diff(&pday, &psec, NULL, X509_get0_notAfter(cert)) == 1)
			out->days_left = pday;
		else
			out->days_left = (int)(difftime(na, time(NULL)) / 86400.0);
	}
	sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans) && i < 100; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		char *v = NULL;

		if (g->type == GEN_DNS) {
			const ASN1_IA5STRING *s = g->d.dNSName;

			v = mxt_xmalloc((size_t)s->length + 1);
			memcpy(v, s->data, (size_t)s->length);
			v[s->length] = '\0';
		} else if (g->type == GEN_IPADD) {
			char buf[64];
			const ASN1_OCTET_STRING *s = g->d.iPAddress;

			if (s->length == 4)
				snprintf(buf, sizeof(buf), "IP:%u.%u.%u.%u", s->data[0], s->data[1],
				    s->data[2], s->data[3]);
			else
				snprintf(buf, sizeof(buf), "IP:(%d octets)", s->length);
			v = mxt_xstrdup(buf);
		}
		if (v == NULL)
			continue;
		mxt_secret_scrub_str(v);
		out->san = mxt_xreallocarray(out->san, out->nsan + 1, sizeof(*out->san));
		out->san[out->nsan++] = v;
	}
	GENERAL_NAMES_free(sans);
	X509_free(cert);
}

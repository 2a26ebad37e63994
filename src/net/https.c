/* SPDX-License-Identifier: MIT */
/*
 * One HTTPS GET with libcurl's multi socket API on mxt_loop: curl tells us
 * which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to call it back
 * (CURLMOPT_TIMERFUNCTION); the loop reports readiness with
 * curl_multi_socket_action().  Nothing blocks and nothing resolves names
 * outside c-ares: the caller's addresses go in with CURLOPT_RESOLVE.  Used
 * for the MTA-STS policy (RFC 8461 §3.3): HTTPS only, certificate verified,
 * no redirects, no proxies, body and time capped.  With --source, the
 * connection is made from that address, like the SMTP connections, and
 * only to the policy host's addresses of its family.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mxtrace/https.h"
#include "mxtrace/xalloc.h"

struct fetch {
	struct mxt_loop *loop;
	CURLM *multi;
	CURL *easy;
	struct curl_slist *resolve;
	struct mxt_timer timer; /* curl's timeout */
	struct mxt_timer later; /* the end, from a fresh loop turn */
	char errbuf[CURL_ERROR_SIZE];
	size_t body_max;
	int too_large;
	int done;
	int64_t start;
	struct mxt_https_res res;
	mxt_https_cb *cb;
	void *arg;
};

static void check_done(struct fetch *f);

/* Keep the body up to body_max; past it, stop the transfer. */
static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t len = size * n;

	if (len > f->body_max - f->res.body_len) {
		f->too_large = 1;
		return 0; /* CURLE_WRITE_ERROR */
	}
	f->res.body = mxt_xrealloc(f->res.body, f->res.body_len + len + 1);
	memcpy(f->res.body + f->res.body_len, p, len);
	f->res.body_len += len;
	f->res.body[f->res.body_len] = '\0';
	return len;
}

static void
on_io(struct mxt_loop *loop, int fd, unsigned ev, void *arg)
{
	struct fetch *f = arg;
	int running, mask = 0;

	if (ev & MXT_EV_READ)
		mask |= CURL_CSELECT_IN;
	if (ev & MXT_EV_WRITE)
		mask |= CURL_CSELECT_OUT;
	if (ev & MXT_EV_ERROR)
		mask |= CURL_CSELECT_ERR;
	curl_multi_socket_action(f->multi, fd, mask, &running);
	check_done(f);
}

static void
on_timer(struct mxt_loop *loop, void *arg)
{
	struct fetch *f = arg;
	int running;

	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(f);
}

static int
sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct fetch *f = userp;
	unsigned ev = 0;

	if (what == CURL_POLL_REMOVE) {
		mxt_loop_unwatch(f->loop, s);
		return 0;
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		ev |= MXT_EV_READ;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		ev |= MXT_EV_WRITE;
	mxt_loop_watch(f->loop, s, ev, on_io, f);
	return 0;
}

static int
timer_cb(CURLM *m, long timeout_ms, void *userp)
{
	struct fetch *f = userp;

	if (timeout_ms < 0)
		mxt_timer_cancel(f->loop, &f->timer);
	else
		mxt_timer_arm(f->loop, &f->timer, mxt_now_ms() + timeout_ms, on_timer, f);
	return 0;
}

/* Map curl's result onto the record's fetch outcomes. */
static enum mxt_sts_fetch
map_result(struct fetch *f, CURLcode rc)
{
	/* CURLcode has about a hundred values: compare, do not switch. */
	if (rc == CURLE_OK)
		return MXT_STS_FETCH_OK;
	/* CURLE_INTERFACE_FAILED: the --source address cannot be bound. */
	if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_INTERFACE_FAILED)
		return MXT_STS_FETCH_CONNECT;
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return MXT_STS_FETCH_TIMEOUT;
	if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ||
	    rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_CIPHER ||
	    rc == CURLE_SSL_CACERT_BADFILE || rc == CURLE_SSL_ISSUER_ERROR ||
	    rc == CURLE_SSL_PINNEDPUBKEYNOTMATCH || rc == CURLE_SSL_INVALIDCERTSTATUS)
		return MXT_STS_FETCH_TLS;
	if (rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR && f->too_large))
		return MXT_STS_FETCH_TOO_LARGE;
	return MXT_STS_FETCH_ERROR;
}

static void
finish(struct mxt_loop *loop, void *arg)
{
	struct fetch *f = arg;

	mxt_timer_cancel(f->loop, &f->timer);
	if (f->easy != NULL) {
		curl_multi_remove_handle(f->multi, f->easy);
		curl_easy_cleanup(f->easy);
	}
	curl_multi_cleanup(f->multi);
	curl_slist_free_all(f->resolve);
	f->res.duration_ms = mxt_now_ms() - f->start;
	f->cb(f->arg, &f->res);
	free(f);
}

/* After curl ran: if the transfer is over, collect the result and end from
 * a fresh loop turn (the fetch is never freed inside curl's callbacks). */
static void
check_done(struct fetch *f)
{
	CURLMsg *msg;
	int left;

	while (!f->done && (msg = curl_multi_info_read(f->multi, &left)) != NULL) {
		const char *ct = NULL;
		CURLcode rc;

		if (msg->msg != CURLMSG_DONE)
			continue;
		f->done = 1;
		rc = msg->data.result;
		f->res.status = map_result(f, rc);
		curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &f->res.http_status);
		if (curl_easy_getinfo(f->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
		    ct != NULL)
			f->res.content_type = mxt_xstrdup(ct);
		if (rc != CURLE_OK) {
			char buf[CURL_ERROR_SIZE + 64];

			if (f->too_large)
				snprintf(
				    buf, sizeof(buf), "the body is over %zu bytes", f->body_max);
			else
				snprintf(buf, sizeof(buf), "%s%s%s", curl_easy_strerror(rc),
				    f->errbuf[0] ? ": " : "", f->errbuf);
			f->res.error = mxt_xstrdup(buf);
		} else if (f->res.http_status != 200) {
			char buf[96];

			/* RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed";
			 * anything but 200 is a failed fetch. */
			snprintf(buf, sizeof(buf), "HTTP status %ld%s", f->res.http_status,
			    f->res.http_status >= 300 && f->res.http_status < 400
				? " (a redirect: not followed, RFC 8461 section 3.3)"
				: "");
			f->res.status = MXT_STS_FETCH_HTTP_STATUS;
			f->res.error = mxt_xstrdup(buf);
		} else if (ct == NULL || strncasecmp(ct, "text/plain", 10) != 0 ||
		    (ct[10] != '\0' && ct[10] != ';' && ct[10] != ' ')) {
			/* RFC 8461 §3.2: the media type is "text/plain". */
			f->res.status = MXT_STS_FETCH_MEDIA_TYPE;
			f->res.error = mxt_xstrdup("the media type is not text/plain");
		}
		mxt_timer_arm(f->loop, &f->later, mxt_now_ms(), finish, f);
	}
}

void
mxt_https_get(struct mxt_loop *loop, const struct mxt_https_req *req, mxt_https_cb *cb, void *arg)
{
	static int inited;
	struct fetch *f = mxt_xcalloc(1, sizeof(*f));
	char url[600], rs[900];

	if (!inited) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		inited = 1;
	}
	f->loop = loop;
	f->cb = cb;
	f->arg = arg;
	f->body_max = req->body_max;
	f->start = mxt_now_ms();
	f->multi = curl_multi_init();
	f->easy = curl_easy_init();
	if (f->multi == NULL || f->easy == NULL) {
		f->done = 1;
		f->res.status = MXT_STS_FETCH_ERROR;
		f->res.error = mxt_xstrdup("cannot set up libcurl");
		mxt_timer_arm(loop, &f->later, mxt_now_ms(), finish, f);
		return;
	}
	snprintf(url, sizeof(url), "https://%s%s", req->host, req->path);
	snprintf(rs, sizeof(rs), "%s:443:%s", req->host, req->addrs);
	f->resolve = curl_slist_append(NULL, rs);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	curl_easy_setopt(f->easy, CURLOPT_URL, url);
	/* Our addresses only: curl never asks the system resolver. */
	curl_easy_setopt(f->easy, CURLOPT_RESOLVE, f->resolve);
	curl_easy_setopt(f->easy, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(f->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(f->easy, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(f->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(f->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file != NULL)
		curl_easy_setopt(f->easy, CURLOPT_CAINFO, req->ca_file);
	if (req->source != NULL) {
		char iface[80];

		/* "host!": an address to bind, never an interface name; curl
		 * copies the string.  A socket binds an address of its own
		 * family only: the policy host's other addresses are left out. */
		snprintf(iface, sizeof(iface), "host!%s", req->source);
		curl_easy_setopt(f->easy, CURLOPT_INTERFACE, iface);
		curl_easy_setopt(f->easy, CURLOPT_IPRESOLVE,
		    strchr(req->source, ':') != NULL ? CURL_IPRESOLVE_V6 : CURL_IPRESOLVE_V4);
	}
	curl_easy_setopt(f->easy, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(f->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->body_max);
	curl_easy_setopt(f->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(f->easy, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->easy, CURLOPT_ERRORBUFFER, f->errbuf);
	curl_easy_setopt(f->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->easy, CURLOPT_USERAGENT, "mxtrace (MTA-STS policy fetch)");
	curl_multi_add_handle(f->multi, f->easy);
	/* curl_multi_add_handle() arms the timer; the transfer starts from
	 * the loop when it fires. */
}

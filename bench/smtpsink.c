/* SPDX-License-Identifier: MIT */
/*
 * smtpsink: a cheap SMTP server for the latency lab's throughput benchmark
 * (bench/latency.sh, B3), so that the lab's server side costs little CPU
 * and the benchmark measures the client, not Postfix's process-per-session
 * model on a 2-core machine.  One process, one epoll loop, non-blocking
 * OpenSSL.
 *
 * It speaks just enough ESMTP for a probe: 220 banner; EHLO/HELO with
 * PIPELINING, SIZE, 8BITMIME, ENHANCEDSTATUSCODES and (before TLS)
 * STARTTLS; STARTTLS (RFC 3207: forget the state, wait for a new EHLO);
 * MAIL, RCPT (250 for postmaster, user and test at any domain, 550 5.1.1
 * otherwise), RSET, NOOP, DATA (accepts and discards the message), QUIT.
 * Commands are answered in order as they arrive, so pipelined commands
 * (RFC 2920) work.  It never relays, stores or forwards anything.
 *
 * Benchmark tool only: listen on loopback inside a lab network namespace.
 * Usage: smtpsink LISTEN_ADDR:PORT CERT.pem KEY.pem HOSTNAME
 * Prints "ready" on stdout once listening.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "mxtrace/xalloc.h"

#define LINE_MAX_LEN 1000 /* RFC 5321 §4.5.3.1.4: 1000 octets per command line */
#define IN_CAP 8192
#define OUT_CAP 8192

struct sess {
	int fd;
	SSL *ssl;
	bool handshaking, in_data, closing;
	char in[IN_CAP];
	size_t in_len;
	char out[OUT_CAP];
	size_t out_len;
};

static SSL_CTX *ctx;
static const char *hostname;
static volatile sig_atomic_t stop;

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

static void
reply(struct sess *s, const char *text)
{
	size_t n = strlen(text);

	if (s->out_len + n > OUT_CAP) {
		s->closing = true;
		return;
	}
	memcpy(s->out + s->out_len, text, n);
	s->out_len += n;
}

static void
sess_free(struct sess *s)
{
	if (s->ssl != NULL)
		SSL_free(s->ssl);
	close(s->fd);
	free(s);
}

/* Write what is queued.  Returns -1 on a dead connection. */
static int
flush_out(struct sess *s)
{
	size_t off = 0;
	ssize_t n;

	while (off < s->out_len) {
		if (s->ssl != NULL && !s->handshaking) {
			int w = SSL_write(s->ssl, s->out + off, (int)(s->out_len - off));

			if (w <= 0) {
				int e = SSL_get_error(s->ssl, w);

				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ)
					break;
				return -1;
			}
			n = w;
		} else {
			n = send(s->fd, s->out + off, s->out_len - off, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				return -1;
			}
		}
		off += (size_t)n;
	}
	memmove(s->out, s->out + off, s->out_len - off);
	s->out_len -= off;
	return 0;
}

static bool
good_rcpt(const char *arg)
{
	const char *lt = strchr(arg, '<');

	if (lt == NULL)
		return false;
	lt++;
	return strncasecmp(lt, "postmaster@", 11) == 0 || strncasecmp(lt, "user@", 5) == 0 ||
	    strncasecmp(lt, "test@", 5) == 0;
}

/* One command line (without CRLF).  Returns true when the session switches
 * to TLS after this line (the rest of the buffer must be discarded: RFC
 * 3207 §4.2 forbids pipelining after STARTTLS). */
static bool
command(struct sess *s, char *line)
{
	char buf[256];

	if (s->in_data) {
		if (strcmp(line, ".") == 0) {
			s->in_data = false;
			reply(s, "250 2.0.0 Ok: discarded\r\n");
		}
		return false;
	}
	if (strncasecmp(line, "EHLO", 4) == 0) {
		snprintf(buf, sizeof(buf),
		    "250-%s\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n%s"
		    "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n",
		    hostname, s->ssl == NULL ? "250-STARTTLS\r\n" : "");
		reply(s, buf);
	} else if (strncasecmp(line, "HELO", 4) == 0) {
		snprintf(buf, sizeof(buf), "250 %s\r\n", hostname);
		reply(s, buf);
	} else if (strncasecmp(line, "STARTTLS", 8) == 0 && s->ssl == NULL) {
		reply(s, "220 2.0.0 Ready to start TLS\r\n");
		return true;
	} else if (strncasecmp(line, "MAIL", 4) == 0 || strncasecmp(line, "RSET", 4) == 0 ||
	    strncasecmp(line, "NOOP", 4) == 0) {
		reply(s, "250 2.0.0 Ok\r\n");
	} else if (strncasecmp(line, "RCPT", 4) == 0) {
		reply(s,
		    good_rcpt(line) ? "250 2.1.5 Ok\r\n"
				    : "550 5.1.1 Recipient address rejected: User unknown\r\n");
	} else if (strncasecmp(line, "DATA", 4) == 0) {
		s->in_data = true;
		reply(s, "354 End data with <CR><LF>.<CR><LF>\r\n");
	} else if (strncasecmp(line, "QUIT", 4) == 0) {
		reply(s, "221 2.0.0 Bye\r\n");
		s->closing = true;
	} else {
		reply(s, "502 5.5.2 Error: command not recognized\r\n");
	}
	return false;
}

/* Run every complete line in the input buffer. */
static void
lines(struct sess *s)
{
	size_t start = 0, i;

	for (i = 0; i < s->in_len && !s->closing; i++) {
		if (s->in[i] != '\n')
			continue;
		s->in[i] = '\0';
		if (i > start && s->in[i - 1] == '\r')
			s->in[i - 1] = '\0';
		if (command(s, s->in + start)) {
			/* STARTTLS: send the 220 in clear, then handshake. */
			if (flush_out(s) < 0 || s->out_len > 0) {
				s->closing = true;
				return;
			}
			s->ssl = SSL_new(ctx);
			if (s->ssl == NULL || SSL_set_fd(s->ssl, s->fd) != 1) {
				s->closing = true;
				return;
			}
			SSL_set_accept_state(s->ssl);
			s->handshaking = true;
			s->in_len = 0;
			return;
		}
		start = i + 1;
	}
	memmove(s->in, s->in + start, s->in_len - start);
	s->in_len -= start;
	if (s->in_len >= LINE_MAX_LEN + 2 && !s->in_data)
		s->closing = true; /* an over-long line: hang up */
	else if (s->in_len == IN_CAP)
		s->in_len = 0; /* an over-long data line: drop it */
}

/* Readable (or writable during a handshake): make progress. */
static int
on_event(struct sess *s)
{
	ssize_t n;
	int r, e;

	for (;;) {
		if (s->handshaking) {
			r = SSL_do_handshake(s->ssl);
			if (r != 1) {
				e = SSL_get_error(s->ssl, r);
				return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0
											     : -1;
			}
			s->handshaking = false;
		}
		if (s->ssl != NULL) {
			r = SSL_read(s->ssl, s->in + s->in_len, (int)(IN_CAP - s->in_len));
			if (r <= 0) {
				e = SSL_get_error(s->ssl, r);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
					break;
				return -1;
			}
			n = r;
		} else {
			n = recv(s->fd, s->in + s->in_len, IN_CAP - s->in_len, 0);
			if (n == 0)
				return -1;
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK)
					break;
				return -1;
			}
		}
		s->in_len += (size_t)n;
		lines(s);
		if (flush_out(s) < 0)
			return -1;
		if (s->closing)
			return -1;
	}
	return flush_out(s);
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sa;
	struct epoll_event ev, evs[256];
	struct rlimit rl;
	struct sess *s;
	char host[64], *colon, *end;
	unsigned long port;
	int lfd, ep, fd, n, i, one = 1;

	if (argc != 5) {
		fprintf(stderr, "usage: smtpsink ADDR:PORT CERT.pem KEY.pem HOSTNAME\n");
		return 2;
	}
	colon = strrchr(argv[1], ':');
	if (colon == NULL || (size_t)(colon - argv[1]) >= sizeof(host))
		return 2;
	memcpy(host, argv[1], (size_t)(colon - argv[1]));
	host[colon - argv[1]] = '\0';
	port = strtoul(colon + 1, &end, 10);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (*end != '\0' || port == 0 || port > 65535 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "smtpsink: bad address %s\n", argv[1]);
		return 2;
	}
	hostname = argv[4];
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, argv[2]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, argv[3], SSL_FILETYPE_PEM) != 1) {
		ERR_print_errors_fp(stderr);
		return 1;
	}
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	(void)setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 4096) < 0)
		die("bind/listen");
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		die("epoll_ctl");
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop) {
		n = epoll_wait(ep, evs, 256, 1000);
		for (i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL) {
				while ((fd = accept4(
					    lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
					(void)setsockopt(
					    fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					s = mxt_xcalloc(1, sizeof(*s));
					s->fd = fd;
					ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
					ev.data.ptr = s;
					if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
						sess_free(s);
						continue;
					}
					reply(s, "220 ");
					reply(s, hostname);
					reply(s, " ESMTP smtpsink (mxtrace latency lab)\r\n");
					if (flush_out(s) < 0)
						sess_free(s);
				}
				continue;
			}
			s = evs[i].data.ptr;
			if (on_event(s) < 0 || (s->closing && s->out_len == 0))
				sess_free(s);
		}
	}
	return 0;
}

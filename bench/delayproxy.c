/* SPDX-License-Identifier: MIT */
/*
 * delayproxy: a user-space latency emulator for the benchmark lab, where
 * the kernel has no netem.  One process, one epoll loop, any number of
 * mappings:
 *
 *   tcp    LISTEN UPSTREAM [DELAY_MS]   forward a TCP connection both ways;
 *                                       every chunk read on one side is
 *                                       written to the other DELAY_MS after
 *                                       it was read (one-way delay, so a
 *                                       request/reply costs 2 x DELAY_MS)
 *   udp    LISTEN UPSTREAM [DELAY_MS]   the same for DNS over UDP: queries
 *                                       and answers are each delayed
 *   tarpit LISTEN                       accept, read and discard, never
 *                                       answer (a server that hangs)
 *
 * Addresses are A.B.C.D:PORT or [V6]:PORT.  DELAY_MS defaults to -d.
 * The kernel completes a TCP handshake before accept(), so the connect
 * round trip cannot be delayed; instead (unless -C) the first bytes from
 * the server are held until 2 round trips after accept: the client sees
 * connect + banner take the same total time as on a real path (SYN,
 * SYN-ACK, ACK, banner), only split differently.  A refused connection is
 * instant in the lab (nothing listens), and dropped SYNs are nftables'
 * job, not this program's.
 *
 * It does not limit bandwidth, reorder, lose packets or look inside the
 * byte stream (only the UDP mapping rewrites the 16-bit DNS id so that
 * several clients can use one upstream socket).  Benchmark tool only:
 * listen on loopback inside a lab network namespace.
 *
 * Usage: delayproxy [-a ADDR:PORT] [-d MS] [-C] [-t SECONDS] [-f FILE] [MAPPING...]
 * With -a, SIGUSR1 switches every tcp mapping's new connections to that
 * alternate upstream and back (B3 measures against two kinds of server
 * without restarting the lab).  A MAPPING argument is a config line with commas for spaces,
 * e.g. tcp,127.0.9.1:25,127.0.1.1:25,25.  Prints "ready" on stdout once
 * every socket is bound.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "mxtrace/xalloc.h"

#define READ_SIZE 16384
#define QUEUE_CAP (1024 * 1024) /* stop reading a side past this backlog */
#define UDP_IDS 65536
#define GONE UINT32_MAX /* event mask of a socket taken out of epoll */

enum kind {
	K_LISTEN,
	K_TARPIT_LISTEN,
	K_CLIENT,
	K_UPSTREAM,
	K_TARPIT,
	K_UDP_FRONT,
	K_UDP_BACK,
};

/* What an epoll event points at. */
struct handle {
	enum kind kind;
	void *obj;
};

struct mapping {
	enum kind kind; /* K_LISTEN, K_TARPIT_LISTEN or K_UDP_FRONT */
	struct sockaddr_storage listen, upstream;
	socklen_t listen_len, upstream_len;
	uint64_t delay_us;
	int fd;
	struct handle h;
	/* UDP only. */
	int back_fd;
	struct handle hb;
	struct udp_slot *slots;
	uint16_t next_id;
	struct udpq *to_up, *to_client; /* FIFO queues, due times ascending */
	struct udpq *to_up_tail, *to_client_tail;
};

struct chunk {
	struct chunk *next;
	uint64_t due;
	size_t len, off;
	bool eof;
	unsigned char data[];
};

/* One direction of a proxied connection. */
struct dir {
	struct chunk *head, *tail;
	size_t queued;
	uint64_t not_before; /* first release no earlier than this */
	bool eof_read, eof_sent, want_out, armed;
};

struct conn {
	struct conn *next_free;
	unsigned gen;
	int cfd, ufd;
	uint32_t cmask, umask; /* events registered for cfd, ufd */
	bool connected;
	uint64_t delay_us;
	struct dir c2s, s2c;
	struct handle hc, hu;
};

struct udp_slot {
	struct sockaddr_storage client;
	socklen_t client_len;
	uint16_t orig_id;
	bool used;
};

struct udpq {
	struct udpq *next;
	uint64_t due;
	struct sockaddr_storage to;
	socklen_t to_len;
	size_t len;
	unsigned char data[];
};

/* A timer: "flush this direction (or UDP queue) at due". */
struct tev {
	uint64_t due;
	void *obj;
	unsigned gen;
	int which; /* 0 c2s, 1 s2c, 2 udp to upstream, 3 udp to client */
};

static int ep;
static struct tev *heap;
static size_t heap_len, heap_cap;
static struct conn *free_conns, *dying_conns;
static bool emulate_connect = true;
static volatile sig_atomic_t stop, use_alt;
static struct sockaddr_storage alt;
static socklen_t alt_len;
static unsigned long long n_conns, n_udp;

static uint64_t
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
die(const char *what)
{
	perror(what);
	exit(1);
}

/* Min-heap of timers ordered by due time. */
static void
heap_push(struct tev t)
{
	size_t i;

	if (heap_len == heap_cap) {
		heap_cap = heap_cap ? heap_cap * 2 : 1024;
		heap = mxt_xreallocarray(heap, heap_cap, sizeof(*heap));
	}
	i = heap_len++;
	while (i > 0 && heap[(i - 1) / 2].due > t.due) {
		heap[i] = heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	heap[i] = t;
}

static struct tev
heap_pop(void)
{
	struct tev top = heap[0], last = heap[--heap_len];
	size_t i = 0, c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= heap_len)
			break;
		if (c + 1 < heap_len && heap[c + 1].due < heap[c].due)
			c++;
		if (heap[c].due >= last.due)
			break;
		heap[i] = heap[c];
		i = c;
	}
	if (heap_len > 0)
		heap[i] = last;
	return top;
}

static void
set_nodelay(int fd)
{
	int one = 1;

	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void
ep_add(int fd, uint32_t ev, struct handle *h)
{
	struct epoll_event e = {.events = ev, .data.ptr = h};

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0)
		die("epoll_ctl add");
}

static void
ep_mod(int fd, uint32_t ev, struct handle *h)
{
	struct epoll_event e = {.events = ev, .data.ptr = h};

	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e) < 0)
		die("epoll_ctl mod");
}

/* Parse A.B.C.D:PORT or [V6]:PORT. */
static bool
parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[64];
	const char *colon, *port;
	size_t n;
	char *end;
	unsigned long p;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		colon = strstr(s, "]:");
		if (colon == NULL)
			return false;
		n = (size_t)(colon - s - 1);
		port = colon + 2;
		if (n >= sizeof(host))
			return false;
		memcpy(host, s + 1, n);
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return false;
		n = (size_t)(colon - s);
		port = colon + 1;
		if (n >= sizeof(host))
			return false;
		memcpy(host, s, n);
	}
	host[n] = '\0';
	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno != 0 || *end != '\0' || p == 0 || p > 65535)
		return false;
	if (s[0] == '[') {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
			return false;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)p);
		*len = sizeof(*a6);
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
			return false;
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)p);
		*len = sizeof(*a4);
	}
	return true;
}

/* ---- TCP ---------------------------------------------------------------- */

static struct conn *
conn_new(void)
{
	struct conn *c = free_conns;
	unsigned gen;

	if (c != NULL) {
		free_conns = c->next_free;
		gen = c->gen + 1;
	} else {
		c = mxt_xmalloc(sizeof(*c));
		gen = 1;
	}
	memset(c, 0, sizeof(*c));
	c->gen = gen;
	c->cfd = c->ufd = -1;
	return c;
}

static void
dir_clear(struct dir *d)
{
	struct chunk *ch, *next;

	for (ch = d->head; ch != NULL; ch = next) {
		next = ch->next;
		free(ch);
	}
	d->head = d->tail = NULL;
	d->queued = 0;
}

/* Close both sockets.  Stale timers see a new generation and are ignored;
 * the object is reused only after the current batch of events, which may
 * still name it. */
static void
conn_close(struct conn *c)
{
	if (c->cfd >= 0)
		close(c->cfd);
	if (c->ufd >= 0)
		close(c->ufd);
	dir_clear(&c->c2s);
	dir_clear(&c->s2c);
	c->cfd = c->ufd = -1;
	c->gen++;
	c->next_free = dying_conns;
	dying_conns = c;
}

/* Register what each socket of c waits for now. */
static void
conn_update(struct conn *c)
{
	uint32_t cm = 0, um = 0;

	if (!c->c2s.eof_read && c->c2s.queued < QUEUE_CAP)
		cm |= EPOLLIN;
	if (c->s2c.want_out)
		cm |= EPOLLOUT;
	if (!c->connected)
		um |= EPOLLOUT;
	else {
		if (!c->s2c.eof_read && c->s2c.queued < QUEUE_CAP)
			um |= EPOLLIN;
		if (c->c2s.want_out)
			um |= EPOLLOUT;
	}
	if (c->cmask != GONE && cm != c->cmask) {
		ep_mod(c->cfd, cm, &c->hc);
		c->cmask = cm;
	}
	if (c->umask != GONE && um != c->umask) {
		ep_mod(c->ufd, um, &c->hu);
		c->umask = um;
	}
}

static void
arm(struct conn *c, int which)
{
	struct dir *d = which == 0 ? &c->c2s : &c->s2c;

	if (d->armed || d->want_out || d->head == NULL)
		return;
	d->armed = true;
	heap_push((struct tev){.due = d->head->due, .obj = c, .gen = c->gen, .which = which});
}

static void
enqueue(struct conn *c, int which, const unsigned char *buf, size_t n, bool eof, uint64_t now)
{
	struct dir *d = which == 0 ? &c->c2s : &c->s2c;
	struct chunk *ch = mxt_xmalloc(sizeof(*ch) + n);
	uint64_t due = now + c->delay_us;

	if (due < d->not_before)
		due = d->not_before;
	/* Keep FIFO order even if the delay changed under us. */
	if (d->tail != NULL && due < d->tail->due)
		due = d->tail->due;
	ch->next = NULL;
	ch->due = due;
	ch->len = n;
	ch->off = 0;
	ch->eof = eof;
	if (n > 0)
		memcpy(ch->data, buf, n);
	if (d->tail != NULL)
		d->tail->next = ch;
	else
		d->head = ch;
	d->tail = ch;
	d->queued += n;
	arm(c, which);
}

/* Write every due chunk of one direction.  Returns false when the
 * connection was closed. */
static bool
flush_dir(struct conn *c, int which, uint64_t now)
{
	struct dir *d = which == 0 ? &c->c2s : &c->s2c;
	int to = which == 0 ? c->ufd : c->cfd;
	struct chunk *ch;
	ssize_t n;

	if (which == 0 && !c->connected)
		return true; /* the connect completion flushes */
	d->want_out = false;
	while ((ch = d->head) != NULL && ch->due <= now) {
		if (ch->eof) {
			(void)shutdown(to, SHUT_WR);
			d->eof_sent = true;
		} else {
			n = send(to, ch->data + ch->off, ch->len - ch->off, MSG_NOSIGNAL);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					d->want_out = true;
					break;
				}
				conn_close(c);
				return false;
			}
			ch->off += (size_t)n;
			d->queued -= (size_t)n;
			if (ch->off < ch->len)
				continue;
		}
		d->head = ch->next;
		if (d->head == NULL)
			d->tail = NULL;
		free(ch);
	}
	if (c->c2s.eof_sent && c->s2c.eof_sent) {
		conn_close(c);
		return false;
	}
	arm(c, which);
	conn_update(c);
	return true;
}

/* Read what one side has and queue it for the other. */
static void
on_readable(struct conn *c, int which, uint64_t now)
{
	unsigned char buf[READ_SIZE];
	struct dir *d = which == 0 ? &c->c2s : &c->s2c;
	int from = which == 0 ? c->cfd : c->ufd;
	ssize_t n;

	while (!d->eof_read && d->queued < QUEUE_CAP) {
		n = recv(from, buf, sizeof(buf), 0);
		if (n > 0) {
			enqueue(c, which, buf, (size_t)n, false, now);
			continue;
		}
		if (n == 0) {
			d->eof_read = true;
			enqueue(c, which, NULL, 0, true, now);
			break;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		if (errno == EINTR)
			continue;
		conn_close(c); /* reset: drop both sides now */
		return;
	}
	conn_update(c);
}

static void
on_accept(struct mapping *m, uint64_t now)
{
	const struct sockaddr_storage *up;
	socklen_t up_len;
	struct conn *c;
	int fd, ufd;

	for (;;) {
		fd = accept4(m->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				perror("delayproxy: accept");
			return;
		}
		n_conns++;
		if (m->kind == K_TARPIT_LISTEN) {
			struct handle *h = mxt_xmalloc(sizeof(*h));

			h->kind = K_TARPIT;
			h->obj = (void *)(intptr_t)fd;
			ep_add(fd, EPOLLIN, h);
			continue;
		}
		up = use_alt ? &alt : &m->upstream;
		up_len = use_alt ? alt_len : m->upstream_len;
		ufd = socket(up->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (ufd < 0) {
			perror("delayproxy: socket");
			close(fd);
			continue;
		}
		set_nodelay(fd);
		set_nodelay(ufd);
		if (connect(ufd, (const struct sockaddr *)up, up_len) < 0 && errno != EINPROGRESS) {
			close(fd);
			close(ufd);
			continue;
		}
		c = conn_new();
		c->cfd = fd;
		c->ufd = ufd;
		c->delay_us = m->delay_us;
		if (emulate_connect)
			c->s2c.not_before = now + 4 * m->delay_us;
		c->hc = (struct handle){K_CLIENT, c};
		c->hu = (struct handle){K_UPSTREAM, c};
		c->cmask = EPOLLIN;
		c->umask = EPOLLOUT;
		ep_add(fd, c->cmask, &c->hc);
		ep_add(ufd, c->umask, &c->hu);
	}
}

/* Events on one socket of a connection: side 0 is the client socket
 * (reads feed c2s, writes drain s2c), side 1 the upstream socket. */
static void
on_conn_event(struct conn *c, int side, uint32_t ev, uint64_t now)
{
	struct dir *rd = side == 0 ? &c->c2s : &c->s2c;
	struct dir *wr = side == 0 ? &c->s2c : &c->c2s;
	int fd = side == 0 ? c->cfd : c->ufd, err = 0;
	socklen_t len = sizeof(err);
	unsigned gen = c->gen;

	if (side == 1 && !c->connected) {
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err != 0 ||
		    (ev & EPOLLERR)) {
			conn_close(c);
			return;
		}
		c->connected = true;
		if (flush_dir(c, 0, now))
			conn_update(c);
		return;
	}
	if (ev & EPOLLERR) {
		conn_close(c); /* reset: drop both sides now */
		return;
	}
	if ((ev & EPOLLOUT) && !flush_dir(c, 1 - side, now))
		return;
	if (ev & (EPOLLIN | EPOLLHUP))
		on_readable(c, side, now);
	if (c->gen != gen || !(ev & EPOLLHUP))
		return;
	/* Both directions of this socket are shut: nothing more to read or
	 * write on it.  Stop watching it (a hung-up socket is always ready). */
	if (rd->eof_read && wr->eof_sent) {
		(void)epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
		if (side == 0)
			c->cmask = GONE;
		else
			c->umask = GONE;
	} else
		conn_close(c);
}

static void
on_tarpit(struct handle *h)
{
	unsigned char buf[READ_SIZE];
	int fd = (int)(intptr_t)h->obj;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0 && errno == EINTR)
			continue;
		close(fd);
		free(h);
		return;
	}
}

/* ---- UDP (DNS) ------------------------------------------------------------ */

static void
udp_enqueue(struct mapping *m, int which, const unsigned char *buf, size_t n,
    const struct sockaddr_storage *to, socklen_t to_len, uint64_t now)
{
	struct udpq **head = which == 2 ? &m->to_up : &m->to_client;
	struct udpq **tail = which == 2 ? &m->to_up_tail : &m->to_client_tail;
	struct udpq *q = mxt_xmalloc(sizeof(*q) + n);
	bool was_empty = *head == NULL;

	q->next = NULL;
	q->due = now + m->delay_us;
	if (to != NULL)
		memcpy(&q->to, to, sizeof(q->to));
	q->to_len = to_len;
	q->len = n;
	memcpy(q->data, buf, n);
	if (was_empty)
		*head = q;
	else
		(*tail)->next = q;
	*tail = q;
	if (was_empty)
		heap_push((struct tev){.due = q->due, .obj = m, .gen = 0, .which = which});
}

static void
udp_flush(struct mapping *m, int which, uint64_t now)
{
	struct udpq **head = which == 2 ? &m->to_up : &m->to_client;
	struct udpq *q;

	while ((q = *head) != NULL && q->due <= now) {
		if (which == 2)
			(void)send(m->back_fd, q->data, q->len, 0);
		else
			(void)sendto(
			    m->fd, q->data, q->len, 0, (struct sockaddr *)&q->to, q->to_len);
		*head = q->next;
		free(q);
	}
	if (*head != NULL)
		heap_push((struct tev){.due = (*head)->due, .obj = m, .gen = 0, .which = which});
}

/* A query from a client: remember who asked under a fresh id. */
static void
on_udp_front(struct mapping *m, uint64_t now)
{
	unsigned char buf[65536];
	struct sockaddr_storage from;
	socklen_t flen;
	ssize_t n;
	struct udp_slot *s;
	uint16_t id;

	for (;;) {
		flen = sizeof(from);
		n = recvfrom(m->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
		if (n < 0)
			return;
		if (n < 12)
			continue;
		n_udp++;
		id = m->next_id++;
		s = &m->slots[id];
		s->client = from;
		s->client_len = flen;
		s->orig_id = (uint16_t)(buf[0] << 8 | buf[1]);
		s->used = true;
		buf[0] = (unsigned char)(id >> 8);
		buf[1] = (unsigned char)id;
		udp_enqueue(m, 2, buf, (size_t)n, NULL, 0, now);
	}
}

/* An answer from upstream: give it back its id and send it on later. */
static void
on_udp_back(struct mapping *m, uint64_t now)
{
	unsigned char buf[65536];
	ssize_t n;
	struct udp_slot *s;

	for (;;) {
		n = recv(m->back_fd, buf, sizeof(buf), 0);
		if (n < 0)
			return;
		if (n < 12)
			continue;
		s = &m->slots[(uint16_t)(buf[0] << 8 | buf[1])];
		if (!s->used)
			continue;
		s->used = false;
		buf[0] = (unsigned char)(s->orig_id >> 8);
		buf[1] = (unsigned char)s->orig_id;
		udp_enqueue(m, 3, buf, (size_t)n, &s->client, s->client_len, now);
	}
}

/* ---- set-up ------------------------------------------------------------- */

/* Big UDP buffers: a batch sends thousands of queries in one burst, and a
 * drop here would look like a slow resolver (c-ares retries after 2 s). */
static void
big_buffers(int fd)
{
	int size = 8 * 1024 * 1024;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
}

static int
bind_socket(struct mapping *m, int type)
{
	int one = 1, fd = socket(m->listen.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		die("socket");
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&m->listen, m->listen_len) < 0)
		return -1;
	return fd;
}

static void
add_mapping(char *line, uint64_t default_delay_us, const char *where)
{
	char *f[5], *save = NULL, *tok;
	int nf = 0;
	struct mapping *m;
	char *end;
	double ms;

	for (tok = strtok_r(line, " \t\r\n,", &save); tok != NULL && nf < 5;
	     tok = strtok_r(NULL, " \t\r\n,", &save))
		f[nf++] = tok;
	if (nf == 0 || f[0][0] == '#')
		return;
	m = mxt_xcalloc(1, sizeof(*m));
	m->delay_us = default_delay_us;
	if (strcmp(f[0], "tcp") == 0 || strcmp(f[0], "udp") == 0) {
		if (nf < 3 || nf > 4)
			goto bad;
		m->kind = f[0][0] == 't' ? K_LISTEN : K_UDP_FRONT;
		if (!parse_addr(f[2], &m->upstream, &m->upstream_len))
			goto bad;
		if (nf == 4) {
			ms = strtod(f[3], &end);
			if (*end != '\0' || ms < 0 || ms > 60000)
				goto bad;
			m->delay_us = (uint64_t)(ms * 1000);
		}
	} else if (strcmp(f[0], "tarpit") == 0) {
		if (nf != 2)
			goto bad;
		m->kind = K_TARPIT_LISTEN;
	} else
		goto bad;
	if (!parse_addr(f[1], &m->listen, &m->listen_len))
		goto bad;
	m->h = (struct handle){m->kind, m};
	if (m->kind == K_UDP_FRONT) {
		m->fd = bind_socket(m, SOCK_DGRAM);
		if (m->fd < 0)
			goto bind_failed;
		m->back_fd =
		    socket(m->upstream.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (m->back_fd < 0 ||
		    connect(m->back_fd, (struct sockaddr *)&m->upstream, m->upstream_len) < 0)
			die("udp upstream");
		big_buffers(m->fd);
		big_buffers(m->back_fd);
		m->slots = mxt_xcalloc(UDP_IDS, sizeof(*m->slots));
		m->hb = (struct handle){K_UDP_BACK, m};
		ep_add(m->fd, EPOLLIN, &m->h);
		ep_add(m->back_fd, EPOLLIN, &m->hb);
	} else {
		m->fd = bind_socket(m, SOCK_STREAM);
		if (m->fd < 0)
			goto bind_failed;
		if (listen(m->fd, 4096) < 0)
			die("listen");
		ep_add(m->fd, EPOLLIN, &m->h);
	}
	return;
bind_failed:
	fprintf(stderr, "delayproxy: %s: cannot bind %s: %s\n", where, f[1], strerror(errno));
	exit(1);
bad:
	fprintf(stderr,
	    "delayproxy: %s: bad mapping (want tcp|udp LISTEN UPSTREAM [MS] "
	    "or tarpit LISTEN)\n",
	    where);
	exit(2);
}

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		use_alt = !use_alt;
	else
		stop = 1;
}

static void
usage(void)
{
	fprintf(stderr,
	    "usage: delayproxy [-a ADDR:PORT] [-d MS] [-C] [-t SECONDS] [-f FILE] "
	    "[MAPPING...]\n"
	    "  MAPPING: tcp,LISTEN,UPSTREAM[,MS] | udp,LISTEN,UPSTREAM[,MS] | "
	    "tarpit,LISTEN\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	uint64_t delay_us = 25000, deadline = 0, now;
	struct epoll_event evs[256];
	struct rlimit rl;
	struct timespec ts;
	struct tev t;
	struct conn *c;
	char line[512], where[600];
	FILE *fp;
	int opt, n, i, lineno;
	double v;
	char *end;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	/* Thousands of listeners and connections: lift the soft fd limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	while ((opt = getopt(argc, argv, "a:d:Ct:f:")) != -1) {
		switch (opt) {
		case 'd':
			v = strtod(optarg, &end);
			if (*end != '\0' || v < 0 || v > 60000)
				usage();
			delay_us = (uint64_t)(v * 1000);
			break;
		case 'a':
			if (!parse_addr(optarg, &alt, &alt_len))
				usage();
			break;
		case 'C':
			emulate_connect = false;
			break;
		case 't':
			v = strtod(optarg, &end);
			if (*end != '\0' || v <= 0)
				usage();
			deadline = now_us() + (uint64_t)(v * 1e6);
			break;
		case 'f':
			fp = fopen(optarg, "r");
			if (fp == NULL)
				die(optarg);
			lineno = 0;
			while (fgets(line, sizeof(line), fp) != NULL) {
				lineno++;
				snprintf(where, sizeof(where), "%s:%d", optarg, lineno);
				add_mapping(line, delay_us, where);
			}
			fclose(fp);
			break;
		default:
			usage();
		}
	}
	for (i = optind; i < argc; i++) {
		snprintf(line, sizeof(line), "%s", argv[i]);
		add_mapping(line, delay_us, "argument");
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (alt_len > 0)
		signal(SIGUSR1, on_signal);
	signal(SIGPIPE, SIG_IGN);
	printf("ready\n");
	fflush(stdout);

	while (!stop) {
		now = now_us();
		if (deadline != 0 && now >= deadline)
			break;
		/* Run every due timer. */
		while (heap_len > 0 && heap[0].due <= now) {
			t = heap_pop();
			if (t.which >= 2) {
				udp_flush(t.obj, t.which, now);
				continue;
			}
			c = t.obj;
			if (c->gen != t.gen)
				continue;
			(t.which == 0 ? &c->c2s : &c->s2c)->armed = false;
			flush_dir(c, t.which, now);
		}
		if (heap_len > 0) {
			uint64_t wait = heap[0].due - now;

			ts.tv_sec = (time_t)(wait / 1000000u);
			ts.tv_nsec = (long)(wait % 1000000u) * 1000;
		} else {
			ts.tv_sec = 1;
			ts.tv_nsec = 0;
		}
		n = epoll_pwait2(ep, evs, 256, &ts, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_pwait2");
		}
		now = now_us();
		for (i = 0; i < n; i++) {
			struct handle *h = evs[i].data.ptr;

			switch (h->kind) {
			case K_LISTEN:
			case K_TARPIT_LISTEN:
				on_accept(h->obj, now);
				break;
			case K_CLIENT:
			case K_UPSTREAM:
				c = h->obj;
				if (c->cfd >= 0)
					on_conn_event(c, h->kind == K_UPSTREAM, evs[i].events, now);
				break;
			case K_TARPIT:
				on_tarpit(h);
				break;
			case K_UDP_FRONT:
				on_udp_front(h->obj, now);
				break;
			case K_UDP_BACK:
				on_udp_back(h->obj, now);
				break;
			}
		}
		while ((c = dying_conns) != NULL) {
			dying_conns = c->next_free;
			c->next_free = free_conns;
			free_conns = c;
		}
	}
	fprintf(stderr, "delayproxy: %llu connections, %llu datagrams\n", n_conns, n_udp);
	return 0;
}

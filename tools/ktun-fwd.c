// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * ktun-fwd: a point-to-point UDP tunnel endpoint with no crypto: the data
 * path of a userspace VPN and nothing else (OpenVPN with --cipher none,
 * stripped). Each packet the stack routes to the TUN/TAP interface leaves
 * as one UDP datagram to the peer, and each datagram from the peer enters
 * the stack as one packet. Two of them, one at each end, make a tunnel.
 *
 *   stack <-> [ifname queue q] <-> ktun-fwd threads <-> UDP local:P+q <-> remote:P'+q
 *
 * Each queue has two threads, one per direction:
 *   dev_to_sock  takes a batch of packets from the device, sends them with
 *                one sendmmsg();
 *   sock_to_dev  takes a batch of datagrams with one recvmmsg(), hands them
 *                to the device.
 * The device side is either plain read()/write(), one system call per
 * packet, which works on every TUN driver (--io rw), or ktun's
 * shared-memory rings through libktun's batch API, where a busy tunnel
 * makes no device system calls at all (--io ring). Both look alike to the
 * threads: fwd_dev.c hides the difference behind get/put-a-batch calls.
 *
 * Waiting is always a poll() that also watches one eventfd, so a signal
 * stops every thread at once without racing a blocking call.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>

#include "fwd.h"

/* --- stopping ------------------------------------------------------------- */

static int fwd_stop_fd = -1;
static atomic_int fwd_stopping;
static atomic_int fwd_failed;

static void fwd_stop(void)
{
	uint64_t one = 1;

	atomic_store(&fwd_stopping, 1);
	/* A full eventfd counter cannot happen here: it only ever gets ones. */
	if (write(fwd_stop_fd, &one, sizeof(one)) < 0)
		perror("ktun-fwd: eventfd");
}

bool fwd_should_stop(void)
{
	return atomic_load_explicit(&fwd_stopping, memory_order_relaxed);
}

void fwd_fail(const struct fwd_queue *q, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ktun-fwd: %s queue %d: ", q->ifname, q->idx);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	atomic_store(&fwd_failed, 1);
	fwd_stop();
}

int fwd_wait(int fd, short events)
{
	struct pollfd p[2] = {
		{ .fd = fd, .events = events },
		{ .fd = fwd_stop_fd, .events = POLLIN },
	};

	for (;;) {
		if (fwd_should_stop())
			return -1;
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents)
			return -1;
		/* POLLERR/POLLHUP too: the next call on fd says what broke. */
		if (p[0].revents)
			return 0;
	}
}

/* --- the socket side ------------------------------------------------------ */

/*
 * Errors of a datagram socket that cost one datagram and say nothing about
 * the socket: the peer not listening yet (an ICMP port unreachable comes
 * back as ECONNREFUSED on the next call), no route for a moment, a
 * firewall, a full device queue, a datagram too large for the path.
 */
static bool sock_err_transient(int err)
{
	switch (err) {
	case ECONNREFUSED: case EHOSTUNREACH: case ENETUNREACH: case EHOSTDOWN:
	case ENETDOWN: case ENOBUFS: case EPERM: case EMSGSIZE:
		return true;
	}
	return false;
}

/* Sends @n datagrams; the ones the network refuses are counted and dropped. */
static int sock_send_batch(struct fwd_queue *q, struct mmsghdr *m, unsigned int n)
{
	struct fwd_stats *st = &q->to_sock;
	unsigned int i = 0;

	while (i < n) {
		int r = sendmmsg(q->sock, m + i, n - i, MSG_DONTWAIT);

		if (r > 0) {
			for (int j = 0; j < r; j++)
				fwd_stat_add(&st->bytes, m[i + j].msg_len);
			fwd_stat_add(&st->packets, r);
			i += r;
		} else if (errno == EAGAIN) {
			if (fwd_wait(q->sock, POLLOUT))
				return -1;
		} else if (sock_err_transient(errno)) {
			fwd_stat_add(&st->dropped, 1);
			i++;
		} else if (errno != EINTR) {
			fwd_fail(q, "sendmmsg: %s", strerror(errno));
			return -1;
		}
	}
	return 0;
}

/*
 * Receives up to @n datagrams into @iov (one buffer each), waiting for the
 * first; returns how many, or -1 to stop. Datagrams that were cut short or
 * empty are dropped here: a tunnel packet is all or nothing.
 */
static int sock_recv_batch(struct fwd_queue *q, struct mmsghdr *m,
			   struct iovec *iov, unsigned int n)
{
	unsigned int i, w;
	int r;

	for (i = 0; i < n; i++) {
		memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	for (;;) {
		r = recvmmsg(q->sock, m, n, MSG_DONTWAIT, NULL);
		if (r > 0)
			break;
		if (r == 0 || errno == EINTR) {
			continue;
		} else if (errno == EAGAIN) {
			if (fwd_wait(q->sock, POLLIN))
				return -1;
		} else if (!sock_err_transient(errno)) {
			fwd_fail(q, "recvmmsg: %s", strerror(errno));
			return -1;
		}
	}
	/* Keep the good ones, in order, at the front. */
	for (i = w = 0; i < (unsigned int)r; i++) {
		if ((m[i].msg_hdr.msg_flags & MSG_TRUNC) || !m[i].msg_len) {
			fwd_stat_add(&q->to_dev.dropped, 1);
			continue;
		}
		if (w != i)
			memmove(iov[w].iov_base, iov[i].iov_base, m[i].msg_len);
		iov[w++].iov_len = m[i].msg_len;
	}
	return w;
}

/* --- the two directions --------------------------------------------------- */

static void *dev_to_sock(void *arg)
{
	struct fwd_queue *q = arg;
	unsigned int batch = q->opts->batch;
	struct mmsghdr *m = calloc(batch, sizeof(*m));
	struct iovec *iov = calloc(batch, sizeof(*iov));
	int n;

	if (!m || !iov) {
		fwd_fail(q, "out of memory");
		goto out;
	}
	while (!fwd_should_stop()) {
		n = fwd_dev_rx(q, iov, batch);
		if (n < 0)
			break;
		for (int i = 0; i < n; i++) {
			memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		if (sock_send_batch(q, m, n))
			break;
		fwd_dev_rx_done(q, n);
	}
out:
	free(m);
	free(iov);
	return NULL;
}

static void *sock_to_dev(void *arg)
{
	struct fwd_queue *q = arg;
	unsigned int batch = q->opts->batch;
	struct mmsghdr *m = calloc(batch, sizeof(*m));
	struct iovec *iov = calloc(batch, sizeof(*iov));
	int n;

	if (!m || !iov) {
		fwd_fail(q, "out of memory");
		goto out;
	}
	while (!fwd_should_stop()) {
		/* Buffers first (ring slots: as many as are free), then fill them. */
		n = fwd_dev_tx_get(q, iov, batch);
		if (n < 0)
			break;
		n = sock_recv_batch(q, m, iov, n);
		if (n < 0 || fwd_dev_tx_put(q, iov, n))
			break;
	}
out:
	free(m);
	free(iov);
	return NULL;
}

/* --- set-up --------------------------------------------------------------- */

/*
 * "ADDR:PORT", "[ADDR6]:PORT", or ":PORT"/"PORT" for any address (only for
 * the local end). @family 0 takes what ADDR is; otherwise it must match.
 */
static int parse_addr(const char *arg, int family, bool passive,
		      struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = {
		.ai_family = family,
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0),
	};
	char host[256];
	const char *port, *end;
	struct addrinfo *ai;
	int err;

	if (arg[0] == '[') {
		end = strchr(arg, ']');
		if (!end || end[1] != ':')
			return -1;
		snprintf(host, sizeof(host), "%.*s", (int)(end - arg - 1), arg + 1);
		port = end + 2;
	} else if ((end = strrchr(arg, ':'))) {
		snprintf(host, sizeof(host), "%.*s", (int)(end - arg), arg);
		port = end + 1;
	} else {
		host[0] = '\0';
		port = arg;
	}
	if (!host[0] && !passive)
		return -1;
	err = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
	if (err) {
		fprintf(stderr, "ktun-fwd: %s: %s\n", arg, gai_strerror(err));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* The port of @ss, plus @add: queue q uses the ports given plus q. */
static int port_add(struct sockaddr_storage *ss, int add)
{
	in_port_t *p = ss->ss_family == AF_INET6 ?
		&((struct sockaddr_in6 *)ss)->sin6_port :
		&((struct sockaddr_in *)ss)->sin_port;
	int port = ntohs(*p) + add;

	if (port > 65535)
		return -1;
	*p = htons(port);
	return 0;
}

/* Queue q's UDP socket: bound to local port+q, connected to remote port+q. */
static int open_sock(struct fwd_queue *q)
{
	const struct fwd_opts *o = q->opts;
	struct sockaddr_storage l = o->local, r = o->remote;
	int buf = FWD_SOCK_BUF, s;
	char what[32];

	if (port_add(&l, q->idx) || port_add(&r, q->idx)) {
		fprintf(stderr, "ktun-fwd: queue %d: port above 65535\n", q->idx);
		return -1;
	}
	s = socket(o->remote.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		perror("ktun-fwd: socket");
		return -1;
	}
	/* Bursts of small packets overflow the default buffers first. */
	if (setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(s, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(s, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)))
		setsockopt(s, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	snprintf(what, sizeof(what), "bind");
	if (bind(s, (struct sockaddr *)&l, o->local_len) == 0) {
		snprintf(what, sizeof(what), "connect");
		if (connect(s, (struct sockaddr *)&r, o->remote_len) == 0)
			return s;
	}
	fprintf(stderr, "ktun-fwd: queue %d: %s: %s\n", q->idx, what, strerror(errno));
	close(s);
	return -1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ktun-fwd -l [ADDR]:PORT -r ADDR:PORT [-d NODE] [-i IFNAME]\n"
		"                [-m auto|ring|rw] [-b BATCH] [-q QUEUES] [--tap] [--pi] [-v]\n"
		"A point-to-point UDP tunnel endpoint without encryption: each packet of\n"
		"the TUN/TAP interface IFNAME travels as one UDP datagram to the peer.\n"
		"  -l, --local ADDR:PORT    where to receive from the peer ([ADDR6]:PORT for IPv6)\n"
		"  -r, --remote ADDR:PORT   the peer; queue q uses both ports plus q\n"
		"  -d, --dev NODE           the driver's node (default " KTUN_DEVICE_PATH
		" if there,\n"
		"                           else /dev/net/tun)\n"
		"  -i, --ifname NAME        the interface to create or attach (default tun%%d)\n"
		"  -m, --io MODE            device side: ring (ktun's shared-memory rings),\n"
		"                           rw (read/write, any driver), auto (ring if offered)\n"
		"  -b, --batch N            packets per system call, 1..%d (default %d)\n"
		"  -q, --queues N           queues, a pair of threads each, 1..%d (default 1)\n"
		"      --tap                a TAP (Ethernet) interface rather than TUN\n"
		"      --pi                 keep the 4-byte tun_pi header (IFF_NO_PI off)\n"
		"      --mtu N              the interface's MTU (default: what fits a 1500-byte\n"
		"                           path in one datagram, 1472 over IPv4, 1452 over IPv6)\n"
		"  -v, --verbose            say when ready; counters at exit\n"
		"The interface is left down: configure it with ip(8) once ready.\n"
		"SIGUSR1 prints the counters of each queue on stderr.\n"
		"Exit status: 0 stopped by SIGINT/SIGTERM, 1 error, 2 usage.\n",
		FWD_MAX_BATCH, FWD_DEF_BATCH, FWD_MAX_QUEUES);
}

static int parse_int(const char *s, int min, int max, const char *what)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "ktun-fwd: %s must be %d..%d, not '%s'\n", what, min, max, s);
		exit(2);
	}
	return v;
}

static void parse_opts(int argc, char **argv, struct fwd_opts *o)
{
	enum { OPT_TAP = 256, OPT_PI, OPT_MTU };
	static const struct option lopts[] = {
		{ "local", required_argument, NULL, 'l' },
		{ "remote", required_argument, NULL, 'r' },
		{ "dev", required_argument, NULL, 'd' },
		{ "ifname", required_argument, NULL, 'i' },
		{ "io", required_argument, NULL, 'm' },
		{ "batch", required_argument, NULL, 'b' },
		{ "queues", required_argument, NULL, 'q' },
		{ "tap", no_argument, NULL, OPT_TAP },
		{ "pi", no_argument, NULL, OPT_PI },
		{ "mtu", required_argument, NULL, OPT_MTU },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *local = NULL, *remote = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	o->iff = IFF_TUN | IFF_NO_PI;
	o->io = FWD_IO_AUTO;
	o->batch = FWD_DEF_BATCH;
	o->queues = 1;
	o->node = access(KTUN_DEVICE_PATH, F_OK) == 0 ? KTUN_DEVICE_PATH : "/dev/net/tun";
	while ((c = getopt_long(argc, argv, "l:r:d:i:m:b:q:vh", lopts, NULL)) != -1) {
		switch (c) {
		case 'l': local = optarg; break;
		case 'r': remote = optarg; break;
		case 'd': o->node = optarg; break;
		case 'i':
			if (strlen(optarg) >= IFNAMSIZ) {
				fprintf(stderr, "ktun-fwd: interface names have at most %d characters\n",
					IFNAMSIZ - 1);
				exit(2);
			}
			o->ifname = optarg;
			break;
		case 'm':
			if (!strcmp(optarg, "ring"))
				o->io = FWD_IO_RING;
			else if (!strcmp(optarg, "rw"))
				o->io = FWD_IO_RW;
			else if (!strcmp(optarg, "auto"))
				o->io = FWD_IO_AUTO;
			else {
				fprintf(stderr, "ktun-fwd: --io is ring, rw or auto, not '%s'\n", optarg);
				exit(2);
			}
			break;
		case 'b': o->batch = parse_int(optarg, 1, FWD_MAX_BATCH, "--batch"); break;
		case 'q': o->queues = parse_int(optarg, 1, FWD_MAX_QUEUES, "--queues"); break;
		case OPT_TAP: o->iff = (o->iff & ~IFF_TUN) | IFF_TAP; break;
		case OPT_PI: o->iff &= ~IFF_NO_PI; break;
		case OPT_MTU: o->mtu = parse_int(optarg, 68, 65535, "--mtu"); break;
		case 'v': o->verbose++; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind != argc || !local || !remote) {
		usage(stderr);
		exit(2);
	}
	if (o->queues > 1)
		o->iff |= IFF_MULTI_QUEUE;
	if (parse_addr(remote, 0, false, &o->remote, &o->remote_len) ||
	    parse_addr(local, o->remote.ss_family, true, &o->local, &o->local_len)) {
		fprintf(stderr, "ktun-fwd: bad address '%s' or '%s' (want ADDR:PORT, "
			"[ADDR6]:PORT, or for --local also :PORT)\n", local, remote);
		exit(2);
	}
	/* An outer IP and UDP header (28 or 48 bytes) on a 1500-byte path. */
	if (!o->mtu)
		o->mtu = o->remote.ss_family == AF_INET6 ? 1452 : 1472;
	for (o->pkt_max = 2048; o->pkt_max < (size_t)o->mtu + FWD_FRAMING;)
		o->pkt_max *= 2;
}

static void print_stats(const struct fwd_queue *q)
{
	fprintf(stderr, "ktun-fwd: %s queue %d: dev->udp %llu packets %llu bytes %llu dropped;"
		" udp->dev %llu packets %llu bytes %llu dropped\n", q->ifname, q->idx,
		atomic_load(&q->to_sock.packets), atomic_load(&q->to_sock.bytes),
		atomic_load(&q->to_sock.dropped), atomic_load(&q->to_dev.packets),
		atomic_load(&q->to_dev.bytes), atomic_load(&q->to_dev.dropped));
	if (q->ring)
		fwd_ring_print_stats(q);
}

int main(int argc, char **argv)
{
	static struct fwd_queue qs[FWD_MAX_QUEUES];
	struct fwd_opts o;
	struct pollfd p[2];
	sigset_t sigs;
	int i, started = 0, sfd, sig = 0, ret = 1;
	char ifname[IFNAMSIZ] = "";

	parse_opts(argc, argv, &o);

	/* Signals go to a signalfd that only this thread polls. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	fwd_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sfd < 0 || fwd_stop_fd < 0) {
		perror("ktun-fwd: signalfd/eventfd");
		return 1;
	}

	for (i = 0; i < o.queues; i++)
		qs[i].fd = qs[i].sock = -1;
	for (i = 0; i < o.queues; i++) {
		struct fwd_queue *q = &qs[i];

		q->idx = i;
		q->opts = &o;
		/* Queue 0 names the interface; the others attach to that name. */
		if (fwd_dev_open(q, i ? ifname : o.ifname) < 0)
			goto out;
		memcpy(ifname, q->ifname, IFNAMSIZ);
		q->sock = open_sock(q);
		if (q->sock < 0)
			goto out;
	}
	for (i = 0; i < o.queues; i++) {
		struct fwd_queue *q = &qs[i];

		if (pthread_create(&q->threads[0], NULL, dev_to_sock, q))
			break;
		if (pthread_create(&q->threads[1], NULL, sock_to_dev, q)) {
			fwd_stop();
			pthread_join(q->threads[0], NULL);
			break;
		}
		started++;
	}
	if (started < o.queues)
		fprintf(stderr, "ktun-fwd: pthread_create failed\n");
	if (o.verbose && started == o.queues) {
		fprintf(stderr, "ktun-fwd: %s ready: %d queue(s), io %s, batch %d, node %s\n",
			ifname, o.queues, o.io == FWD_IO_RING ? "ring" : "rw", o.batch, o.node);
	}

	/* Until SIGINT/SIGTERM or a thread gives up; SIGUSR1 prints counters. */
	p[0] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = fwd_stop_fd, .events = POLLIN };
	while (started == o.queues) {
		struct signalfd_siginfo si;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents || read(sfd, &si, sizeof(si)) != sizeof(si))
			break;
		if (si.ssi_signo != SIGUSR1) {
			sig = si.ssi_signo;
			break;
		}
		for (i = 0; i < o.queues; i++)
			print_stats(&qs[i]);
	}
	fwd_stop();
	for (i = 0; i < started; i++) {
		pthread_join(qs[i].threads[0], NULL);
		pthread_join(qs[i].threads[1], NULL);
		if (o.verbose)
			print_stats(&qs[i]);
	}
	ret = started == o.queues && !atomic_load(&fwd_failed) ? 0 : 1;
	if (o.verbose)
		fprintf(stderr, "ktun-fwd: %s stopped %s\n", ifname,
			ret ? "on an error" : sig == SIGINT ? "by SIGINT" : "by SIGTERM");
out:
	for (i = 0; i < o.queues; i++) {
		if (qs[i].sock >= 0)
			close(qs[i].sock);
		fwd_dev_close(&qs[i]);
	}
	return ret;
}

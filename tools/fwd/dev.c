// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * ktun-fwd's device side: attaching a queue, and batches of packets in and
 * out of it, by read()/write() (one system call per packet, any TUN
 * driver) or, when q->ring is set, by ktun's shared-memory rings (ring.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "fwd.h"

/*
 * Errors after which the queue is no use: the interface was deleted
 * (EBADFD), or the fd is not what we think. Anything else costs the one
 * packet: a down interface (EIO), a packet the stack refuses (EINVAL), no
 * memory for a moment.
 */
static bool dev_err_fatal(int err)
{
	return err == EBADFD || err == EBADF || err == EFAULT || err == ENODEV;
}

static const char *dev_err_hint(int err)
{
	return err == EBADFD ? " (the interface was deleted)" : "";
}

/* --- read()/write() ------------------------------------------------------- */

static int rw_setup(struct fwd_queue *q)
{
	size_t size = (size_t)q->opts->batch * q->opts->pkt_max;
	int fl = fcntl(q->fd, F_GETFL);

	/* Non-blocking, so that waiting is our poll(), which also sees the stop. */
	if (fl < 0 || fcntl(q->fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		perror("ktun-fwd: fcntl");
		return -1;
	}
	q->rx_bufs = malloc(size);
	q->tx_bufs = malloc(size);
	if (!q->rx_bufs || !q->tx_bufs) {
		fprintf(stderr, "ktun-fwd: out of memory\n");
		return -1;
	}
	return 0;
}

static int rw_rx(struct fwd_queue *q, struct iovec *iov, unsigned int max)
{
	size_t size = q->opts->pkt_max;
	unsigned int n;
	ssize_t len;

	for (;;) {
		/* Read until the queue is empty or the batch full. */
		for (n = 0; n < max;) {
			iov[n].iov_base = q->rx_bufs + (size_t)n * size;
			len = read(q->fd, iov[n].iov_base, size);
			if (len > (ssize_t)size) {
				/* Cut short: the MTU was raised under us. */
				fwd_stat_add(&q->to_sock.dropped, 1);
			} else if (len > 0) {
				iov[n++].iov_len = len;
			} else if (len == 0 || errno == EAGAIN) {
				break;
			} else if (errno != EINTR) {
				fwd_fail(q, "read: %s%s", strerror(errno), dev_err_hint(errno));
				return -1;
			}
		}
		if (n)
			return n;
		if (fwd_wait(q->fd, POLLIN))
			return -1;
	}
}

static int rw_tx_put(struct fwd_queue *q, const struct iovec *iov, unsigned int n)
{
	struct fwd_stats *st = &q->to_dev;

	for (unsigned int i = 0; i < n; i++) {
		ssize_t r = write(q->fd, iov[i].iov_base, iov[i].iov_len);

		if (r == (ssize_t)iov[i].iov_len) {
			fwd_stat_add(&st->packets, 1);
			fwd_stat_add(&st->bytes, r);
		} else if (r < 0 && errno == EINTR) {
			i--;
		} else if (r < 0 && dev_err_fatal(errno)) {
			fwd_fail(q, "write: %s%s", strerror(errno), dev_err_hint(errno));
			return -1;
		} else {
			fwd_stat_add(&st->dropped, 1);
		}
	}
	return 0;
}

/* --- the mode-neutral calls ----------------------------------------------- */

static int set_mtu(const char *ifname, int mtu)
{
	struct ifreq ifr = { .ifr_mtu = mtu };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), ret;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	/* Already so: no need for CAP_NET_ADMIN (a user's persistent device). */
	if (s >= 0 && ioctl(s, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu == mtu) {
		close(s);
		return 0;
	}
	ifr.ifr_mtu = mtu;
	ret = s < 0 ? -1 : ioctl(s, SIOCSIFMTU, &ifr);
	if (ret < 0)
		fprintf(stderr, "ktun-fwd: %s: setting MTU %d: %s\n", ifname, mtu,
			strerror(errno));
	if (s >= 0)
		close(s);
	return ret;
}

int fwd_dev_open(struct fwd_queue *q, const char *ifname)
{
	struct fwd_opts *o = (struct fwd_opts *)q->opts;
	struct ifreq ifr;

	q->fd = open(o->node, O_RDWR | O_CLOEXEC);
	if (q->fd < 0) {
		fprintf(stderr, "ktun-fwd: %s: %s\n", o->node, strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = o->iff;
	if (ifname)
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	if (ioctl(q->fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "ktun-fwd: TUNSETIFF %s on %s: %s%s\n",
			ifname && *ifname ? ifname : "(new)", o->node, strerror(errno),
			errno == EINVAL ? " (an existing interface with other flags?)" : "");
		return -1;
	}
	memcpy(q->ifname, ifr.ifr_name, IFNAMSIZ);

	if (q->idx == 0) {
		if (set_mtu(q->ifname, o->mtu))
			return -1;
		if (o->io == FWD_IO_AUTO)
			o->io = fwd_ring_offered(q->fd) ? FWD_IO_RING : FWD_IO_RW;
	}
	if (o->io == FWD_IO_RING)
		return fwd_ring_setup(q);
	return rw_setup(q);
}

void fwd_dev_close(struct fwd_queue *q)
{
	if (q->ring)
		fwd_ring_free(q);
	free(q->rx_bufs);
	free(q->tx_bufs);
	q->rx_bufs = q->tx_bufs = NULL;
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
}

int fwd_dev_rx(struct fwd_queue *q, struct iovec *iov, unsigned int max)
{
	return q->ring ? fwd_ring_rx(q, iov, max) : rw_rx(q, iov, max);
}

void fwd_dev_rx_done(struct fwd_queue *q, unsigned int n)
{
	if (q->ring)
		fwd_ring_rx_done(q, n);
}

int fwd_dev_tx_get(struct fwd_queue *q, struct iovec *iov, unsigned int max)
{
	if (q->ring)
		return fwd_ring_tx_get(q, iov, max);
	for (unsigned int i = 0; i < max; i++) {
		iov[i].iov_base = q->tx_bufs + (size_t)i * q->opts->pkt_max;
		iov[i].iov_len = q->opts->pkt_max;
	}
	return max;
}

int fwd_dev_tx_put(struct fwd_queue *q, const struct iovec *iov, unsigned int n)
{
	return q->ring ? fwd_ring_tx_put(q, iov, n) : rw_tx_put(q, iov, n);
}

// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * ktun-fwd's ring mode, through libktun's batch API (lib/ktun_ring.h).
 * The stack's packets go to the peer straight from the rx ring's slots
 * (sendmmsg reads them there), and the peer's datagrams land straight in
 * the tx ring's slots (recvmmsg writes them there): no copy of our own,
 * and while packets keep coming, no system call on the device at all. We
 * sleep in poll() only when a ring is empty (rx) or full (tx), with the
 * stop eventfd beside the ring's fd; libktun kicks the kernel when it
 * asks for it.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fwd.h"
#include "ktun_ring.h"

struct fwd_ring_state {
	struct ktun_ring *r;
	struct ktun_ring_pkt *rx_pkts;	/* the batch peeked from the rx ring */
	struct ktun_ring_pkt *tx_pkts;	/* the slots reserved in the tx ring */
	unsigned int rx_peeked;		/* to release once sent */
};

bool fwd_ring_offered(int fd)
{
	struct ktun_ring_features f;

	return ktun_ring_features(fd, &f) == 0 && f.version >= KTUN_RING_VERSION;
}

/* Dead (the interface was deleted) or corrupt: either way, the end. */
static int ring_broken(struct fwd_queue *q, int err)
{
	fwd_fail(q, "ring: %s%s", strerror(-err),
		 err == -EBADFD ? " (the interface was deleted)" : "");
	return -1;
}

int fwd_ring_setup(struct fwd_queue *q)
{
	const struct fwd_opts *o = q->opts;
	struct ktun_ring_config cfg = { 0 };
	struct fwd_ring_state *rs;
	uint32_t slots = 256;
	int err;

	if (!fwd_ring_offered(q->fd)) {
		fprintf(stderr, "ktun-fwd: %s offers no rings (the stock driver, or a "
			"ktun without them): use --io rw\n", o->node);
		return -1;
	}
	/* Room for a few batches in flight, within the driver's limits. */
	while (slots < 4u * o->batch && slots < KTUN_RING_MAX_SLOTS)
		slots *= 2;
	while (slots > KTUN_RING_MIN_SLOTS && slots * o->pkt_max > KTUN_RING_MAX_DATA)
		slots /= 2;
	cfg.rx_slots = cfg.tx_slots = slots;
	cfg.rx_slot_size = cfg.tx_slot_size = o->pkt_max;

	rs = calloc(1, sizeof(*rs));
	if (!rs)
		goto err_nomem;
	rs->rx_pkts = calloc(o->batch, sizeof(*rs->rx_pkts));
	rs->tx_pkts = calloc(o->batch, sizeof(*rs->tx_pkts));
	if (!rs->rx_pkts || !rs->tx_pkts)
		goto err_nomem;
	err = ktun_ring_setup(q->fd, &cfg, &rs->r);
	if (err) {
		fprintf(stderr, "ktun-fwd: %s queue %d: ring setup (%u slots of %zu bytes): %s%s\n",
			q->ifname, q->idx, slots, o->pkt_max, strerror(-err),
			err == -ENOMEM || err == -EPERM ? " (locked memory limit, ulimit -l?)" : "");
		goto err_free;
	}
	q->ring = rs;
	return 0;

err_nomem:
	fprintf(stderr, "ktun-fwd: out of memory\n");
err_free:
	if (rs) {
		free(rs->rx_pkts);
		free(rs->tx_pkts);
	}
	free(rs);
	return -1;
}

void fwd_ring_free(struct fwd_queue *q)
{
	struct fwd_ring_state *rs = q->ring;

	ktun_ring_free(rs->r);
	free(rs->rx_pkts);
	free(rs->tx_pkts);
	free(rs);
	q->ring = NULL;
}

int fwd_ring_rx(struct fwd_queue *q, struct iovec *iov, unsigned int max)
{
	struct fwd_ring_state *rs = q->ring;
	unsigned int n, i, w;
	int err;

	for (;;) {
		n = ktun_ring_rx_peek(rs->r, rs->rx_pkts, max);
		/* libktun reports an entry longer than its slot as length 0. */
		for (i = w = 0; i < n; i++) {
			if (!rs->rx_pkts[i].len) {
				fwd_stat_add(&q->to_sock.dropped, 1);
				continue;
			}
			iov[w].iov_base = rs->rx_pkts[i].data;
			iov[w++].iov_len = rs->rx_pkts[i].len;
		}
		rs->rx_peeked = n;
		if (w)
			return w;
		ktun_ring_rx_release(rs->r, n);
		err = ktun_ring_state(rs->r);
		if (err)
			return ring_broken(q, err);
		if (!n && fwd_wait(ktun_ring_fd(rs->r), POLLIN))
			return -1;
	}
}

void fwd_ring_rx_done(struct fwd_queue *q, unsigned int n)
{
	struct fwd_ring_state *rs = q->ring;

	(void)n;	/* all that was peeked, the empty entries too */
	ktun_ring_rx_release(rs->r, rs->rx_peeked);
}

int fwd_ring_tx_get(struct fwd_queue *q, struct iovec *iov, unsigned int max)
{
	struct fwd_ring_state *rs = q->ring;
	unsigned int n;
	int err;

	for (;;) {
		n = ktun_ring_tx_reserve(rs->r, rs->tx_pkts, max);
		if (n) {
			for (unsigned int i = 0; i < n; i++) {
				iov[i].iov_base = rs->tx_pkts[i].data;
				iov[i].iov_len = rs->tx_pkts[i].len;
			}
			return n;
		}
		err = ktun_ring_state(rs->r);
		if (err)
			return ring_broken(q, err);
		if (fwd_wait(ktun_ring_fd(rs->r), POLLOUT))
			return -1;
	}
}

/* The datagrams were received in place, in order: only lengths to set. */
int fwd_ring_tx_put(struct fwd_queue *q, const struct iovec *iov, unsigned int n)
{
	struct fwd_ring_state *rs = q->ring;
	unsigned long long bytes = 0;
	int err;

	for (unsigned int i = 0; i < n; i++) {
		rs->tx_pkts[i].len = iov[i].iov_len;
		bytes += iov[i].iov_len;
	}
	/* Also with n == 0: that gives the unused reservation back. */
	err = ktun_ring_tx_submit(rs->r, rs->tx_pkts, n);
	if (err)
		return ring_broken(q, err);
	fwd_stat_add(&q->to_dev.packets, n);
	fwd_stat_add(&q->to_dev.bytes, bytes);
	return 0;
}

void fwd_ring_print_stats(const struct fwd_queue *q)
{
	struct ktun_ring_stats st;

	if (ktun_ring_stats(q->ring->r, &st))
		return;
	fprintf(stderr, "ktun-fwd: %s queue %d: kernel rx ring %llu packets %llu dropped "
		"%llu stops %llu wakeups; tx ring %llu packets %llu dropped %llu invalid "
		"%llu kicks\n", q->ifname, q->idx,
		(unsigned long long)st.rx.packets, (unsigned long long)st.rx.drops,
		(unsigned long long)st.rx.stops, (unsigned long long)st.rx.wakeups,
		(unsigned long long)st.tx.packets, (unsigned long long)st.tx.drops,
		(unsigned long long)st.tx.invalid, (unsigned long long)st.tx.wakeups);
}

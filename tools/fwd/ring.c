// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * ktun-fwd's ring mode. Placeholder until libktun's ring API is there: no
 * driver is said to offer rings, and --io ring says so.
 */
#include <stdio.h>

#include "fwd.h"

bool fwd_ring_offered(int fd)
{
	(void)fd;
	return false;
}

int fwd_ring_setup(struct fwd_queue *q)
{
	fprintf(stderr, "ktun-fwd: %s: --io ring: this build has no ring support\n",
		q->ifname);
	return -1;
}

void fwd_ring_free(struct fwd_queue *q)
{
	(void)q;
}

int fwd_ring_rx(struct fwd_queue *q, struct iovec *iov, unsigned int max)
{
	(void)q, (void)iov, (void)max;
	return -1;
}

void fwd_ring_rx_done(struct fwd_queue *q, unsigned int n)
{
	(void)q, (void)n;
}

int fwd_ring_tx_get(struct fwd_queue *q, struct iovec *iov, unsigned int max)
{
	(void)q, (void)iov, (void)max;
	return -1;
}

int fwd_ring_tx_put(struct fwd_queue *q, const struct iovec *iov, unsigned int n)
{
	(void)q, (void)iov, (void)n;
	return -1;
}

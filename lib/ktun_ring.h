/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * libktun rings: many packets per system call through the shared-memory
 * rings of include/uapi/linux/ktun.h. The reference is
 * man/libktun-ring.3; the design is docs/rings.md.
 *
 * One struct ktun_ring per attached queue fd. The rx side (peek/release)
 * and the tx side (reserve/submit) may run in two threads at once; each
 * side is single-threaded (one consumer, one producer).
 *
 *	struct ktun_ring *r;
 *	struct ktun_ring_pkt p[64];
 *	unsigned int n, i;
 *
 *	ktun_ring_setup(fd, NULL, &r);
 *	for (;;) {
 *		n = ktun_ring_rx_peek(r, p, 64);	// packets from the stack
 *		...use p[0..n)...
 *		ktun_ring_rx_release(r, n);
 *
 *		n = ktun_ring_tx_reserve(r, p, 64);	// slots for packets to it
 *		...write packets into p[i].data, set p[i].len...
 *		ktun_ring_tx_submit(r, p, n);
 *
 *		if (nothing moved)
 *			ktun_ring_wait(r, KTUN_RING_WAIT_RX, -1);
 *	}
 */
#ifndef LIBKTUN_RING_H
#define LIBKTUN_RING_H

#include <stdint.h>
#include <linux/ktun.h>

struct ktun_ring;

/* Sizes for ktun_ring_setup(); NULL or zero fields pick the defaults. */
struct ktun_ring_config {
	uint32_t rx_slots;	/* default 256; KTUN_RING_NO_RING for none */
	uint32_t rx_slot_size;	/* default 2048 */
	uint32_t tx_slots;	/* default 256; KTUN_RING_NO_RING for none */
	uint32_t tx_slot_size;	/* default 2048 */
};
#define KTUN_RING_NO_RING	UINT32_MAX

/* One packet in a ring slot, framed as read()/write() frame it. */
struct ktun_ring_pkt {
	void *data;
	uint32_t len;		/* rx: the packet's length; tx: see reserve */
};

/*
 * Asks @fd (any ktun fd, attached or not) what rings it offers. Returns 0,
 * or -errno: -ENOTTY/-EINVAL when the driver has no rings (the stock one).
 */
int ktun_ring_features(int fd, struct ktun_ring_features *features);

/*
 * Sets up and maps the rings of the attached queue @fd. The framing is
 * frozen at this point. On success *@out is the handle; the fd stays the
 * caller's, to close after ktun_ring_free(). Returns 0 or -errno.
 */
int ktun_ring_setup(int fd, const struct ktun_ring_config *cfg,
		    struct ktun_ring **out);

/* Unmaps and frees the handle. The fd is not closed. */
void ktun_ring_free(struct ktun_ring *r);

/* The fd, the setup answer (framing, sizes, offsets). */
int ktun_ring_fd(const struct ktun_ring *r);
const struct ktun_ring_setup *ktun_ring_info(const struct ktun_ring *r);

/*
 * rx (stack to application), single consumer. Fills up to @max packets
 * after those already peeked and not released; returns how many (0: empty
 * for now). The data stays valid until released.
 */
unsigned int ktun_ring_rx_peek(struct ktun_ring *r, struct ktun_ring_pkt *pkts,
			       unsigned int max);

/* Releases the @n oldest peeked packets; kicks the kernel if it asked. */
void ktun_ring_rx_release(struct ktun_ring *r, unsigned int n);

/*
 * tx (application to stack), single producer. Reserves up to @max free
 * slots, filling data with each slot and len with its size; returns how
 * many (0: full for now). Write each packet, framed as for write(), into
 * pkts[i].data and set pkts[i].len to its length.
 */
unsigned int ktun_ring_tx_reserve(struct ktun_ring *r,
				  struct ktun_ring_pkt *pkts, unsigned int max);

/*
 * Hands the first @n reserved slots to the kernel (@n at most what the
 * last reserve returned; the rest of that reservation is cancelled) and
 * kicks it if it asked. Returns 0, or -EMSGSIZE for a len above the slot
 * size (nothing submitted), or the ring's state as ktun_ring_state().
 */
int ktun_ring_tx_submit(struct ktun_ring *r, const struct ktun_ring_pkt *pkts,
			unsigned int n);

/* Events for ktun_ring_wait(). */
#define KTUN_RING_WAIT_RX	(1U << 0)	/* an rx packet is there */
#define KTUN_RING_WAIT_TX	(1U << 1)	/* a tx slot is free */

/*
 * Sleeps until one of @events holds or @timeout_ms passes (-1: forever),
 * kicking the kernel on the way (it is a poll()). Returns the events that
 * hold (0 on timeout), or -errno: -EBADFD dead, -EBADMSG corrupt, -EINTR.
 */
int ktun_ring_wait(struct ktun_ring *r, unsigned int events, int timeout_ms);

/* An explicit kick of both rings (the library kicks when asked anyway). */
int ktun_ring_kick(struct ktun_ring *r);

/* 0 while usable; -EBADFD once dead (device gone), -EBADMSG if corrupt. */
int ktun_ring_state(const struct ktun_ring *r);

/* The kernel's counters of both rings. Returns 0 or -errno. */
int ktun_ring_stats(struct ktun_ring *r, struct ktun_ring_stats *stats);

#endif

// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * libktun rings: the userspace side of include/uapi/linux/ktun.h's rings,
 * in C11 atomics. The rx ring's consumer and the tx ring's producer live
 * here; the kernel owns the other end of each. docs/rings.md pairs every
 * barrier below with the kernel's.
 */
#include <errno.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "ktun_ring.h"

struct ring_side {
	_Atomic uint32_t *producer;
	_Atomic uint32_t *consumer;
	_Atomic uint32_t *flags;
	struct ktun_ring_desc *desc;
	unsigned char *data;
	void *map;
	size_t map_size;
	uint32_t mask;
	uint32_t slot_size;
	/* rx: next entry to peek (head) and to release (tail); tx: next
	 * entry to reserve from (head, always the published producer) and
	 * the count reserved by the last reserve.
	 */
	uint32_t head;
	uint32_t tail;
	uint32_t reserved;
	/* the other side's index as last read, to skip reloading it */
	uint32_t cached;
};

struct ktun_ring {
	int fd;
	struct ktun_ring_setup setup;
	struct ring_side rx;
	struct ring_side tx;
};

int ktun_ring_features(int fd, struct ktun_ring_features *features)
{
	memset(features, 0, sizeof(*features));
	if (ioctl(fd, KTUN_RING_FEATURES, features) < 0)
		return -errno;
	return 0;
}

static int side_map(int fd, const struct ktun_ring_layout *l,
		    struct ring_side *s)
{
	unsigned char *m;

	memset(s, 0, sizeof(*s));
	if (!l->slots)
		return 0;
	m = mmap(NULL, l->mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 (off_t)l->mmap_offset);
	if (m == MAP_FAILED)
		return -errno;
	s->map = m;
	s->map_size = l->mmap_size;
	s->producer = (_Atomic uint32_t *)(m + l->producer);
	s->consumer = (_Atomic uint32_t *)(m + l->consumer);
	s->flags = (_Atomic uint32_t *)(m + l->flags);
	s->desc = (struct ktun_ring_desc *)(m + l->desc);
	s->data = m + l->data;
	s->mask = l->slots - 1;
	s->slot_size = l->slot_size;
	return 0;
}

static uint32_t size_or(uint32_t v, uint32_t def)
{
	if (v == KTUN_RING_NO_RING)
		return 0;
	return v ? v : def;
}

int ktun_ring_setup(int fd, const struct ktun_ring_config *cfg,
		    struct ktun_ring **out)
{
	static const struct ktun_ring_config defaults;
	struct ktun_ring *r;
	int ret;

	if (!cfg)
		cfg = &defaults;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = fd;
	r->setup.version = KTUN_RING_VERSION;
	r->setup.rx_slots = size_or(cfg->rx_slots, 256);
	r->setup.rx_slot_size = size_or(cfg->rx_slot_size, 2048);
	r->setup.tx_slots = size_or(cfg->tx_slots, 256);
	r->setup.tx_slot_size = size_or(cfg->tx_slot_size, 2048);
	if (ioctl(fd, KTUN_RING_SETUP, &r->setup) < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = side_map(fd, &r->setup.rx, &r->rx);
	if (ret)
		goto err_free;
	ret = side_map(fd, &r->setup.tx, &r->tx);
	if (ret)
		goto err_unmap;
	/* The kernel starts both rings at 0, but take what is there. */
	if (r->rx.map)
		r->rx.head = r->rx.tail = atomic_load_explicit(r->rx.consumer,
							       memory_order_relaxed);
	if (r->tx.map)
		r->tx.head = atomic_load_explicit(r->tx.producer,
						  memory_order_relaxed);
	*out = r;
	return 0;

err_unmap:
	if (r->rx.map)
		munmap(r->rx.map, r->rx.map_size);
err_free:
	free(r);
	return ret;
}

void ktun_ring_free(struct ktun_ring *r)
{
	if (!r)
		return;
	if (r->rx.map)
		munmap(r->rx.map, r->rx.map_size);
	if (r->tx.map)
		munmap(r->tx.map, r->tx.map_size);
	free(r);
}

int ktun_ring_fd(const struct ktun_ring *r)
{
	return r->fd;
}

const struct ktun_ring_setup *ktun_ring_info(const struct ktun_ring *r)
{
	return &r->setup;
}

static int state_of(uint32_t flags)
{
	if (flags & KTUN_RING_F_ERROR)
		return -EBADMSG;
	if (flags & KTUN_RING_F_DEAD)
		return -EBADFD;
	return 0;
}

int ktun_ring_state(const struct ktun_ring *r)
{
	uint32_t f = 0;

	if (r->rx.map)
		f |= atomic_load_explicit(r->rx.flags, memory_order_relaxed);
	if (r->tx.map)
		f |= atomic_load_explicit(r->tx.flags, memory_order_relaxed);
	return state_of(f);
}

int ktun_ring_kick(struct ktun_ring *r)
{
	unsigned long what = 0;

	if (r->rx.map)
		what |= KTUN_KICK_RX;
	if (r->tx.map)
		what |= KTUN_KICK_TX;
	if (ioctl(r->fd, KTUN_RING_KICK, what) < 0)
		return -errno;
	return 0;
}

/*
 * After publishing an index: does the kernel ask for a kick? The fence
 * orders our index store before the flags load; the kernel's counterpart
 * stores the flag, fences, and reloads our index (ring_rx.c/ring_tx.c), so
 * one of the two always sees the other.
 */
static int kick_if_asked(struct ktun_ring *r, struct ring_side *s,
			 unsigned long what)
{
	uint32_t f;

	atomic_thread_fence(memory_order_seq_cst);
	f = atomic_load_explicit(s->flags, memory_order_relaxed);
	if (!(f & KTUN_RING_F_NEED_WAKEUP))
		return state_of(f);
	if (ioctl(r->fd, KTUN_RING_KICK, what) < 0)
		return -errno;
	return 0;
}

unsigned int ktun_ring_rx_peek(struct ktun_ring *r, struct ktun_ring_pkt *pkts,
			       unsigned int max)
{
	struct ring_side *s = &r->rx;
	uint32_t avail, i;

	if (!s->map)
		return 0;
	avail = s->cached - s->head;
	if (avail < max) {
		/* Pairs with the kernel's store-release of the producer. */
		s->cached = atomic_load_explicit(s->producer,
						 memory_order_acquire);
		avail = s->cached - s->head;
		/* A kernel never publishes more than the ring holds. */
		if (avail > s->mask + 1)
			return 0;
	}
	if (avail > max)
		avail = max;
	for (i = 0; i < avail; i++) {
		uint32_t slot = (s->head + i) & s->mask;
		uint32_t len = s->desc[slot].len;

		pkts[i].data = s->data + (size_t)slot * s->slot_size;
		pkts[i].len = len <= s->slot_size ? len : 0;
	}
	s->head += avail;
	return avail;
}

void ktun_ring_rx_release(struct ktun_ring *r, unsigned int n)
{
	struct ring_side *s = &r->rx;

	if (!s->map || !n)
		return;
	if (n > s->head - s->tail)
		n = s->head - s->tail;
	s->tail += n;
	/* Our reads of the slots happen before the kernel may reuse them. */
	atomic_store_explicit(s->consumer, s->tail, memory_order_release);
	kick_if_asked(r, s, KTUN_KICK_RX);
}

unsigned int ktun_ring_tx_reserve(struct ktun_ring *r,
				  struct ktun_ring_pkt *pkts, unsigned int max)
{
	struct ring_side *s = &r->tx;
	uint32_t size = s->mask + 1, free_slots, i;

	if (!s->map)
		return 0;
	free_slots = size - (s->head - s->cached);
	if (free_slots < max) {
		/* Pairs with the kernel's store-release of the consumer: it
		 * has copied the slots out before it frees them.
		 */
		s->cached = atomic_load_explicit(s->consumer,
						 memory_order_acquire);
		if (s->head - s->cached > size)
			return 0;
		free_slots = size - (s->head - s->cached);
	}
	if (free_slots > max)
		free_slots = max;
	for (i = 0; i < free_slots; i++) {
		uint32_t slot = (s->head + i) & s->mask;

		pkts[i].data = s->data + (size_t)slot * s->slot_size;
		pkts[i].len = s->slot_size;
	}
	s->reserved = free_slots;
	return free_slots;
}

int ktun_ring_tx_submit(struct ktun_ring *r, const struct ktun_ring_pkt *pkts,
			unsigned int n)
{
	struct ring_side *s = &r->tx;
	uint32_t i;

	if (!s->map)
		return -EINVAL;
	if (n > s->reserved)
		n = s->reserved;
	s->reserved = 0;
	for (i = 0; i < n; i++)
		if (pkts[i].len > s->slot_size)
			return -EMSGSIZE;
	for (i = 0; i < n; i++) {
		struct ktun_ring_desc *d = &s->desc[(s->head + i) & s->mask];

		d->len = pkts[i].len;
		d->flags = 0;
	}
	if (!n)
		return ktun_ring_state(r);
	s->head += n;
	/* The slots and descs are written before the kernel sees them. */
	atomic_store_explicit(s->producer, s->head, memory_order_release);
	return kick_if_asked(r, s, KTUN_KICK_TX);
}

int ktun_ring_wait(struct ktun_ring *r, unsigned int events, int timeout_ms)
{
	struct pollfd pfd = { .fd = r->fd };
	unsigned int got = 0;
	int ret;

	if (events & KTUN_RING_WAIT_RX)
		pfd.events |= POLLIN;
	if (events & KTUN_RING_WAIT_TX)
		pfd.events |= POLLOUT;
	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	ret = ktun_ring_state(r);
	if (ret)
		return ret;
	if (pfd.revents & POLLERR)
		return -EBADFD;
	if (pfd.revents & POLLIN)
		got |= KTUN_RING_WAIT_RX;
	if (pfd.revents & POLLOUT)
		got |= KTUN_RING_WAIT_TX;
	return (int)(got & events);
}

int ktun_ring_stats(struct ktun_ring *r, struct ktun_ring_stats *stats)
{
	memset(stats, 0, sizeof(*stats));
	if (ioctl(r->fd, KTUN_RING_STATS, stats) < 0)
		return -errno;
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * The shared-memory rings, inside the kernel: the private state behind the
 * shared layout of include/uapi/linux/ktun.h. Only ring.c, ring_rx.c and
 * ring_tx.c include this; the rest of ktun sees struct ktun_ring through
 * the hooks declared in ktun.h.
 *
 * What userspace can write (everything in the mapping) is never trusted:
 * the kernel keeps its own copy of the index it owns (head) and of the
 * flags it publishes (kflags), reads the other side's index once per batch
 * with smp_load_acquire() and each desc once with READ_ONCE(), checks the
 * copy, and copies packet bytes out before it looks at them.
 *
 * Who runs where:
 *   rx ring  producer: ktun_ring_rx_xmit(), ndo_start_xmit on any CPU
 *            (softirq, or process context with BHs off), serialised by
 *            rx_lock; also ktun_ring_rx_kick() (process context) under it.
 *            consumer: the application.
 *   tx ring  producer: the application.
 *            consumer: ktun_ring_tx_poll(), this ring's NAPI instance
 *            (softirq, one CPU at a time by NAPI's own rule), scheduled
 *            by a kick, by poll(), or by itself while packets keep coming.
 */
#ifndef _KTUN_RING_H
#define _KTUN_RING_H

#include <linux/kref.h>
#include <linux/netdevice.h>
#include <linux/spinlock.h>
#include <uapi/linux/ktun.h>

#include "ktun.h"

/* The memory of one ring: lives until the ring and every mapping let go. */
struct ktun_ring_mem {
	struct kref		ref;
	void			*base;		/* vmalloc_user() */
	size_t			size;		/* mapped bytes, whole pages */
	struct user_struct	*user;		/* charged, or NULL */
	unsigned long		pages;		/* charged to user->locked_vm */
};

/* One direction: pointers into the mapping, and the kernel's own state. */
struct ktun_ring_dir {
	struct ktun_ring_mem	*mem;		/* NULL: no ring this way */
	u32			*producer;	/* shared */
	u32			*consumer;	/* shared */
	u32			*flags;		/* shared, written by us only */
	struct ktun_ring_desc	*desc;		/* shared */
	u8			*data;		/* shared */
	u32			mask;		/* slots - 1 */
	u32			slot_size;
	/* the index the kernel owns: rx producer, tx consumer. rx: under
	 * rx_lock; tx: the NAPI poll's.
	 */
	u32			head;
	/* under state_lock: the flags we publish, without the state bits */
	u32			kflags;
	/* counters; each written by its direction's one context (rx under
	 * rx_lock, tx in the NAPI poll, wakeups of either with atomics),
	 * read with READ_ONCE by KTUN_RING_STATS.
	 */
	u64			packets;
	u64			bytes;
	u64			drops;
	u64			invalid;
	atomic64_t		wakeups;
	u64			stops;
};

struct ktun_ring {
	struct ktun_file	*kfile;
	/* the device at setup; valid until ktun_ring_retire() (under rtnl) */
	struct net_device	*dev;
	/* the framing frozen at setup: type, IFF_NO_PI, IFF_VNET_HDR */
	unsigned int		iff;
	int			vnet_hdr_sz;
	bool			vnet_le;

	/* KTUN_RING_F_DEAD / _ERROR once set; READ_ONCE on the data path;
	 * changed under state_lock.
	 */
	u32			state;
	/* protects rx.kflags, tx.kflags, state, and the stores of both
	 * shared flags words. Taken with BHs off; nests inside rx_lock.
	 */
	spinlock_t		state_lock;

	/* protects the rx producer side: rx.head, the rx counters,
	 * rx_stopped and stopped_txq. Taken with BHs off.
	 */
	spinlock_t		rx_lock;
	/* under rx_lock: we stopped a transmit queue on a full ring */
	bool			rx_stopped;
	u16			stopped_txq;

	/* drains the tx ring; enabled from setup until ktun_ring_retire() */
	struct napi_struct	napi;
	bool			napi_on;	/* under rtnl */

	struct ktun_ring_dir	rx;
	struct ktun_ring_dir	tx;
};

/* ring.c */
void ktun_ring_fail(struct ktun_ring *ring, struct ktun_ring_dir *dir);
void ktun_ring_publish_flags(struct ktun_ring *ring, struct ktun_ring_dir *dir,
			     u32 set, u32 clear);
bool ktun_ring_vnet_le(const struct ktun_ring *ring);

/* ring_rx.c */
void ktun_ring_rx_kick(struct ktun_ring *ring);
bool ktun_ring_rx_readable(struct ktun_ring *ring);
void ktun_ring_rx_retire(struct ktun_ring *ring);

/* ring_tx.c */
int ktun_ring_tx_poll(struct napi_struct *napi, int budget);
void ktun_ring_tx_kick(struct ktun_ring *ring);
bool ktun_ring_tx_writable(struct ktun_ring *ring);
void ktun_ring_tx_poll_kick(struct ktun_ring *ring);

#endif /* _KTUN_RING_H */

/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/* Copyright (C) 2026 The ktun authors. */
/*
 * ktun's own ABI. Everything else ktun speaks is <linux/if_tun.h>, unchanged:
 * this header holds only what ktun adds to it: the device node names and the
 * shared-memory rings (docs/rings.md has the pictures and the rules).
 */
#ifndef _UAPI_LINUX_KTUN_H
#define _UAPI_LINUX_KTUN_H

#include <linux/types.h>
#include <linux/ioctl.h>

/* The character device ktun serves unless loaded with compat=1. */
#define KTUN_DEVICE_PATH	"/dev/net/ktun"
/* The node it serves with compat=1, in place of the stock driver. */
#define KTUN_COMPAT_PATH	"/dev/net/tun"

/*
 * Shared-memory rings
 * -------------------
 * An attached queue fd may carry a pair of rings, each a single-producer,
 * single-consumer array of fixed-size slots in kernel memory that the
 * application maps with mmap():
 *
 *   rx ring  stack -> application. The kernel produces (every packet the
 *            stack transmits on this queue), the application consumes.
 *   tx ring  application -> stack. The application produces, the kernel
 *            consumes and hands the packets to the stack.
 *
 * Each ring mapping:
 *
 *   +--------------------------------------------+ 0
 *   | producer (__u32)           own cache line  | layout.producer
 *   | consumer (__u32)           own cache line  | layout.consumer
 *   | flags    (__u32, KTUN_RING_F_*)            | layout.flags
 *   +--------------------------------------------+ layout.desc
 *   | struct ktun_ring_desc[slots]               |
 *   +--------------------------------------------+ layout.data
 *   | slot 0 | slot 1 | ...   slots * slot_size  |
 *   +--------------------------------------------+ layout.mmap_size
 *
 * producer and consumer are free-running counters (they wrap at 2^32);
 * entry i lives in desc[i & (slots - 1)] and slot i & (slots - 1). Entries
 * [consumer, producer) belong to the consumer, the rest to the producer.
 * A desc's len counts the packet's bytes from the start of its slot,
 * framed exactly as read() and write() frame it for the queue's flags at
 * setup time (tun_pi, then the virtio-net header, then the packet).
 *
 * Ordering: the producer writes slots and descs, then publishes with a
 * store-release of producer; the consumer reads producer with a
 * load-acquire, reads the entries, then frees them with a store-release of
 * consumer, which the producer reads with a load-acquire.
 *
 * KTUN_RING_F_NEED_WAKEUP: the kernel needs a system call to make progress.
 * On the tx ring: the kernel has stopped draining, kick it after producing.
 * On the rx ring: the ring was full and the interface's queue is stopped,
 * kick the kernel after consuming. The side that sets it stores the flag,
 * then issues a full barrier, then re-reads the other index; the side that
 * reads it stores its index, then issues a full barrier, then loads flags.
 * A kick is KTUN_RING_KICK or poll().
 *
 * The kernel never trusts what it reads back from shared memory: it keeps
 * its own copy of the index it owns and of the flags, reads the other
 * index and each desc once, and copies a packet out of the slot before it
 * looks at any header in it. A bad index or desc puts the rings into the
 * KTUN_RING_F_ERROR state: they stop, and KTUN_RING_KICK returns EBADMSG.
 * When the file is detached (device deleted, fd re-attached, close) the
 * rings get KTUN_RING_F_DEAD, and calls return EBADFD; the memory stays
 * mapped until the last munmap().
 */

#define KTUN_RING_VERSION	1

/* Slot counts: a power of two in [MIN, MAX], or 0 for no ring that way. */
#define KTUN_RING_MIN_SLOTS	8
#define KTUN_RING_MAX_SLOTS	32768
/* Slot sizes: a power of two in [MIN, MAX]; 128 KiB holds a 64 KiB GSO
 * packet with its headers.
 */
#define KTUN_RING_MIN_SLOT_SIZE	2048
#define KTUN_RING_MAX_SLOT_SIZE	131072
/* The data area of one ring (slots * slot_size) is at most this. */
#define KTUN_RING_MAX_DATA	(64U << 20)

/* The mmap() offsets of the two rings (also reported by the setup). */
#define KTUN_RING_OFF_RX	0x0ULL
#define KTUN_RING_OFF_TX	0x80000000ULL

/* Bits of a ring's flags word; the kernel writes it, the application reads. */
#define KTUN_RING_F_NEED_WAKEUP	(1U << 0)
#define KTUN_RING_F_DEAD	(1U << 1)	/* detached: calls get EBADFD */
#define KTUN_RING_F_ERROR	(1U << 2)	/* corrupt: calls get EBADMSG */

/* One entry. Unknown flag bits in a tx desc are a corrupt ring. */
struct ktun_ring_desc {
	__u32	len;
	__u32	flags;		/* none defined yet: 0 */
};

/* Where one ring lies, in the mapping at mmap_offset (all byte offsets). */
struct ktun_ring_layout {
	__u64	mmap_offset;	/* the offset argument of mmap() */
	__u64	mmap_size;	/* the length argument of mmap() */
	__u32	producer;
	__u32	consumer;
	__u32	flags;
	__u32	desc;
	__u32	data;
	__u32	slots;
	__u32	slot_size;
	__u32	reserved[5];
};

/* KTUN_RING_SETUP: in from the application, out from the kernel. */
struct ktun_ring_setup {
	__u32	version;	/* in: KTUN_RING_VERSION */
	__u32	flags;		/* in: none defined yet: 0 */
	__u32	rx_slots;	/* in: 0 or a power of two */
	__u32	rx_slot_size;	/* in: a power of two (ignored with no slots) */
	__u32	tx_slots;
	__u32	tx_slot_size;
	__u32	iff_flags;	/* out: IFF_TUN/IFF_TAP, IFF_NO_PI, IFF_VNET_HDR */
	__u32	vnet_hdr_sz;	/* out: with IFF_VNET_HDR, its size */
	__u32	vnet_le;	/* out: 1 when the header is little-endian */
	__u32	reserved[7];	/* in: 0 */
	struct ktun_ring_layout rx;	/* out */
	struct ktun_ring_layout tx;	/* out */
};

/* KTUN_RING_FEATURES: what this kernel offers; works on any fd. */
struct ktun_ring_features {
	__u32	version;	/* KTUN_RING_VERSION */
	__u32	setup_flags;	/* the ktun_ring_setup flags understood */
	__u32	desc_flags;	/* the ktun_ring_desc flags understood */
	__u32	min_slots;
	__u32	max_slots;
	__u32	min_slot_size;
	__u32	max_slot_size;
	__u32	max_data;
	__u32	reserved[8];
};

/* The counters of one direction. */
struct ktun_ring_dir_stats {
	__u64	packets;	/* entries moved through the ring */
	__u64	bytes;		/* their bytes, framing included */
	__u64	drops;		/* packets lost: ring full, too large, refused */
	__u64	invalid;	/* corrupt entries or indices seen */
	__u64	wakeups;	/* application wakeups (rx), kernel kicks (tx) */
	__u64	stops;		/* rx: times the queue was stopped on a full ring */
	__u64	reserved[2];
};

struct ktun_ring_stats {
	struct ktun_ring_dir_stats rx;
	struct ktun_ring_dir_stats tx;
};

/* KTUN_RING_KICK's argument: which rings to look at. */
#define KTUN_KICK_RX		(1U << 0)	/* rx slots were freed */
#define KTUN_KICK_TX		(1U << 1)	/* tx entries were produced */

#define KTUN_RING_FEATURES	_IOR('T', 0xf0, struct ktun_ring_features)
#define KTUN_RING_SETUP		_IOWR('T', 0xf1, struct ktun_ring_setup)
#define KTUN_RING_KICK		_IO('T', 0xf2)
#define KTUN_RING_STATS		_IOR('T', 0xf3, struct ktun_ring_stats)

#endif

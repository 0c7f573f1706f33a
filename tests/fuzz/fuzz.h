/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * What the fuzzer's files share: the seeded random source, the operation
 * kinds, the errno sets an operation may end with, the shared pool of fds
 * and device names, and the per-thread context. tests/fuzz.c drives the
 * run and the fd-side operations; tests/fuzz/net.c the rtnetlink side, the
 * stack-side senders and the frames written to the device.
 */
#ifndef KT_FUZZ_H
#define KT_FUZZ_H

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stddef.h>
#include <net/if.h>

/* xorshift64*: small, fast, and the same sequence for the same seed. */
struct fz_rng {
	uint64_t s;
};

static inline uint64_t fz_rand(struct fz_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

/* A number in [0, n). */
static inline uint32_t fz_below(struct fz_rng *r, uint32_t n)
{
	return n ? (uint32_t)(fz_rand(r) % n) : 0;
}

/* True with probability @pct percent. */
static inline int fz_chance(struct fz_rng *r, unsigned int pct)
{
	return fz_below(r, 100) < pct;
}

/* One of @n values of @arr, for "interesting values" tables. */
#define FZ_PICK(r, arr)	((arr)[fz_below(r, sizeof(arr) / sizeof((arr)[0]))])

/* The operation kinds, as counted and reported. */
enum fz_kind {
	FZ_OPEN, FZ_CLOSE, FZ_SETIFF, FZ_SETQUEUE, FZ_PERSIST, FZ_OWNER,
	FZ_IOCTL, FZ_BADIOCTL, FZ_WRITE, FZ_READ, FZ_POLL, FZ_FORK,
	FZ_LINK, FZ_NETNS, FZ_ADDR, FZ_SEND, FZ_INFO,
	/* The ring API (issue 8) goes here once include/uapi/linux/ktun.h
	 * defines it: FZ_RING, with its op in fuzz.c's table.
	 */
	FZ_NKINDS
};

extern const char *const fz_kind_names[FZ_NKINDS];

/*
 * Errno sets: a bit per errno an operation may legitimately return. An
 * errno outside the set fails the run.
 */
typedef uint64_t fz_eset;

enum {
	FZB_EPERM, FZB_ENOENT, FZB_EIO, FZB_ENXIO, FZB_E2BIG, FZB_EBADF,
	FZB_EAGAIN, FZB_ENOMEM, FZB_EFAULT, FZB_EBUSY, FZB_EEXIST, FZB_ENODEV,
	FZB_EINVAL, FZB_ENFILE, FZB_ENOSPC, FZB_ERANGE, FZB_EMSGSIZE,
	FZB_EOPNOTSUPP, FZB_EADDRNOTAVAIL, FZB_ENETDOWN, FZB_ENETUNREACH,
	FZB_ENOBUFS, FZB_EHOSTUNREACH, FZB_EBADFD, FZB_ECONNREFUSED,
	FZB_EAFNOSUPPORT, FZB_ENOTTY, FZB_EDESTADDRREQ, FZB_ENOTSUP,
	FZB_EPROTONOSUPPORT, FZB_EACCES,
};

#define E(x)	((fz_eset)1 << FZB_##x)

/* The bit of @err, or 0 if no set can hold it. */
fz_eset fz_ebit(int err);

/* A device name from the shared pool (or, now and then, an odd one). */
#define FZ_NAMES	6
const char *fz_pool_name(struct fz_rng *r);
/* The IPv4 subnet index (10.77.<k>.0/24) of pool name @name, or -1. */
int fz_pool_index(const char *name);

struct fz_thread {
	int idx;
	struct fz_rng rng;
	int nl[2];		/* rtnetlink sockets in namespace A and B */
	int udp, pkt, pktv;	/* stack-side senders: UDP, packet, packet+vnet */
	int epfd;
	/* what it runs now, for the watchdog; start_ns 0 when idle */
	volatile int kind;
	volatile unsigned long opno;
	volatile uint64_t start_ns;
	char what[160];		/* the current op, described */
	unsigned char buf[70000];
	unsigned char buf2[70000];
};

/* An fd of the pool. Ops on it hold the lock shared; open and close own it. */
struct fz_slot {
	pthread_rwlock_t lock;
	int fd;			/* -1: empty */
	int mode;		/* O_RDWR, O_RDONLY or O_WRONLY */
	int flags;		/* the last TUNSETIFF that succeeded: a hint */
	int flags_ever;		/* every flag a TUNSETIFF on it ever set */
	int vnet_sz;		/* the last TUNSETVNETHDRSZ that succeeded */
};

#define FZ_SLOTS	16
extern struct fz_slot fz_slots[FZ_SLOTS];
/* An unmapped page; the end of a mapping, followed by nothing. */
extern void *fz_hole, *fz_edge;

/* Takes a random open slot shared, preferring attached (1) or not (0). */
struct fz_slot *fz_slot_get(struct fz_thread *t, int want);
void fz_slot_put(struct fz_slot *s);
/* A pointer the kernel must refuse to touch, or touches only in part. */
void *fz_bad_ptr(struct fz_rng *r);
int fz_load(const int *p);

/* fd.c */
void fz_op_open(struct fz_thread *t);
void fz_op_close(struct fz_thread *t);
void fz_op_setiff(struct fz_thread *t);
void fz_op_setqueue(struct fz_thread *t);
void fz_op_persist(struct fz_thread *t);
void fz_op_owner(struct fz_thread *t);
void fz_op_write(struct fz_thread *t);
void fz_op_read(struct fz_thread *t);
void fz_op_poll(struct fz_thread *t);
void fz_op_fork(struct fz_thread *t);

/* ioctl.c */
void fz_op_ioctl(struct fz_thread *t);
void fz_op_badioctl(struct fz_thread *t);

/* The two namespaces: A (the fuzzer's own) and B (devices move there). */
extern int fz_ns[2];

/* Records the outcome of an op: @err 0 for success, else the errno. */
void fz_done(struct fz_thread *t, enum fz_kind kind, int err, fz_eset allowed);
/* Describes the op in progress (shown if it fails or hangs). */
void fz_what(struct fz_thread *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* net.c */
int fz_net_thread_init(struct fz_thread *t);
void fz_net_thread_uninit(struct fz_thread *t);
void fz_op_link(struct fz_thread *t);
void fz_op_netns(struct fz_thread *t);
void fz_op_addr(struct fz_thread *t);
void fz_op_send(struct fz_thread *t);
void fz_op_info(struct fz_thread *t);
/*
 * Builds a frame to write on a device framed by @flags (IFF_TAP, IFF_NO_PI,
 * IFF_VNET_HDR; @vnet_sz the header size to use): valid, truncated,
 * oversized or garbage, with hostile virtio-net headers. Returns its length.
 */
size_t fz_frame(struct fz_rng *r, unsigned char *buf, size_t size,
		int flags, int vnet_sz);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * ktun-fwd's internals, shared by its two files:
 *   tools/ktun-fwd.c   options, set-up, the socket side, the two threads
 *   tools/fwd/dev.c    the device side: open, and batches of packets in
 *                      and out by read()/write()
 *   tools/fwd/ring.c   the same batches through ktun's shared-memory rings
 */
#ifndef KTUN_FWD_H
#define KTUN_FWD_H

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/if_tun.h>
#include <linux/ktun.h>

#define FWD_MAX_BATCH	1024
#define FWD_DEF_BATCH	64
#define FWD_MAX_QUEUES	16
/* Socket buffers: a burst of small packets overflows the defaults first. */
#define FWD_SOCK_BUF	(4 << 20)
/*
 * What a packet carries besides its MTU's worth: tun_pi (4) and, on TAP,
 * an Ethernet header with a VLAN tag (18).
 */
#define FWD_FRAMING	22

enum fwd_io { FWD_IO_AUTO, FWD_IO_RING, FWD_IO_RW };

struct fwd_opts {
	const char *node;	/* the character device */
	const char *ifname;	/* NULL: the kernel's tun%d/tap%d */
	int iff;		/* TUNSETIFF flags */
	enum fwd_io io;		/* AUTO until fwd_dev_open() decides */
	int batch;
	int queues;
	int verbose;
	int mtu;		/* set on the interface at start */
	size_t pkt_max;		/* a buffer (ring slot): mtu + framing, a power of two */
	struct sockaddr_storage local, remote;
	socklen_t local_len, remote_len;
};

/*
 * One direction's counters. Each is written by that direction's thread
 * only, and read by the main thread while it runs (SIGUSR1): relaxed
 * atomics, with a plain load and store since there is one writer.
 */
struct fwd_stats {
	_Atomic unsigned long long packets, bytes, dropped;
};

static inline void fwd_stat_add(_Atomic unsigned long long *c, unsigned long long n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

struct fwd_ring_state;

/* One queue of the interface: a device fd, a UDP socket, two threads. */
struct fwd_queue {
	int idx;
	const struct fwd_opts *opts;
	char ifname[IFNAMSIZ];
	int fd;				/* the attached device queue */
	int sock;			/* connected UDP socket */
	pthread_t threads[2];		/* dev_to_sock, sock_to_dev */
	struct fwd_stats to_sock;	/* device -> peer */
	struct fwd_stats to_dev;	/* peer -> device */
	/* rw mode: one buffer of opts->pkt_max per batch entry and direction. */
	unsigned char *rx_bufs, *tx_bufs;
	struct fwd_ring_state *ring;	/* ring mode */
};

/* ktun-fwd.c: stopping and waiting. */
bool fwd_should_stop(void);
/* Reports a fatal error of queue @q and stops every thread. */
void fwd_fail(const struct fwd_queue *q, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* poll()s @fd for @events and the stop event: 0 when @fd is ready, -1 to stop. */
int fwd_wait(int fd, short events);

/*
 * dev.c: the device side. fwd_dev_open() attaches queue @q to @ifname
 * (NULL or "" for a new tun%d), fills q->ifname; for queue 0 it sets the
 * MTU and settles opts->io (auto: rings if the driver has them); then it
 * sets up that mode. Returns 0 or -1 with the error printed.
 */
int fwd_dev_open(struct fwd_queue *q, const char *ifname);
void fwd_dev_close(struct fwd_queue *q);

/*
 * Stack to peer, one thread: fwd_dev_rx() waits for packets and points up
 * to @max iovecs at them (returns how many, or -1 to stop); after they are
 * sent, fwd_dev_rx_done() gives the @n back.
 */
int fwd_dev_rx(struct fwd_queue *q, struct iovec *iov, unsigned int max);
void fwd_dev_rx_done(struct fwd_queue *q, unsigned int n);

/*
 * Peer to stack, one thread: fwd_dev_tx_get() points up to @max iovecs at
 * free buffers (waiting for one if none is free; -1 to stop); the caller
 * fills the first n and sets their lengths, and fwd_dev_tx_put() hands
 * those to the stack (the rest are given back). 0, or -1 to stop.
 */
int fwd_dev_tx_get(struct fwd_queue *q, struct iovec *iov, unsigned int max);
int fwd_dev_tx_put(struct fwd_queue *q, const struct iovec *iov, unsigned int n);

/*
 * ring.c: the ring mode behind the calls above. fwd_ring_offered() asks
 * the driver behind @fd whether it has rings; fwd_ring_setup() maps queue
 * @q's and sets q->ring (0, or -1 with the error printed).
 */
bool fwd_ring_offered(int fd);
int fwd_ring_setup(struct fwd_queue *q);
void fwd_ring_free(struct fwd_queue *q);
int fwd_ring_rx(struct fwd_queue *q, struct iovec *iov, unsigned int max);
void fwd_ring_rx_done(struct fwd_queue *q, unsigned int n);
int fwd_ring_tx_get(struct fwd_queue *q, struct iovec *iov, unsigned int max);
int fwd_ring_tx_put(struct fwd_queue *q, const struct iovec *iov, unsigned int n);
/* The kernel's counters of queue @q's rings, one line on stderr. */
void fwd_ring_print_stats(const struct fwd_queue *q);

#endif

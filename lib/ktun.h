/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * libktun: a thin userspace layer over the TUN/TAP ABI, shared by the
 * tests, the benchmarks and the tools. It speaks only <linux/if_tun.h> and
 * include/uapi/linux/ktun.h, so every program works against ktun and the
 * stock driver alike; KTUN_DEV picks the device node.
 */
#ifndef LIBKTUN_H
#define LIBKTUN_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* The character device to open: $KTUN_DEV, else /dev/net/ktun. */
const char *ktun_path(void);

/*
 * Opens the character device and attaches it with TUNSETIFF. @name may be
 * NULL or "" for a tun%d/tap%d name; the real name is written to @out
 * (IFNAMSIZ bytes) when @out is not NULL. Returns the fd, or -errno.
 */
int ktun_open(const char *name, int flags, char *out);

/* Runs a shell command built like printf; returns its exit status, -1 on error. */
int ktun_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The Internet checksum of @len bytes, folded, starting from @sum. */
uint16_t ktun_csum(const void *data, size_t len, uint32_t sum);

/*
 * Builds an IPv4 (or IPv6) UDP datagram with a correct checksum into @buf
 * (at least 48 + @len bytes). Returns the packet's length.
 */
size_t ktun_udp4(void *buf, struct in_addr src, struct in_addr dst,
		 uint16_t sport, uint16_t dport, const void *payload, size_t len);
size_t ktun_udp6(void *buf, const struct in6_addr *src,
		 const struct in6_addr *dst, uint16_t sport, uint16_t dport,
		 const void *payload, size_t len);

/*
 * Builds an IPv4 TCP segment (no options, checksums correct) into @buf (at
 * least 40 + @len bytes): @flags are the TCP flag bits (0x10 ACK, ...),
 * @seq and @ack in host order. Returns the packet's length.
 */
size_t ktun_tcp4(void *buf, struct in_addr src, struct in_addr dst,
		 uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
		 uint8_t flags, uint16_t window, const void *payload, size_t len);

/*
 * Reads /sys/class/net/@ifname/@attr ("mtu", "carrier", "flags",
 * "statistics/tx_dropped", ...) as an unsigned number (decimal or 0x hex)
 * into @val.
 * Returns 0, or -errno (-EINVAL for "carrier" while the link is down).
 */
int ktun_sysfs_u64(const char *ifname, const char *attr, unsigned long long *val);

/*
 * Links over rtnetlink (lib/link.c, on libmnl). Functions return 0 or
 * -errno; those taking @msg copy the kernel's extended-ack message there
 * ("" when it gave none).
 */

/* The link kind the device node in use serves: "tun" for /dev/net/tun, else "ktun". */
const char *ktun_link_kind(void);

/* What "ip link add NAME type ktun" takes; ktun_link_config_init() sets the defaults. */
struct ktun_link_config {
	const char *kind;	/* NULL: ktun_link_kind() */
	int type;		/* IFF_TUN (default) or IFF_TAP */
	int pi, vnet_hdr, multi_queue;	/* 1: on, 0: off (default) */
	long long owner, group;	/* -1: unset (default) */
	unsigned int queues;	/* numtxqueues and numrxqueues; 0: the driver's default */
	int netns_fd;		/* create in this network namespace; -1: the caller's */
};

void ktun_link_config_init(struct ktun_link_config *cfg);

/* Creates a persistent device @ifname (NULL or "": tun%d/tap%d). */
int ktun_link_add(const char *ifname, const struct ktun_link_config *cfg,
		  char *msg, size_t msglen);

/*
 * What rtnetlink says of a TUN/TAP interface: its IFLA_LINKINFO kind, the
 * IFLA_TUN_* attributes "ip -d link show" prints, and the interface's own.
 * Fields the kernel did not report are -1 (owner and group when unset, the
 * queue counts on a single-queue device).
 */
struct ktun_link_info {
	char name[16];
	int ifindex;
	unsigned int ifflags;	/* IFF_UP, ... */
	char kind[16];
	int type;		/* IFF_TUN or IFF_TAP */
	int pi, vnet_hdr, persist, multi_queue;
	long long owner, group;
	long long numqueues, numdisabled;
	unsigned int mtu, txqlen;
	unsigned int maxqueues;	/* queues allocated: how many files may attach */
	int carrier;
	unsigned long long rx_packets, rx_bytes, rx_dropped;
	unsigned long long tx_packets, tx_bytes, tx_dropped;
};

/* Fills @info for @ifname. -ENODEV: no such interface. */
int ktun_link_info(const char *ifname, struct ktun_link_info *info);

/*
 * Calls @fn for every link of @kind (NULL: ktun_link_kind()) in the
 * caller's namespace; a non-zero return of @fn ends the walk and is returned.
 */
int ktun_link_list(const char *kind,
		   int (*fn)(const struct ktun_link_info *info, void *arg),
		   void *arg);

/* One queue in service, as ktun's "ethtool -S" reports it. */
struct ktun_queue_stats {
	unsigned long long queued;	/* packets waiting for the reader */
	unsigned long long capacity;	/* how many the queue holds */
};

/*
 * Fills @qs[0..] for the queues of @ifname in service (at most @max);
 * returns how many, or -errno (-EOPNOTSUPP: a driver without them, stock).
 */
int ktun_link_queue_stats(const char *ifname, struct ktun_queue_stats *qs,
			  unsigned int max);

/* Deletes @ifname, as "ip link del" does. */
int ktun_link_del(const char *ifname);

/* Moves @ifname into the network namespace of @netns_fd. */
int ktun_link_set_netns(const char *ifname, int netns_fd);

/*
 * Sends one rtnetlink request the caller built (with libmnl, say) and waits
 * for its acknowledgement; sets the sequence number. For what the calls
 * above do not cover.
 */
struct nlmsghdr;
int ktun_rtnl(struct nlmsghdr *nlh, char *msg, size_t msglen);

#endif

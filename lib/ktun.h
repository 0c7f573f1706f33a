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
 * What rtnetlink says of a TUN/TAP interface: its IFLA_LINKINFO kind and
 * the IFLA_TUN_* attributes "ip -d link show" prints. Fields the kernel did
 * not report are -1 (owner and group when unset, the queue counts on a
 * single-queue device).
 */
struct ktun_link_info {
	char kind[16];
	int type;		/* IFF_TUN or IFF_TAP */
	int pi, vnet_hdr, persist, multi_queue;
	long long owner, group;
	long long numqueues, numdisabled;
};

/* Fills @info for @ifname. Returns 0, or -errno (-ENODEV: no such interface). */
int ktun_link_info(const char *ifname, struct ktun_link_info *info);

/* Deletes @ifname through rtnetlink, as "ip link del" does. Returns 0 or -errno. */
int ktun_link_del(const char *ifname);

#endif

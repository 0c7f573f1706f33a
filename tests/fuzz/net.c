// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The fuzzer's operations on the network side: rtnetlink on the pool's
 * devices (up, down, MTU, address, txqueuelen, rename, carrier, delete),
 * moves between the two namespaces, addresses, reads of what tools read
 * (sysfs, IFLA_TUN_*, ethtool), and the stack-side senders that hit the
 * transmit path while the fd side writes, reads and detaches.
 */
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <sys/socket.h>

#include "ktun.h"
#include "nl.h"
#include "fuzz.h"

#define LINK_ERRS	(E(ENODEV) | E(EINVAL) | E(EBUSY) | E(EOPNOTSUPP) | \
			 E(EADDRNOTAVAIL) | E(ERANGE) | E(EEXIST) | E(EPERM))

int fz_net_thread_init(struct fz_thread *t)
{
	int one = 1;

	t->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	t->pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	t->pktv = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (t->udp < 0 || t->pkt < 0 || t->pktv < 0)
		return -errno;
	if (setsockopt(t->udp, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) ||
	    setsockopt(t->pktv, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)))
		return -errno;
	return 0;
}

void fz_net_thread_uninit(struct fz_thread *t)
{
	close(t->udp);
	close(t->pkt);
	close(t->pktv);
}

/*
 * A device name for link operations: the pool's, never lo (its rename or
 * removal would be the fuzzer breaking its own namespace, not the driver).
 */
static const char *link_name(struct fz_rng *r)
{
	const char *name = fz_pool_name(r);

	return strcmp(name, "lo") ? name : "fz0";
}

/* Runs the rest of an op in namespace B (1) or A (0). */
static void in_ns(int ns)
{
	setns(fz_ns[ns], CLONE_NEWNET);
}

/* RTM_NEWLINK on @name with one attribute; returns 0 or an errno. */
static int newlink(const char *name, int type, const void *data, size_t len,
		   unsigned int flags, unsigned int change)
{
	struct kt_nlreq r;
	int idx = if_nametoindex(name);

	if (!idx)
		return ENODEV;
	memset(&r, 0, sizeof(r));
	r.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r.n.nlmsg_type = RTM_NEWLINK;
	r.ifi.ifi_family = AF_UNSPEC;
	r.ifi.ifi_index = idx;
	r.ifi.ifi_flags = flags;
	r.ifi.ifi_change = change;
	if (type)
		kt_nl_attr(&r, type, data, len);
	return -kt_nl_talk(&r);
}

void fz_op_link(struct fz_thread *t)
{
	static const unsigned int mtus[] = {
		0, 67, 68, 576, 1280, 1500, 9000, 65521, 65535, 65536, 0xffffffff,
	};
	static const unsigned int qlens[] = {
		0, 1, 5, 100, 500, 1000, 4096, 65536, 1 << 20, 0xffffffff,
	};
	struct fz_rng *r = &t->rng;
	const char *name = link_name(r), *to;
	int ns = fz_chance(r, 15), err, i;
	unsigned char addr[16];
	unsigned int v;

	in_ns(ns);
	switch (fz_below(r, 10)) {
	case 0:
	case 8:
	case 9:
		v = fz_chance(r, 75);
		fz_what(t, "link %s %s", name, v ? "up" : "down");
		err = newlink(name, 0, NULL, 0, v ? IFF_UP : 0, IFF_UP);
		break;
	case 1:
		v = FZ_PICK(r, mtus);
		fz_what(t, "link %s mtu %u", name, v);
		err = newlink(name, IFLA_MTU, &v, 4, 0, 0);
		break;
	case 2:
		v = fz_chance(r, 80) ? 6 : FZ_PICK(r, ((const unsigned int[]){ 0, 1, 4, 16 }));
		for (i = 0; i < 16; i++)
			addr[i] = fz_rand(r);
		if (fz_chance(r, 70))
			addr[0] &= ~1;
		fz_what(t, "link %s address of %u bytes", name, v);
		err = newlink(name, IFLA_ADDRESS, addr, v, 0, 0);
		break;
	case 3:
		v = FZ_PICK(r, qlens);
		fz_what(t, "link %s txqueuelen %u", name, v);
		err = newlink(name, IFLA_TXQLEN, &v, 4, 0, 0);
		/* Queues as long as that may not be allocatable. */
		if (err == ENOMEM && v > 65536)
			err = 0;
		break;
	case 4:
		to = link_name(r);
		fz_what(t, "link %s rename to \"%.16s\"", name, to);
		err = newlink(name, IFLA_IFNAME, to, strnlen(to, IFNAMSIZ - 1) + 1, 0, 0);
		break;
	case 5:
		v = fz_below(r, 2);
		fz_what(t, "link %s carrier %u", name, v);
		err = newlink(name, IFLA_CARRIER, &v, 1, 0, 0);
		break;
	case 6:
		fz_what(t, "link %s delete", name);
		err = -kt_nl_link_del(name);
		break;
	default:
		fz_what(t, "link %s set mtu through SIOCSIFMTU", name);
		err = -kt_nl_set_mtu(name, FZ_PICK(r, mtus));
		break;
	}
	in_ns(0);
	fz_done(t, FZ_LINK, err, LINK_ERRS);
}

/* A pool device moves to the other namespace, perhaps renamed on the way. */
void fz_op_netns(struct fz_thread *t)
{
	struct fz_rng *r = &t->rng;
	const char *name = link_name(r), *to = link_name(r);
	int from = fz_chance(r, 40), rename = fz_chance(r, 20), err, idx;
	struct kt_nlreq q;

	fz_what(t, "move %s from netns %c%s%s", name, "AB"[from],
		rename ? " as " : "", rename ? to : "");
	in_ns(from);
	idx = if_nametoindex(name);
	err = ENODEV;
	if (idx) {
		memset(&q, 0, sizeof(q));
		q.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
		q.n.nlmsg_type = RTM_NEWLINK;
		q.ifi.ifi_family = AF_UNSPEC;
		q.ifi.ifi_index = idx;
		kt_nl_attr(&q, IFLA_NET_NS_FD, &fz_ns[!from], 4);
		if (rename)
			kt_nl_attr(&q, IFLA_IFNAME, to, strnlen(to, IFNAMSIZ - 1) + 1);
		err = -kt_nl_talk(&q);
	}
	in_ns(0);
	fz_done(t, FZ_NETNS, err, LINK_ERRS);
}

void fz_op_addr(struct fz_thread *t)
{
	struct fz_rng *r = &t->rng;
	const char *name = link_name(r);
	int k = fz_pool_index(name), err;
	char cidr[64], path[128];

	if (k < 0)
		k = fz_below(r, FZ_NAMES);
	if (fz_chance(r, 15)) {
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%.16s/disable_ipv6", name);
		fz_what(t, "%s", path);
		k = open(path, O_WRONLY | O_CLOEXEC);
		err = k < 0 ? errno : write(k, fz_chance(r, 50) ? "1" : "0", 1) < 0 ? errno : 0;
		if (k >= 0)
			close(k);
		fz_done(t, FZ_ADDR, err, E(ENOENT) | E(ENODEV));
		return;
	}
	if (fz_chance(r, 70))
		snprintf(cidr, sizeof(cidr), "10.77.%d.1/24", k);
	else
		snprintf(cidr, sizeof(cidr), "fd77::%d:1/112", k);
	fz_what(t, "address %s on %.16s", cidr, name);
	err = -kt_nl_addr_add(name, cidr);
	fz_done(t, FZ_ADDR, err, E(EEXIST) | E(ENODEV) | E(EINVAL) | E(EACCES) |
		E(EADDRNOTAVAIL));
}

/* The stack hits transmit: UDP to peers behind the pool, or raw frames. */
void fz_op_send(struct fz_thread *t)
{
	struct fz_rng *r = &t->rng;
	const char *name = fz_pool_name(r);
	int k = fz_pool_index(name), how = fz_below(r, 10), err, idx;
	size_t len = fz_chance(r, 90) ? fz_below(r, 1473) : 1473 + fz_below(r, 63000);
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_ll *sll = (struct sockaddr_ll *)&ss;
	struct virtio_net_hdr *vh;
	ssize_t ret;

	if (k < 0)
		k = fz_below(r, FZ_NAMES);
	memset(&ss, 0, sizeof(ss));
	if (how < 5) {
		static const char *const dsts[] = { "10.77.%d.2", "10.77.%d.255", "10.77.%d.%d" };
		char dst[32];

		snprintf(dst, sizeof(dst), FZ_PICK(r, dsts), k, 3 + fz_below(r, 250));
		if (fz_chance(r, 10))
			snprintf(dst, sizeof(dst), "224.0.0.%u", 1 + fz_below(r, 250));
		sin->sin_family = AF_INET;
		sin->sin_port = htons(1 + fz_below(r, 65535));
		inet_pton(AF_INET, dst, &sin->sin_addr);
		fz_what(t, "udp %zu bytes to %s", len, dst);
		ret = sendto(t->udp, t->buf2, len, MSG_DONTWAIT, (struct sockaddr *)sin,
			     sizeof(*sin));
	} else {
		int vnet = how >= 8, s = vnet ? t->pktv : t->pkt;
		size_t off = vnet ? sizeof(*vh) : 0;

		idx = if_nametoindex(name);
		sll->sll_family = AF_PACKET;
		sll->sll_ifindex = idx || fz_chance(r, 90) ? idx : (int)fz_below(r, 64);
		sll->sll_protocol = htons(fz_chance(r, 80) ? ETH_P_IP : fz_rand(r));
		len = fz_frame(r, t->buf2 + off, sizeof(t->buf2) - off,
			       IFF_NO_PI | (fz_chance(r, 50) ? IFF_TAP : IFF_TUN), 0);
		if (vnet) {
			vh = (struct virtio_net_hdr *)t->buf2;
			memset(vh, 0, sizeof(*vh));
			if (fz_chance(r, 50)) {
				vh->flags = fz_below(r, 4);
				vh->gso_type = FZ_PICK(r, ((const uint8_t[]){ 0, 1, 3, 4, 0x81, 5 }));
				vh->gso_size = fz_chance(r, 70) ? 1000 : (uint16_t)fz_rand(r);
				vh->hdr_len = fz_below(r, 128);
				vh->csum_start = fz_chance(r, 70) ? 34 : fz_below(r, 2000);
				vh->csum_offset = fz_chance(r, 70) ? 16 : fz_below(r, 64);
			}
			len += off;
		}
		fz_what(t, "packet%s socket: %zu bytes to ifindex %d (%s)", vnet ? "+vnet" : "",
			len, sll->sll_ifindex, name);
		ret = sendto(s, t->buf2, len, MSG_DONTWAIT, (struct sockaddr *)sll,
			     sizeof(*sll));
	}
	err = ret < 0 ? errno : 0;
	fz_done(t, FZ_SEND, err, E(ENETUNREACH) | E(EHOSTUNREACH) | E(ENODEV) |
		E(ENXIO) | E(ENETDOWN) | E(ENOBUFS) | E(EAGAIN) | E(EINVAL) |
		E(EMSGSIZE) | E(EADDRNOTAVAIL) | E(ECONNREFUSED) | E(EPERM) |
		E(ENOMEM));
}

/* What tools read: sysfs attributes, IFLA_TUN_*, ethtool driver info. */
void fz_op_info(struct fz_thread *t)
{
	static const char *const attrs[] = {
		"tun_flags", "owner", "group", "address", "mtu", "carrier",
		"operstate", "tx_queue_len", "statistics/rx_dropped",
		"statistics/tx_dropped", "queues/rx-0/rps_cpus",
	};
	struct fz_rng *r = &t->rng;
	const char *name = fz_pool_name(r), *attr = FZ_PICK(r, attrs);
	struct ethtool_drvinfo di = { .cmd = ETHTOOL_GDRVINFO };
	struct ktun_link_info li;
	struct ifreq ifr;
	char path[128], buf[256];
	int fd, err;

	switch (fz_below(r, 3)) {
	case 0:
		snprintf(path, sizeof(path), "/sys/class/net/%.16s/%s", name, attr);
		fz_what(t, "read %s", path);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		err = fd < 0 ? errno : read(fd, buf, sizeof(buf)) < 0 ? errno : 0;
		if (fd >= 0)
			close(fd);
		break;
	case 1:
		fz_what(t, "link info of %.16s", name);
		err = -ktun_link_info(name, &li);
		break;
	default:
		memset(&ifr, 0, sizeof(ifr));
		memcpy(ifr.ifr_name, name, strnlen(name, IFNAMSIZ - 1));
		ifr.ifr_data = (void *)&di;
		fz_what(t, "ethtool drvinfo of %.16s", name);
		err = ioctl(t->udp, SIOCETHTOOL, &ifr) ? errno : 0;
		break;
	}
	fz_done(t, FZ_INFO, err, E(ENOENT) | E(ENODEV) | E(EINVAL) | E(EOPNOTSUPP));
}

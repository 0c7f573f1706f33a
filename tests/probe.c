// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * wireguard-go's link-state probe. It writes nothing, write(fd, NULL, 0),
 * and reads the link state from the errno: EINVAL means up ("write allowed,
 * bad data"), EIO means down, and any other errno ends its listener. The
 * stock driver checks a packet before it checks the link, so an empty
 * write answers EINVAL whether the link is up or down (6.1 and 6.12 alike)
 * and only a well-formed packet meets EIO on a down link. ktun must answer
 * exactly as stock, for every framing wireguard-go has used (TUN with
 * tun_pi; without it and with the virtio-net header) and the others; the same
 * program runs against the stock driver (KTUN_TEST_DRIVER=stock).
 *
 *   app: write(fd, NULL, 0) and write(fd, IPv4 UDP) --> dev, down then up
 */

#include <linux/virtio_net.h>

#include "net.h"

#define LOCAL4	"10.76.0.1"
#define PEER4	"10.76.0.2"

/* A well-formed IPv4 datagram to LOCAL4 in @flags' framing; its length. */
static size_t good_packet(int flags, uint8_t *buf)
{
	struct in_addr s, d;
	size_t off = 0, n;

	inet_pton(AF_INET, PEER4, &s);
	inet_pton(AF_INET, LOCAL4, &d);
	if (!(flags & IFF_NO_PI)) {
		struct tun_pi pi = { 0, htons(flags & IFF_TAP ? 0 : 0x0800) };

		memcpy(buf, &pi, sizeof(pi));
		off += sizeof(pi);
	}
	if (flags & IFF_VNET_HDR) {
		memset(buf + off, 0, sizeof(struct virtio_net_hdr));
		off += sizeof(struct virtio_net_hdr);
	}
	if (flags & IFF_TAP) {
		static const uint8_t eth[14] = {
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
			0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00 };

		memcpy(buf + off, eth, sizeof(eth));
		off += sizeof(eth);
	}
	n = ktun_udp4(buf + off, s, d, 9, 9, "probe", 5);
	return off + n;
}

static void probe(int flags, const char *tag)
{
	char name[IFNAMSIZ];
	uint8_t pkt[256];
	size_t len = good_packet(flags, pkt);
	int fd = kt_attach(kt_ifname(name, tag), flags, NULL);

	/* down: the empty probe is refused as data, a real packet as I/O */
	EXPECT_ERRNO(write(fd, NULL, 0), EINVAL);
	EXPECT_ERRNO(write(fd, pkt, len), EIO);
	kt_dev_up(name, LOCAL4 "/24", NULL);
	EXPECT_ERRNO(write(fd, NULL, 0), EINVAL);
	EXPECT_EQ(write(fd, pkt, len), (ssize_t)len);
	kt_down(name);
	EXPECT_ERRNO(write(fd, NULL, 0), EINVAL);
	EXPECT_ERRNO(write(fd, pkt, len), EIO);
	close(fd);
}

TEST(tun_no_pi)
{
	probe(IFF_TUN | IFF_NO_PI, "a");
}

/* wireguard-go with its offloads (0.0.20230223 and later) */
TEST(tun_no_pi_vnet)
{
	probe(IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, "b");
}

/* wireguard-go before its offloads (Debian 12's 0.0.20220316) */
TEST(tun_pi)
{
	probe(IFF_TUN, "c");
}

TEST(tap_no_pi)
{
	probe(IFF_TAP | IFF_NO_PI, "d");
}

TEST(tap_vnet)
{
	probe(IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, "e");
}

// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * UDP segmentation offload (USO) through the virtio-net header: the
 * TUNSETOFFLOAD bits TUN_F_USO4/TUN_F_USO6 and VIRTIO_NET_HDR_GSO_UDP_L4,
 * which kernels from 6.2 have (6.12 here) and 6.1 does not. Where the
 * kernel has them: UDP_SEGMENT super-datagrams the stack sends arrive as
 * one read with a GSO_UDP_L4 header, and a written GSO_UDP_L4 packet
 * reaches a socket as its segments. Where it does not: the bits are refused
 * with EINVAL, as by that kernel's stock driver, which is what programs
 * such as wireguard-go probe before falling back to TSO alone.
 *
 *   stack: UDP socket on 10.74.0.1 --> dev (10.74.0.1/24) --> app: header + packet
 *   app:   header + packet from 10.74.0.2 --> dev --> socket on 10.74.0.1
 *
 * (tests/vnet.c holds the rest of the header; this file only what depends
 * on the kernel having USO.)
 */

#include <sys/utsname.h>
#include <linux/virtio_net.h>

#include "net.h"

/* Debian 12's userspace headers are 6.1's: the values of 6.2's ABI. */
#ifndef TUN_F_USO4
#define TUN_F_USO4	0x20
#define TUN_F_USO6	0x40
#endif
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4	5
#endif
#ifndef UDP_SEGMENT
#define UDP_SEGMENT	103
#endif

#define A4	"10.74.0.1/24"
#define LOCAL4	"10.74.0.1"
#define PEER4	"10.74.0.2"
#define VH	sizeof(struct virtio_net_hdr)
#define USO_ALL	(TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6)
#define SEG	500
#define NSEG	3

/* Whether the running kernel has USO in TUN/TAP: 6.2 and later. */
static int kernel_has_uso(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major > 6 || (major == 6 && minor >= 2);
}

#define NEED_USO() do {							\
	if (!kernel_has_uso())						\
		SKIP("this kernel has no USO in TUN/TAP (6.2+)");	\
} while (0)

/* ethtool's word for NETIF_F_GSO_UDP_L4 on @name. */
static int uso_feature_on(const char *name)
{
	char cmd[96], out[8192];

	snprintf(cmd, sizeof(cmd), "ethtool -k %s", name);
	ASSERT_EQ(kt_capture(out, sizeof(out), cmd), 0);
	return !!strstr(out, "tx-udp-segmentation: on");
}

/* A vnet-header device with @offload set, up on A4. Returns the fd. */
static int uso_dev(char *name, int flags, unsigned long offload)
{
	int fd = kt_attach(kt_ifname(name, "u"), flags | IFF_NO_PI | IFF_VNET_HDR, NULL);

	ASSERT_OK(ioctl(fd, TUNSETOFFLOAD, offload));
	kt_dev_up(name, A4, NULL);
	if (flags & IFF_TAP)
		RUN("ip neigh replace %s lladdr 02:6b:74:00:00:02 dev %s nud permanent",
		    PEER4, name);
	return fd;
}

/* USO4 and USO6 together, with checksum offload, or not at all. */
TEST(offload_bits)
{
	static const unsigned long bad[] = {
		TUN_F_USO4, TUN_F_USO6, TUN_F_USO4 | TUN_F_USO6,
		TUN_F_CSUM | TUN_F_USO4, TUN_F_CSUM | TUN_F_USO6,
	};
	char name[IFNAMSIZ];
	unsigned int i;
	int fd = kt_attach(kt_ifname(name, "u"), IFF_TUN | IFF_NO_PI | IFF_VNET_HDR, NULL);

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_ERRNO(ioctl(fd, TUNSETOFFLOAD, bad[i]), EINVAL);
	if (!kernel_has_uso()) {
		/* the probe a program makes, then its fallback */
		EXPECT_ERRNO(ioctl(fd, TUNSETOFFLOAD, (unsigned long)USO_ALL), EINVAL);
		ASSERT_OK(ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)));
		EXPECT_FALSE(uso_feature_on(name));
		close(fd);
		return;
	}
	ASSERT_OK(ioctl(fd, TUNSETOFFLOAD, (unsigned long)(USO_ALL | TUN_F_TSO4 | TUN_F_TSO6)));
	EXPECT_TRUE(uso_feature_on(name));
	ASSERT_OK(ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)));
	EXPECT_FALSE(uso_feature_on(name));
	close(fd);
}

/* A write naming GSO_UDP_L4 is refused where the kernel has no USO. */
TEST(write_refused_without_uso)
{
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4,
		.hdr_len = 28, .gso_size = 8, .csum_start = 20, .csum_offset = 6,
	};
	uint8_t buf[256];
	char name[IFNAMSIZ];
	size_t n;
	int fd;

	if (kernel_has_uso())
		SKIP("this kernel has USO");
	fd = uso_dev(name, IFF_TUN, TUN_F_CSUM);
	memcpy(buf, &h, VH);
	n = kt_build_udp(buf + VH, KT_RAW, NULL, NULL, PEER4, 5000, LOCAL4, 8500,
			 "0123456789abcdef", 16);
	EXPECT_ERRNO(write(fd, buf, VH + n), EINVAL);
	close(fd);
}

/*
 * The stack sends one UDP_SEGMENT super-datagram: the application reads it
 * whole, described as GSO_UDP_L4 with the segment size and a partial
 * checksum, as a virtio peer would be handed it.
 */
static void check_read_uso(int flags)
{
	char name[IFNAMSIZ];
	uint8_t data[SEG * NSEG], buf[8192];
	struct virtio_net_hdr h;
	size_t off = (flags & IFF_TAP) ? 14 : 0;
	int fd, s, seg = SEG, i;
	ssize_t n = -1;

	NEED_USO();
	fd = uso_dev(name, flags, USO_ALL);
	ASSERT_TRUE(uso_feature_on(name));
	s = kt_udp_bind(LOCAL4, 0);
	ASSERT_OK(setsockopt(s, IPPROTO_UDP, UDP_SEGMENT, &seg, sizeof(seg)));
	memset(data, 0x6b, sizeof(data));
	kt_udp_send(s, PEER4, 8501, data, sizeof(data));
	/* skip what the stack sends of its own (IPv6 is off, but ARP is not) */
	for (i = 0; i < 100; i++) {
		n = kt_read_wait(fd, buf, sizeof(buf), KT_WAIT_MS);
		ASSERT_GT(n, 0);
		if ((size_t)n >= VH + off + 28 && buf[VH + off] == 0x45 &&
		    buf[VH + off + 9] == IPPROTO_UDP &&
		    (buf[VH + off + 22] << 8 | buf[VH + off + 23]) == 8501)
			break;
	}
	ASSERT_LT(i, 100);
	memcpy(&h, buf, VH);
	EXPECT_EQ(h.gso_type, VIRTIO_NET_HDR_GSO_UDP_L4);
	EXPECT_EQ(h.gso_size, SEG);
	EXPECT_EQ(h.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	EXPECT_EQ(h.csum_start, off + 20);
	EXPECT_EQ(h.csum_offset, 6);
	EXPECT_EQ(h.hdr_len, off + 28);
	EXPECT_EQ((size_t)n, VH + off + 28 + sizeof(data));
	close(s);
	close(fd);
}

TEST(read_uso_tun)
{
	check_read_uso(IFF_TUN);
}

TEST(read_uso_tap)
{
	check_read_uso(IFF_TAP);
}

/*
 * The application writes one GSO_UDP_L4 packet of NSEG segments: the
 * socket receives NSEG datagrams of SEG bytes, each with its own data.
 */
TEST(write_uso_tun)
{
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_UDP_L4,
		.hdr_len = 28, .gso_size = SEG, .csum_start = 20, .csum_offset = 6,
	};
	uint8_t data[SEG * NSEG], buf[VH + 28 + sizeof(data)], got[2048];
	struct iphdr *ip = (struct iphdr *)(buf + VH);
	struct udphdr *uh = (struct udphdr *)(buf + VH + 20);
	char name[IFNAMSIZ];
	uint32_t sum;
	size_t n;
	int fd, s, i;

	NEED_USO();
	fd = uso_dev(name, IFF_TUN, USO_ALL);
	s = kt_udp_bind(LOCAL4, 8502);
	for (i = 0; i < (int)sizeof(data); i++)
		data[i] = i / SEG + 'a';
	memcpy(buf, &h, VH);
	n = kt_build_udp(buf + VH, KT_RAW, NULL, NULL, PEER4, 5000, LOCAL4, 8502,
			 data, sizeof(data));
	ASSERT_EQ(n, 28 + sizeof(data));
	/* NEEDS_CSUM: the field holds the pseudo header's sum only */
	sum = ntohs(htons(IPPROTO_UDP)) + 8 + sizeof(data);
	sum += ntohs(ip->saddr & 0xffff) + ntohs(ip->saddr >> 16);
	sum += ntohs(ip->daddr & 0xffff) + ntohs(ip->daddr >> 16);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uh->check = htons(sum);
	ASSERT_EQ(write(fd, buf, VH + n), (ssize_t)(VH + n));
	for (i = 0; i < NSEG; i++) {
		ssize_t r = kt_recv_wait(s, got, sizeof(got));

		ASSERT_EQ(r, SEG);
		EXPECT_EQ(got[0], 'a' + i);
		EXPECT_EQ(got[SEG - 1], 'a' + i);
	}
	close(s);
	close(fd);
}

// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Seed scenario 2: UDP through the device both ways, IPv4 and IPv6, on TUN
 * and TAP, with and without tun_pi.
 *
 *   app --write--> [peer 10.65.0.2 / fd00:65::2] dev --> socket bound to
 *                  10.65.0.1:9000 / [fd00:65::1]:9000 (the stack)
 *   socket --sendto peer:5000--> dev --read--> app
 *
 * The socket gets the app's payload from the peer's address; the app gets
 * the socket's datagram, well-formed (checksum too) and addressed right.
 */

#include "net.h"

#define A4	"10.65.0.1/24"
#define LOCAL4	"10.65.0.1"
#define PEER4	"10.65.0.2"
#define A6	"fd00:65::1/64"
#define LOCAL6	"fd00:65::1"
#define PEER6	"fd00:65::2"

static const uint8_t peer_mac[6] = { 0x02, 0x6b, 0x74, 0x00, 0x00, 0x02 };

static void roundtrip(int flags, const char *tag, int v6)
{
	static const size_t sizes[] = { 1, 100, 1400 };
	const char *local = v6 ? LOCAL6 : LOCAL4, *peer = v6 ? PEER6 : PEER4;
	int l2 = kt_l2_of(flags), fd, s;
	uint8_t frame[2048], data[1400], got[2048], mac[6] = { 0 };
	char name[IFNAMSIZ], from[INET6_ADDRSTRLEN];
	struct sockaddr_storage ss;
	socklen_t sl;
	unsigned int i, j;
	struct kt_pkt p;
	size_t n;
	ssize_t r;

	fd = kt_attach(kt_ifname(name, tag), flags, NULL);
	kt_dev_up(name, A4, v6 ? A6 : NULL);
	if (l2 >= KT_ETH) {
		kt_mac(name, mac);
		kt_neigh(name, peer);
	}
	s = kt_udp_bind(local, 9000);

	for (i = 0; i < 3; i++) {
		for (j = 0; j < sizes[i]; j++)
			data[j] = i * 7 + j;

		/* app -> stack */
		n = kt_build_udp(frame, l2, mac, peer_mac, peer, 5000, local, 9000, data, sizes[i]);
		ASSERT_EQ(write(fd, frame, n), n);
		r = kt_recv_wait(s, got, sizeof(got));
		if (r < 0)
			FAIL("datagram %u (%zu bytes) written by the app never reached the socket: %s",
			     i, sizes[i], kt_errname(errno));
		ASSERT_EQ(r, sizes[i]);
		EXPECT_EQ(memcmp(got, data, sizes[i]), 0);

		/* stack -> app */
		sl = kt_sockaddr(&ss, peer, 5000);
		ASSERT_EQ(sendto(s, data, sizes[i], 0, (struct sockaddr *)&ss, sl), sizes[i]);
		r = kt_read_udp(fd, l2, 5000, got, sizeof(got), &p);
		EXPECT_EQ(r, l2 + (v6 ? 48 : 28) + sizes[i]);
		EXPECT_EQ(p.family, v6 ? AF_INET6 : AF_INET);
		EXPECT_EQ(p.sport, 9000);
		ASSERT_EQ(p.dlen, sizes[i]);
		EXPECT_EQ(memcmp(p.data, data, sizes[i]), 0);
		EXPECT_TRUE(kt_udp_csum_ok(&p));
		inet_ntop(p.family, p.ip + (v6 ? 8 : 12), from, sizeof(from));
		EXPECT_STREQ(from, local);
		inet_ntop(p.family, p.ip + (v6 ? 24 : 16), from, sizeof(from));
		EXPECT_STREQ(from, peer);
		if (!v6)
			EXPECT_EQ(ktun_csum(p.ip, 20, 0), 0);
		if (kt_pi_len(l2))
			EXPECT_EQ(got[2] << 8 | got[3], v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP);
		if (l2 >= KT_ETH) {
			const uint8_t *eth = got + kt_pi_len(l2);

			EXPECT_EQ(memcmp(eth, peer_mac, 6), 0);
			EXPECT_EQ(memcmp(eth + 6, mac, 6), 0);
			EXPECT_EQ(p.ethertype, v6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP);
		}
	}
	close(s);
	close(fd);
}

TEST(tun_ipv4)
{
	roundtrip(IFF_TUN | IFF_NO_PI, "t", 0);
}

TEST(tun_ipv6)
{
	roundtrip(IFF_TUN | IFF_NO_PI, "s", 1);
}

TEST(tun_pi_ipv4)
{
	roundtrip(IFF_TUN, "p", 0);
}

TEST(tun_pi_ipv6)
{
	roundtrip(IFF_TUN, "q", 1);
}

TEST(tap_ipv4)
{
	roundtrip(IFF_TAP | IFF_NO_PI, "a", 0);
}

TEST(tap_ipv6)
{
	roundtrip(IFF_TAP | IFF_NO_PI, "b", 1);
}

TEST(tap_pi_ipv4)
{
	roundtrip(IFF_TAP, "c", 0);
}

/* The source address the socket sees is the one the app forged. */
TEST(tun_source_address)
{
	char name[IFNAMSIZ], buf[64], from[INET_ADDRSTRLEN];
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	uint8_t frame[256];
	size_t n;
	int fd, s;

	fd = kt_attach(kt_ifname(name, "f"), IFF_TUN | IFF_NO_PI, NULL);
	kt_dev_up(name, A4, NULL);
	s = kt_udp_bind(LOCAL4, 9001);
	n = kt_build_udp(frame, KT_RAW, NULL, NULL, "10.65.0.77", 4321, LOCAL4, 9001, "src", 3);
	ASSERT_EQ(write(fd, frame, n), n);
	ASSERT_EQ(poll(&(struct pollfd){ .fd = s, .events = POLLIN }, 1, KT_WAIT_MS), 1);
	ASSERT_EQ(recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&sin, &sl), 3);
	inet_ntop(AF_INET, &sin.sin_addr, from, sizeof(from));
	EXPECT_STREQ(from, "10.65.0.77");
	EXPECT_EQ(ntohs(sin.sin_port), 4321);
	close(s);
	close(fd);
}

// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Seed scenario 1: ping through the device to a responder the app runs.
 *
 *   ping (stack) --> dev 10.64.0.1/24 (fd00:64::1/64) --> app fd:
 *   responder thread: blocking read, turns echo requests into replies
 *   (and on TAP answers ARP for 10.64.0.2) --> write --> stack --> ping
 *
 * ping must report every reply, and the responder must have seen exactly
 * the requests ping sent. (The responder does no neighbour discovery, so
 * IPv6 is pinged over TUN only.)
 */

#include "net.h"

#define A4	"10.64.0.1/24"
#define PEER4	"10.64.0.2"
#define A6	"fd00:64::1/64"
#define PEER6	"fd00:64::2"

static void ping_through(int flags, const char *tag, int v6)
{
	struct kt_responder r;
	char name[IFNAMSIZ], out[4096];
	int fd, st;

	fd = kt_attach(kt_ifname(name, tag), flags, NULL);
	kt_dev_up(name, A4, v6 ? A6 : NULL);
	kt_responder_start(&r, fd, kt_l2_of(flags), PEER4);
	st = kt_ping(out, sizeof(out), v6 ? "-6 -c 3 -W 5 -i 0.2" : "-c 3 -W 5 -i 0.2",
		     v6 ? PEER6 : PEER4);
	kt_responder_stop(&r);
	if (st || !kt_ping_says(out, 3, 3))
		FAIL_CHECK("ping exited %d:\n%s", st, out);
	EXPECT_EQ(v6 ? r.echo6 : r.echo4, 3);
	EXPECT_EQ(r.errors, 0);
	if ((flags & TUN_TYPE_MASK) == IFF_TAP)
		EXPECT_GE(r.arp, 1);
	/* what the responder read and wrote, the device counted */
	EXPECT_GE(kt_stat(name, "tx_packets"), 3);
	EXPECT_GE(kt_stat(name, "rx_packets"), 3);
	close(fd);
}

TEST(tun_ping)
{
	ping_through(IFF_TUN | IFF_NO_PI, "t", 0);
}

TEST(tun_pi_ping)
{
	ping_through(IFF_TUN, "p", 0);
}

TEST(tap_ping_arp)
{
	ping_through(IFF_TAP | IFF_NO_PI, "a", 0);
}

TEST(tap_pi_ping_arp)
{
	ping_through(IFF_TAP, "b", 0);
}

TEST(tun_ping6)
{
	ping_through(IFF_TUN | IFF_NO_PI, "s", 1);
}

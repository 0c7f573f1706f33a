// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Seed scenario 3: one side absent.
 *
 *   ping (stack) --> persistent dev 10.66.0.1/24, nobody attached
 *
 * ping gives up after its -W and fails (nothing answers, nothing blocks);
 * nothing is transmitted (tx_packets stays); the next app to attach finds
 * an empty queue (no stale delivery), and with a responder on it the same
 * ping then succeeds.
 *
 * Where the drops are counted is the kernel's business, not the driver's:
 * carrier off makes linkwatch swap in the noop qdisc, which on 6.1 drops
 * uncounted before any driver sees the packet (6.9+ counts it in the core's
 * tx_dropped); only what slips through before linkwatch runs reaches the
 * driver, which counts it. So tx_dropped is reported, never asserted here.
 */

#include "net.h"

#define A4	"10.66.0.1/24"
#define PEER4	"10.66.0.2"

static void absent(int flags, const char *tag)
{
	int tap = (flags & TUN_TYPE_MASK) == IFF_TAP, fd;
	unsigned long long drops, txp;
	struct kt_responder r;
	char name[IFNAMSIZ], out[4096], buf[2048];
	int st;

	fd = kt_attach(kt_ifname(name, tag), flags, NULL);
	kt_cleanup_dev(name);
	kt_set_persist(fd, 1);
	kt_dev_up(name, A4, NULL);
	close(fd);
	ASSERT_TRUE(kt_exists(name));
	EXPECT_EQ(kt_carrier(name), 0);

	drops = kt_stat(name, "tx_dropped");
	txp = kt_stat(name, "tx_packets");
	st = kt_ping(out, sizeof(out), "-c 3 -W 1 -i 0.2", PEER4);
	EXPECT_EQ(st, 1);
	if (!kt_ping_says(out, 3, 0))
		FAIL_CHECK("ping's summary is not 3 sent, 0 received:\n%s", out);
	kt_note("%s: tx_dropped +%llu while nobody was attached\n", tap ? "TAP" : "TUN",
		kt_stat(name, "tx_dropped") - drops);
	EXPECT_GE(kt_stat(name, "tx_dropped"), drops);
	EXPECT_EQ(kt_stat(name, "tx_packets"), txp);

	/* the next opener finds nothing queued */
	fd = kt_attach(name, flags, NULL);
	EXPECT_EQ(kt_carrier(name), 1);
	kt_nonblock(fd);
	EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EAGAIN);
	EXPECT_FALSE(kt_readable(fd));

	/* and with someone answering, ping works through the same device */
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	kt_wait_link_ready(name);
	kt_responder_start(&r, fd, kt_l2_of(flags), PEER4);
	st = kt_ping(out, sizeof(out), "-c 3 -W 5 -i 0.2", PEER4);
	kt_responder_stop(&r);
	if (st || !kt_ping_says(out, 3, 3))
		FAIL_CHECK("ping after attaching exited %d:\n%s", st, out);
	EXPECT_EQ(r.echo4, 3);

	kt_set_persist(fd, 0);
	close(fd);
	EXPECT_FALSE(kt_exists(name));
}

TEST(tun_nobody_attached)
{
	absent(IFF_TUN | IFF_NO_PI, "t");
}

TEST(tap_nobody_attached)
{
	absent(IFF_TAP | IFF_NO_PI, "a");
}

/* A device that never had a reader at all (created persistent, then detached at once). */
TEST(tun_never_read)
{
	char name[IFNAMSIZ], out[4096];
	int fd, st;

	fd = kt_attach(kt_ifname(name, "n"), IFF_TUN, NULL);
	kt_cleanup_dev(name);
	kt_set_persist(fd, 1);
	close(fd);
	kt_dev_up(name, A4, NULL);
	st = kt_ping(out, sizeof(out), "-c 2 -W 1 -i 0.2", PEER4);
	EXPECT_EQ(st, 1);
	if (!kt_ping_says(out, 2, 0))
		FAIL_CHECK("ping's summary is not 2 sent, 0 received:\n%s", out);
	EXPECT_EQ(kt_stat(name, "tx_packets"), 0);
	kt_del(name);
}

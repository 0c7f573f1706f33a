// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Seed scenario 4: one side crashed.
 *
 *   process A: attaches dev, blocks in read()      <-- SIGKILL
 *   stack:     datagrams sent while nobody is attached (dropped)
 *   process B: attaches the same name at once, runs the echo responder
 *   stack:     ping 10.67.0.2 --> dev --> B --> dev --> ping
 *
 * B must attach at once (no EBUSY from A's leftovers), must not see what
 * was sent while nobody was there, and ping must get every reply.
 */

#include <sys/mman.h>

#include "net.h"

#define A4	"10.67.0.1/24"
#define LOCAL4	"10.67.0.1"
#define PEER4	"10.67.0.2"

static void crashed(int flags, const char *tag, int persist)
{
	struct kt_responder *r;
	char name[IFNAMSIZ], out[4096];
	int ready[2], st, s, i;
	pid_t pid;

	kt_ifname(name, tag);
	kt_cleanup_dev(name);
	if (persist) {
		int fd = kt_attach(name, flags, NULL);

		kt_set_persist(fd, 1);
		kt_dev_up(name, A4, NULL);
		/*
		 * A static neighbour on TAP: else the stale datagrams below
		 * would wait in ARP's queue and reach B once it answers ARP.
		 */
		if ((flags & TUN_TYPE_MASK) == IFF_TAP)
			kt_neigh(name, PEER4);
		close(fd);
	}
	kt_kill_blocked_reader(name, flags, 0);
	EXPECT_EQ(kt_exists(name), persist);
	if (persist) {
		/* nobody there: these are dropped, never handed to B */
		s = kt_udp_bind(LOCAL4, 0);
		for (i = 0; i < 5; i++)
			kt_udp_send(s, PEER4, 6000, "stale", 5);
		close(s);
	}

	r = mmap(NULL, sizeof(*r), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(r != MAP_FAILED);
	ASSERT_OK(pipe(ready));
	pid = fork();
	ASSERT_OK(pid);
	if (!pid) {
		int fd = ktun_open(name, flags, NULL);

		if (fd < 0) {
			st = -fd;
			if (write(ready[1], &st, sizeof(st)) != sizeof(st))
				_exit(2);
			_exit(1);
		}
		st = 0;
		kt_responder_init(r, fd, kt_l2_of(flags), PEER4);
		if (write(ready[1], &st, sizeof(st)) != sizeof(st))
			_exit(2);
		kt_respond(r);
		_exit(0);
	}
	close(ready[1]);
	ASSERT_EQ(read(ready[0], &st, sizeof(st)), sizeof(st));
	if (st)
		FAIL("process B could not attach %s: %s", name, kt_errname(st));
	if (!persist)
		kt_dev_up(name, A4, NULL);
	EXPECT_EQ(kt_carrier(name), 1);
	kt_wait_link_ready(name);

	st = kt_ping(out, sizeof(out), "-c 3 -W 5 -i 0.2", PEER4);
	if (st || !kt_ping_says(out, 3, 3))
		FAIL_CHECK("ping through process B exited %d:\n%s", st, out);
	kt_responder_send_stop(PEER4);
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	EXPECT_EQ(st, 0);
	EXPECT_EQ(r->echo4, 3);
	EXPECT_EQ(r->errors, 0);
	/* nothing but ping (and ARP) reached B: no stale datagram */
	EXPECT_EQ(r->other, 0);

	if (persist) {
		int fd = kt_attach(name, flags, NULL);

		kt_set_persist(fd, 0);
		close(fd);
	}
	EXPECT_FALSE(kt_exists(name));
}

TEST(tun_persistent)
{
	crashed(IFF_TUN | IFF_NO_PI, "t", 1);
}

TEST(tap_persistent)
{
	crashed(IFF_TAP | IFF_NO_PI, "a", 1);
}

TEST(tun_nonpersistent)
{
	crashed(IFF_TUN | IFF_NO_PI, "n", 0);
}

TEST(tap_pi_persistent)
{
	crashed(IFF_TAP, "p", 1);
}

// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Who keeps an interface alive, and what happens to fds, queues, carrier
 * and blocked readers when the last fd goes, when persistence is switched
 * on and off, when `ip link del` pulls the device from under an fd, and
 * when a process dies blocked in read(). Every order of open / attach /
 * close / persist / delete that makes sense.
 */

#include <sys/mman.h>
#include <linux/if_link.h>

#include "net.h"

#define A4	"10.63.0.1/24"
#define LOCAL4	"10.63.0.1"
#define PEER4	"10.63.0.2"

/* The errno a reader blocked in read() gets when the device is deleted. */
static int del_errno(void)
{
	return kt_stock() ? EFAULT : EBADFD;
}

/* Creates @name persistent, up with A4, and leaves nobody attached. */
static void make_persistent(char *name, const char *tag, int flags)
{
	int fd = kt_attach(kt_ifname(name, tag), flags, NULL);

	kt_cleanup_dev(name);
	kt_set_persist(fd, 1);
	kt_dev_up(name, A4, NULL);
	if ((flags & TUN_TYPE_MASK) == IFF_TAP)
		kt_neigh(name, PEER4);
	close(fd);
	ASSERT_TRUE(kt_exists(name));
}

/* Clears persistence through a fresh attachment, which then takes the device along. */
static void unpersist(const char *name, int flags)
{
	int fd = kt_attach(name, flags, NULL);

	kt_set_persist(fd, 0);
	close(fd);
	EXPECT_FALSE(kt_exists(name));
}

static void send_udp(int n, int port)
{
	int s = kt_udp_bind(LOCAL4, 0), i;

	for (i = 0; i < n; i++)
		kt_udp_send(s, PEER4, port, "ktun", 4);
	close(s);
}

/* One datagram from the stack must reach the app on @fd, attached to up @name. */
static void check_flows(const char *name, int fd, int l2, int port)
{
	uint8_t buf[2048];
	struct kt_pkt p;

	kt_wait_link_ready(name);
	send_udp(1, port);
	kt_read_udp(fd, l2, port, buf, sizeof(buf), &p);
	EXPECT_EQ(p.dlen, 4);
}

TEST(open_close_unattached)
{
	unsigned int f;
	int i, fd;

	for (i = 0; i < 10; i++) {
		fd = kt_open_node(0);
		if (i & 1)
			EXPECT_OK(ioctl(fd, TUNGETFEATURES, &f));
		close(fd);
	}
	/* the harness fails the test if an interface appeared */
}

TEST(close_removes_interface)
{
	static const int flags[] = { IFF_TUN | IFF_NO_PI, IFF_TUN, IFF_TAP | IFF_NO_PI, IFF_TAP };
	char name[IFNAMSIZ];
	unsigned int i;
	int fd;

	for (i = 0; i < 4; i++) {
		fd = kt_attach(kt_ifname(name, "c"), flags[i], NULL);
		kt_dev_up(name, A4, NULL);
		ASSERT_TRUE(kt_exists(name));
		close(fd);
		EXPECT_FALSE(kt_exists(name));
		/* gone for good: the name can be created afresh */
		fd = kt_attach(name, flags[i] | IFF_TUN_EXCL, NULL);
		close(fd);
		EXPECT_FALSE(kt_exists(name));
	}
}

TEST(dup_keeps_until_last_close)
{
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "d"), IFF_TUN | IFF_NO_PI, NULL);
	int fd2 = dup(fd);

	ASSERT_OK(fd2);
	close(fd);
	EXPECT_TRUE(kt_exists(name));
	kt_dev_up(name, A4, NULL);
	check_flows(name, fd2, KT_RAW, 8000);
	close(fd2);
	EXPECT_FALSE(kt_exists(name));
}

TEST(forked_fd_keeps_until_last_close)
{
	int go[2], ready[2], fd, st;
	char name[IFNAMSIZ], c;
	pid_t pid;

	fd = kt_attach(kt_ifname(name, "f"), IFF_TUN | IFF_NO_PI, NULL);
	ASSERT_OK(pipe(go));
	ASSERT_OK(pipe(ready));
	pid = fork();
	ASSERT_OK(pid);
	if (!pid) {
		close(go[1]);
		if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		close(fd);
		_exit(0);
	}
	ASSERT_EQ(read(ready[0], &c, 1), 1);
	close(fd);
	EXPECT_TRUE(kt_exists(name));
	ASSERT_EQ(write(go[1], "g", 1), 1);
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	EXPECT_EQ(st, 0);
	EXPECT_FALSE(kt_exists(name));
}

TEST(persist_survives_close_carrier_follows)
{
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "p"), IFF_TUN | IFF_NO_PI, NULL);

	kt_cleanup_dev(name);
	kt_dev_up(name, A4, NULL);
	EXPECT_EQ(kt_carrier(name), 1);
	kt_set_persist(fd, 1);
	close(fd);
	ASSERT_TRUE(kt_exists(name));
	EXPECT_EQ(kt_carrier(name), 0);

	fd = kt_attach(name, IFF_TUN | IFF_NO_PI, NULL);
	EXPECT_EQ(kt_carrier(name), 1);
	check_flows(name, fd, KT_RAW, 8001);
	close(fd);
	/* still persistent: persistence belongs to the device, not the fd */
	EXPECT_TRUE(kt_exists(name));
	EXPECT_EQ(kt_carrier(name), 0);
	unpersist(name, IFF_TUN | IFF_NO_PI);
}

TEST(persist_on_then_off)
{
	char name[IFNAMSIZ];
	int fd = kt_attach(kt_ifname(name, "o"), IFF_TAP | IFF_NO_PI, NULL);

	kt_cleanup_dev(name);
	kt_set_persist(fd, 1);
	kt_set_persist(fd, 1);	/* idempotent */
	kt_set_persist(fd, 0);
	kt_set_persist(fd, 0);
	close(fd);
	EXPECT_FALSE(kt_exists(name));
}

/* Packets queued when the last fd closes are purged, not kept for the next one. */
TEST(persist_close_purges_queue)
{
	static const int flags[] = { IFF_TUN | IFF_NO_PI, IFF_TAP | IFF_NO_PI };
	char name[IFNAMSIZ], buf[2048];
	unsigned int i;
	int fd;

	for (i = 0; i < 2; i++) {
		make_persistent(name, "q", flags[i]);
		fd = kt_attach(name, flags[i], NULL);
		kt_wait_link_ready(name);
		send_udp(5, 8002);
		ASSERT_EQ(poll(&(struct pollfd){ .fd = fd, .events = POLLIN }, 1, KT_WAIT_MS), 1);
		close(fd);

		fd = kt_attach(name, flags[i], NULL);
		kt_nonblock(fd);
		EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EAGAIN);
		check_flows(name, fd, kt_l2_of(flags[i]), 8003);
		close(fd);
		unpersist(name, flags[i]);
	}
}

/*
 * With nobody attached, what the stack sends goes nowhere: not transmitted,
 * not kept for the next opener. (tx_dropped is not asserted: see absent.c.)
 */
TEST(persist_unattached_nothing_kept)
{
	static const int flags[] = { IFF_TUN | IFF_NO_PI, IFF_TAP | IFF_NO_PI };
	unsigned long long drops;
	char name[IFNAMSIZ], buf[2048];
	unsigned int i;
	int fd;

	for (i = 0; i < 2; i++) {
		make_persistent(name, "u", flags[i]);
		EXPECT_EQ(kt_carrier(name), 0);
		drops = kt_stat(name, "tx_dropped");
		send_udp(7, 8004);
		EXPECT_GE(kt_stat(name, "tx_dropped"), drops);
		EXPECT_EQ(kt_stat(name, "tx_packets"), 0);

		fd = kt_attach(name, flags[i], NULL);
		EXPECT_EQ(kt_carrier(name), 1);
		kt_nonblock(fd);
		EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EAGAIN);
		check_flows(name, fd, kt_l2_of(flags[i]), 8005);
		close(fd);
		unpersist(name, flags[i]);
	}
}

/* Deleting an attached device leaves a dead fd: EBADFD on every call, then close. */
TEST(del_attached_fd_dead)
{
	char name[IFNAMSIZ], buf[64] = { 0x45 };
	struct ifreq ifr;
	int fd = kt_attach(kt_ifname(name, "x"), IFF_TUN | IFF_NO_PI, NULL);

	kt_dev_up(name, A4, NULL);
	kt_del(name);
	EXPECT_FALSE(kt_exists(name));
	EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EBADFD);
	EXPECT_ERRNO(write(fd, buf, sizeof(buf)), EBADFD);
	memset(&ifr, 0, sizeof(ifr));
	EXPECT_ERRNO(ioctl(fd, TUNGETIFF, &ifr), EBADFD);
	EXPECT_ERRNO(ioctl(fd, TUNSETPERSIST, 1UL), EBADFD);
	EXPECT_OK(close(fd));
	/* the name is free */
	fd = kt_attach(name, IFF_TUN | IFF_NO_PI | IFF_TUN_EXCL, NULL);
	close(fd);
}

/* A dead fd can attach again (stock allows it), to a fresh device. */
TEST(del_then_setiff_same_fd)
{
	char name[IFNAMSIZ], buf[2048];
	int fd = kt_attach(kt_ifname(name, "r"), IFF_TUN | IFF_NO_PI, NULL);

	kt_del(name);
	ASSERT_OK(kt_setiff(fd, name, IFF_TUN | IFF_NO_PI, NULL));
	ASSERT_TRUE(kt_exists(name));
	kt_dev_up(name, A4, NULL);
	kt_nonblock(fd);
	EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EAGAIN);
	check_flows(name, fd, KT_RAW, 8006);
	close(fd);
	EXPECT_FALSE(kt_exists(name));
}

struct blocked {
	int fd;
	pid_t tid;
	int ready[2];
	ssize_t ret;
	int err;
	short revents;
};

static void *read_main(void *arg)
{
	struct blocked *b = arg;
	char buf[2048];

	b->tid = gettid();
	if (write(b->ready[1], "r", 1) != 1)
		FAIL("ready pipe");
	errno = 0;
	b->ret = read(b->fd, buf, sizeof(buf));
	b->err = errno;
	return NULL;
}

static void *poll_main(void *arg)
{
	struct blocked *b = arg;
	struct pollfd p = { .fd = b->fd, .events = POLLIN };

	b->tid = gettid();
	if (write(b->ready[1], "r", 1) != 1)
		FAIL("ready pipe");
	b->ret = poll(&p, 1, 1000 * kt_guard());
	b->revents = p.revents;
	return NULL;
}

/* Starts @fn on @b in a thread and returns once it sleeps in its system call. */
static pthread_t start_blocked(struct blocked *b, int fd, void *(*fn)(void *), int poller)
{
	pthread_t t;
	char c;

	memset(b, 0, sizeof(*b));
	b->fd = fd;
	ASSERT_OK(pipe2(b->ready, O_CLOEXEC));
	ASSERT_EQ(pthread_create(&t, NULL, fn, b), 0);
	ASSERT_EQ(read(b->ready[0], &c, 1), 1);
	if (poller)
		kt_wait_in_poll(getpid(), b->tid);
	else
		kt_wait_in_read(getpid(), b->tid);
	return t;
}

static void check_del_wakes_reader(int flags, int persist)
{
	char name[IFNAMSIZ], buf[64] = { 0x45 };
	struct blocked b;
	pthread_t t;
	int fd = kt_attach(kt_ifname(name, "w"), flags, NULL);

	kt_dev_up(name, A4, NULL);
	if (persist)
		kt_set_persist(fd, 1);
	t = start_blocked(&b, fd, read_main, 0);
	kt_del(name);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	EXPECT_EQ(b.ret, -1);
	if (b.err != del_errno())
		FAIL_CHECK("blocked read after ip link del: errno %s, expected %s (%s)",
			   kt_errname(b.err), kt_errname(del_errno()), kt_driver());
	EXPECT_FALSE(kt_exists(name));
	EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EBADFD);
	EXPECT_ERRNO(write(fd, buf, sizeof(buf)), EBADFD);
	EXPECT_OK(close(fd));
}

TEST(del_wakes_blocked_reader)
{
	check_del_wakes_reader(IFF_TUN | IFF_NO_PI, 0);
	check_del_wakes_reader(IFF_TAP, 0);
}

TEST(del_persistent_wakes_blocked_reader)
{
	check_del_wakes_reader(IFF_TUN | IFF_NO_PI, 1);
}

TEST(del_wakes_poller)
{
	char name[IFNAMSIZ];
	struct blocked b;
	pthread_t t;
	int fd = kt_attach(kt_ifname(name, "v"), IFF_TUN | IFF_NO_PI, NULL);

	kt_dev_up(name, A4, NULL);
	t = start_blocked(&b, fd, poll_main, 1);
	kt_del(name);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	EXPECT_EQ(b.ret, 1);
	EXPECT_TRUE(b.revents & POLLERR);
	EXPECT_FALSE(b.revents & POLLIN);
	close(fd);
}

/*
 * The fd is closed while a thread still sleeps in read() on it: the read
 * holds the file, so nothing is released and the device stays; deleting
 * the device then wakes the reader, and the last reference goes with it.
 */
TEST(close_while_blocked_then_del)
{
	char name[IFNAMSIZ];
	struct blocked b;
	pthread_t t;
	int fd = kt_attach(kt_ifname(name, "cb"), IFF_TUN | IFF_NO_PI, NULL);

	kt_dev_up(name, A4, NULL);
	t = start_blocked(&b, fd, read_main, 0);
	ASSERT_OK(close(fd));
	EXPECT_TRUE(kt_exists(name));
	kt_del(name);
	ASSERT_EQ(pthread_join(t, NULL), 0);
	EXPECT_EQ(b.ret, -1);
	if (b.err != del_errno())
		FAIL_CHECK("blocked read after close and delete: errno %s, expected %s",
			   kt_errname(b.err), kt_errname(del_errno()));
	EXPECT_FALSE(kt_exists(name));
}

struct hammer {
	int fd;
	int stop;
	long ops, ebadfd, other;
	int other_errno;
};

/* Reads, writes and polls the fd until it dies under us. */
static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	uint8_t pkt[128], buf[2048];
	size_t n = kt_build_udp(pkt, KT_RAW, NULL, NULL, PEER4, 5000, LOCAL4, 9, "x", 1);
	struct pollfd p = { .fd = h->fd, .events = POLLIN | POLLOUT };
	long i;

	for (i = 0; !__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE); i++) {
		ssize_t r;

		switch (i % 3) {
		case 0:
			r = write(h->fd, pkt, n);
			break;
		case 1:
			r = read(h->fd, buf, sizeof(buf));
			break;
		default:
			r = poll(&p, 1, 0);
			if (r == 1 && (p.revents & POLLERR))
				__atomic_add_fetch(&h->ebadfd, 1, __ATOMIC_RELAXED);
			break;
		}
		__atomic_add_fetch(&h->ops, 1, __ATOMIC_RELAXED);
		if (r >= 0 || errno == EAGAIN)
			continue;
		if (errno == EBADFD || errno == del_errno()) {
			__atomic_add_fetch(&h->ebadfd, 1, __ATOMIC_RELAXED);
		} else if (errno != EIO) {	/* EIO: down while being deleted */
			h->other_errno = errno;
			__atomic_add_fetch(&h->other, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

/* `ip link del` while threads read, write and poll the fd flat out. */
TEST(del_under_io)
{
	struct timespec ts = { 0, 1000 * 1000 };
	struct hammer h = { 0 };
	char name[IFNAMSIZ];
	pthread_t t[4];
	int i, round;

	for (round = 0; round < 5; round++) {
		memset(&h, 0, sizeof(h));
		h.fd = kt_attach(kt_ifname(name, "hu"), IFF_TUN | IFF_NO_PI, NULL);
		kt_nonblock(h.fd);
		kt_dev_up(name, A4, NULL);
		for (i = 0; i < 4; i++)
			ASSERT_EQ(pthread_create(&t[i], NULL, hammer_main, &h), 0);
		while (__atomic_load_n(&h.ops, __ATOMIC_RELAXED) < 200 * (round + 1))
			nanosleep(&ts, NULL);
		kt_del(name);
		/* every thread now meets the dead fd */
		for (i = 0; __atomic_load_n(&h.ebadfd, __ATOMIC_RELAXED) < 12; i++) {
			if (i == KT_WAIT_MS)
				FAIL("round %d: the fd does not fail after the delete (%ld calls)",
				     round, __atomic_load_n(&h.ops, __ATOMIC_RELAXED));
			nanosleep(&ts, NULL);
		}
		__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
		for (i = 0; i < 4; i++)
			ASSERT_EQ(pthread_join(t[i], NULL), 0);
		if (h.other)
			FAIL_CHECK("round %d: %ld calls failed otherwise, the last with %s",
				   round, h.other, kt_errname(h.other_errno));
		EXPECT_FALSE(kt_exists(name));
		close(h.fd);
	}
}

/* Many processes race to attach one name: one wins, the others are told why. */
TEST(attach_race)
{
	struct { int won, busy, other, other_errno; } *res;
	struct timespec ts = { 0, 1000 * 1000 };
	int go[2], hold[2], i, st, round;
	char name[IFNAMSIZ];
	pid_t pids[8];

	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(res != MAP_FAILED);
	for (round = 0; round < 4; round++) {
		int excl = round & 1 ? IFF_TUN_EXCL : 0;

		memset(res, 0, sizeof(*res));
		kt_ifname(name, "ar");
		ASSERT_OK(pipe(go));
		ASSERT_OK(pipe(hold));
		for (i = 0; i < 8; i++) {
			pids[i] = fork();
			ASSERT_OK(pids[i]);
			if (!pids[i]) {
				char c;
				int fd;

				close(go[1]);
				close(hold[1]);
				if (read(go[0], &c, 1) != 0)
					_exit(1);
				fd = ktun_open(name, IFF_TAP | IFF_NO_PI | excl, NULL);
				if (fd >= 0) {
					__atomic_add_fetch(&res->won, 1, __ATOMIC_SEQ_CST);
					/* hold the device until everyone has tried */
					if (read(hold[0], &c, 1) != 0)
						_exit(1);
					_exit(0);
				}
				if (fd == -EBUSY) {
					__atomic_add_fetch(&res->busy, 1, __ATOMIC_SEQ_CST);
				} else {
					res->other_errno = -fd;
					__atomic_add_fetch(&res->other, 1, __ATOMIC_SEQ_CST);
				}
				_exit(0);
			}
		}
		close(go[0]);
		close(hold[0]);
		close(go[1]);	/* EOF: all go at once */
		while (__atomic_load_n(&res->won, __ATOMIC_SEQ_CST) +
		       __atomic_load_n(&res->busy, __ATOMIC_SEQ_CST) +
		       __atomic_load_n(&res->other, __ATOMIC_SEQ_CST) < 8)
			nanosleep(&ts, NULL);
		close(hold[1]);
		for (i = 0; i < 8; i++) {
			ASSERT_EQ(waitpid(pids[i], &st, 0), pids[i]);
			EXPECT_EQ(st, 0);
		}
		EXPECT_EQ(res->won, 1);
		EXPECT_EQ(res->busy, 7);
		if (res->other)
			FAIL_CHECK("round %d: %d attachers got %s", round, res->other,
				   kt_errname(res->other_errno));
		EXPECT_FALSE(kt_exists(name));
	}
}

/* Re-attaching takes the new fd's framing: tun_pi on or off. */
TEST(reattach_changes_pi)
{
	char name[IFNAMSIZ], buf[2048];
	struct kt_pkt p;
	int fd;

	make_persistent(name, "rp", IFF_TUN | IFF_NO_PI);
	fd = kt_attach(name, IFF_TUN, NULL);
	check_flows(name, fd, KT_PI, 8010);
	close(fd);
	fd = kt_attach(name, IFF_TUN | IFF_NO_PI, NULL);
	kt_wait_link_ready(name);
	send_udp(1, 8011);
	kt_read_udp(fd, KT_RAW, 8011, buf, sizeof(buf), &p);
	EXPECT_EQ(buf[0], 0x45);
	close(fd);
	unpersist(name, IFF_TUN | IFF_NO_PI);
}

/* A hundred persistent devices at once, then deleted; leaks show at rmmod. */
TEST(many_devices)
{
	char names[100][IFNAMSIZ];
	int i, fd;

	for (i = 0; i < 100; i++) {
		fd = kt_attach(kt_ifname(names[i], i & 1 ? "ma" : "mu"),
			       (i & 1 ? IFF_TAP : IFF_TUN) | IFF_NO_PI, NULL);
		kt_cleanup_dev(names[i]);
		kt_set_persist(fd, 1);
		close(fd);
	}
	for (i = 0; i < 100; i++) {
		ASSERT_TRUE(kt_exists(names[i]));
		if (i % 3 == 0) {
			unpersist(names[i], (i & 1 ? IFF_TAP : IFF_TUN) | IFF_NO_PI);
		} else {
			kt_del(names[i]);
			EXPECT_FALSE(kt_exists(names[i]));
		}
	}
}

TEST(del_persistent_unattached)
{
	char name[IFNAMSIZ];

	make_persistent(name, "y", IFF_TAP | IFF_NO_PI);
	kt_del(name);
	EXPECT_FALSE(kt_exists(name));
}

/* An fd opened before the delete attaches afterwards to a brand-new device. */
TEST(open_del_attach)
{
	char name[IFNAMSIZ];
	unsigned int idx;
	int fd;

	make_persistent(name, "z", IFF_TUN | IFF_NO_PI);
	idx = if_nametoindex(name);
	fd = kt_open_node(0);
	kt_del(name);
	ASSERT_OK(kt_setiff(fd, name, IFF_TUN | IFF_NO_PI, NULL));
	EXPECT_NE(if_nametoindex(name), idx);
	EXPECT_NE(if_nametoindex(name), 0);
	close(fd);
	EXPECT_FALSE(kt_exists(name));
}

TEST(sigkill_blocked_reader_persistent)
{
	char name[IFNAMSIZ];
	int fd;

	make_persistent(name, "k", IFF_TUN | IFF_NO_PI);
	kt_kill_blocked_reader(name, IFF_TUN | IFF_NO_PI, 0);
	ASSERT_TRUE(kt_exists(name));
	EXPECT_EQ(kt_carrier(name), 0);
	/* another process attaches at once, and the device works */
	fd = kt_attach(name, IFF_TUN | IFF_NO_PI, NULL);
	EXPECT_EQ(kt_carrier(name), 1);
	check_flows(name, fd, KT_RAW, 8007);
	close(fd);
	unpersist(name, IFF_TUN | IFF_NO_PI);
}

TEST(sigkill_blocked_reader_nonpersistent)
{
	char name[IFNAMSIZ];
	int fd;

	kt_ifname(name, "n");
	kt_kill_blocked_reader(name, IFF_TAP | IFF_NO_PI, 0);
	EXPECT_FALSE(kt_exists(name));
	fd = kt_attach(name, IFF_TAP | IFF_NO_PI | IFF_TUN_EXCL, NULL);
	close(fd);
}

/* The child made the device persistent itself before dying. */
TEST(sigkill_creator_of_persistent)
{
	char name[IFNAMSIZ];
	int fd;

	kt_ifname(name, "m");
	kt_cleanup_dev(name);
	kt_kill_blocked_reader(name, IFF_TAP | IFF_NO_PI, 1);
	ASSERT_TRUE(kt_exists(name));
	fd = kt_attach(name, IFF_TAP | IFF_NO_PI, NULL);
	kt_set_persist(fd, 0);
	close(fd);
	EXPECT_FALSE(kt_exists(name));
}

/* Many lives in a row, in every order; leaks show at rmmod in tests/run. */
TEST(churn)
{
	char name[IFNAMSIZ], buf[2048];
	int i, fd, fd2;

	kt_ifname(name, "h");
	kt_cleanup_dev(name);
	for (i = 0; i < 40; i++) {
		int flags = (i & 1 ? IFF_TAP : IFF_TUN) | IFF_NO_PI;

		fd = kt_attach(name, flags | IFF_TUN_EXCL, NULL);
		switch (i % 5) {
		case 0:		/* attach, close */
			close(fd);
			break;
		case 1:		/* attach, up, delete, close */
			kt_dev_up(name, NULL, NULL);
			kt_del(name);
			EXPECT_ERRNO(read(fd, buf, sizeof(buf)), EBADFD);
			close(fd);
			break;
		case 2:		/* persist, close, re-attach, delete, close */
			kt_set_persist(fd, 1);
			close(fd);
			fd = kt_attach(name, flags, NULL);
			kt_del(name);
			close(fd);
			break;
		case 3:		/* persist, close, delete unattached */
			kt_set_persist(fd, 1);
			close(fd);
			kt_del(name);
			break;
		case 4:		/* a second fd is refused, close both */
			fd2 = kt_open_node(0);
			EXPECT_ERRNO(kt_setiff(fd2, name, flags, NULL), EBUSY);
			close(fd);
			close(fd2);
			break;
		}
		if (kt_exists(name))
			FAIL("round %d (pattern %d): %s still exists", i, i % 5, name);
	}
}

/*
 * A file attaching to a persistent device sets its features (here: no
 * virtio-net header, so no TSO) before its queue goes live: a packet
 * offloaded for the previous owner must not reach a reader that cannot
 * take it. Seen from outside in the RTM_NEWLINK the feature change sends
 * (IFLA_EVENT_FEATURES): at that point no queue is attached yet.
 */
struct feat_event {
	int seen;
	long long numqueues;
	int vnet_hdr;
};

static void feat_event_parse(const struct nlmsghdr *h, int ifindex, struct feat_event *ev)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	const struct rtattr *a, *li, *d;
	int len = IFLA_PAYLOAD(h), llen, dlen, features = 0;
	long long nq = -1;
	int vh = -1;

	if (h->nlmsg_type != RTM_NEWLINK || ifi->ifi_index != ifindex)
		return;
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_EVENT)
			features = *(const uint32_t *)RTA_DATA(a) == IFLA_EVENT_FEATURES;
		if (a->rta_type != IFLA_LINKINFO)
			continue;
		llen = RTA_PAYLOAD(a);
		for (li = RTA_DATA(a); RTA_OK(li, llen); li = RTA_NEXT(li, llen)) {
			if (li->rta_type != IFLA_INFO_DATA)
				continue;
			dlen = RTA_PAYLOAD(li);
			for (d = RTA_DATA(li); RTA_OK(d, dlen); d = RTA_NEXT(d, dlen)) {
				if (d->rta_type == IFLA_TUN_NUM_QUEUES)
					nq = *(const uint32_t *)RTA_DATA(d);
				if (d->rta_type == IFLA_TUN_VNET_HDR)
					vh = *(const uint8_t *)RTA_DATA(d);
			}
		}
	}
	if (features && !ev->seen) {
		ev->seen = 1;
		ev->numqueues = nq;
		ev->vnet_hdr = vh;
	}
}

TEST(reattach_features_before_queue_live)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK };
	struct feat_event ev = { 0 };
	static char buf[65536];
	char name[IFNAMSIZ];
	int fd, nl, ifindex;
	ssize_t n;

	if (kt_stock())
		SKIP("stock keeps a device's offloads whatever its new reader's framing");
	fd = kt_attach(kt_ifname(name, "a"),
		       IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE | IFF_VNET_HDR, NULL);
	ASSERT_OK(ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)));
	kt_set_persist(fd, 1);
	close(fd);
	ifindex = kt_nl_ifindex(name);
	ASSERT_GT(ifindex, 0);

	nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
	ASSERT_OK(nl);
	ASSERT_OK(bind(nl, (struct sockaddr *)&sa, sizeof(sa)));
	fd = kt_attach(name, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL);
	while ((n = recv(nl, buf, sizeof(buf), 0)) > 0) {
		const struct nlmsghdr *h = (const struct nlmsghdr *)buf;

		for (; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n))
			feat_event_parse(h, ifindex, &ev);
	}
	close(nl);
	ASSERT_TRUE(ev.seen);
	EXPECT_EQ(ev.vnet_hdr, 0);
	EXPECT_EQ(ev.numqueues, 0);
	kt_set_persist(fd, 0);
	close(fd);
}

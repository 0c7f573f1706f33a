/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * Test helpers over harness.h: which driver is under test, unique device
 * names, configuring and inspecting interfaces, waiting until another task
 * sleeps in a system call. Helpers that can fail end the test through
 * ASSERT/FAIL, so callers need not check them.
 */
#ifndef KT_UTIL_H
#define KT_UTIL_H

#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <linux/if_tun.h>
#include <linux/ktun.h>

#include <arpa/inet.h>
#include <linux/if_addr.h>

#include "harness.h"
#include "ktun.h"
#include "nl.h"

/* KTUN_TEST_DRIVER: ktun (default), compat (ktun serving /dev/net/tun), stock. */
static inline const char *kt_driver(void)
{
	const char *d = getenv("KTUN_TEST_DRIVER");

	return d && *d ? d : "ktun";
}

static inline int kt_stock(void)
{
	return !strcmp(kt_driver(), "stock");
}

/* The rtnl link kind the driver under test reports. */
static inline const char *kt_link_kind(void)
{
	if (kt_stock() || !strcmp(ktun_path(), KTUN_COMPAT_PATH))
		return "tun";
	return "ktun";
}

/*
 * A device name no other test uses: "kt", the test's pid, @tag (up to three
 * characters) and a counter. Every process of a test shares the pid part.
 */
static inline char *kt_ifname(char *buf, const char *tag)
{
	static int n;

	snprintf(buf, IFNAMSIZ, "kt%d%s%d", kt_test_pid % 100000, tag, n++);
	return buf;
}

/* Opens and attaches @name (must succeed); returns the fd. */
#define kt_attach(name, flags, out) ({					\
	const char *kt_n_ = (name);					\
	int kt_fd_ = ktun_open(kt_n_, flags, out);			\
	if (kt_fd_ < 0)							\
		FAIL("attaching %s (flags 0x%x) via %s: %s", kt_n_ ? kt_n_ : "(template)", \
		     (unsigned int)(flags), ktun_path(), kt_errname(-kt_fd_)); \
	kt_fd_;								\
})

/* The raw TUNSETIFF on an open fd: returns 0 or -1 with errno. */
static inline int kt_setiff(int fd, const char *name, int flags, char *out)
{
	struct ifreq ifr;
	int ret;

	memset(&ifr, 0, sizeof(ifr));
	if (name)
		strncpy(ifr.ifr_name, name, IFNAMSIZ);
	ifr.ifr_flags = flags;
	ret = ioctl(fd, TUNSETIFF, &ifr);
	if (!ret && out)
		memcpy(out, ifr.ifr_name, IFNAMSIZ);
	return ret;
}

static inline int kt_open_node(int flags)
{
	int fd = open(ktun_path(), O_RDWR | O_CLOEXEC | flags);

	if (fd < 0)
		FAIL("open %s: %s", ktun_path(), kt_errname(errno));
	return fd;
}

static inline void kt_nonblock(int fd)
{
	ASSERT_OK(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK));
}

/* Runs a shell command; fails the test unless it exits 0. */
#define RUN(...) do {							\
	char kt_cmd_[512];						\
	int kt_st_;							\
	snprintf(kt_cmd_, sizeof(kt_cmd_), __VA_ARGS__);		\
	kt_st_ = ktun_sh("%s", kt_cmd_);				\
	if (kt_st_)							\
		FAIL("command exited %d: %s", kt_st_, kt_cmd_);		\
} while (0)

static inline void kt_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		FAIL("writing %s to %s: %s", val, path, kt_errname(errno));
	close(fd);
}

#define KT_NL(call, what, dev) do {					\
	int kt_ret_ = (call);						\
	if (kt_ret_)							\
		FAIL("%s %s: %s", what, dev, kt_errname(-kt_ret_));	\
} while (0)

static inline void kt_up(const char *dev)
{
	KT_NL(kt_nl_set_up(dev, 1), "bringing up", dev);
}

static inline void kt_down(const char *dev)
{
	KT_NL(kt_nl_set_up(dev, 0), "bringing down", dev);
}

/* Deletes @dev as `ip link del` does. */
static inline void kt_del(const char *dev)
{
	KT_NL(kt_nl_link_del(dev), "deleting", dev);
}

static inline void kt_addr(const char *dev, const char *cidr)
{
	KT_NL(kt_nl_addr_add(dev, cidr), cidr, dev);
}

/* The peer's fixed MAC, for TAP tests. */
static const uint8_t kt_peer_mac[6] = { 0x02, 0x6b, 0x74, 0x00, 0x00, 0x02 };

/* A permanent neighbour entry: @addr is the peer (kt_peer_mac) on @dev. */
static inline void kt_neigh(const char *dev, const char *addr)
{
	KT_NL(kt_nl_neigh_add(dev, addr, kt_peer_mac), addr, dev);
}

/* Takes and drops the RTNL: whatever held it (linkwatch, addrconf) is done. */
static inline void kt_rtnl_barrier(const char *dev)
{
	kt_up(dev);	/* SIOCSIFFLAGS, a no-op on an up device, runs under RTNL */
}

/*
 * Even a "nodad" IPv6 address becomes local only when addrconf's DAD work
 * has run, asynchronously, a moment after it is added: until its local
 * (/128) route is in, packets to it are forwarded, i.e. dropped. Waits for
 * that route (the hang guard bounds it).
 */
static inline void kt_wait_v6_local(const char *dev, const char *cidr)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	char want[40], line[256], addr[64];
	struct in6_addr a;
	int i, ok = 0;
	FILE *f;

	snprintf(addr, sizeof(addr), "%s", cidr);
	addr[strcspn(addr, "/")] = '\0';
	if (inet_pton(AF_INET6, addr, &a) != 1)
		FAIL("bad IPv6 address %s", cidr);
	for (i = 0; i < 16; i++)
		sprintf(want + 2 * i, "%02x", a.s6_addr[i]);
	strcat(want, " 80 ");
	while (!ok) {
		f = fopen("/proc/net/ipv6_route", "re");
		if (!f)
			FAIL("/proc/net/ipv6_route: %s", kt_errname(errno));
		while (!ok && fgets(line, sizeof(line), f))
			ok = !strncmp(line, want, strlen(want));
		fclose(f);
		if (!ok)
			nanosleep(&ts, NULL);
	}
	(void)dev;
}

/*
 * After a carrier change, linkwatch (delayed up to a second) switches the
 * qdisc: while carrier was off it drops everything. Re-attaching turns the
 * carrier on; this waits until linkwatch has acted on it (operstate no
 * longer down; linkwatch holds the RTNL while it also activates the qdisc),
 * so what the test sends next reaches the driver. @dev must be up.
 */
static inline void kt_wait_link_ready(const char *dev)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	char path[128], buf[32];

	snprintf(path, sizeof(path), "/sys/class/net/%s/operstate", dev);
	for (;;) {
		FILE *f = fopen(path, "re");

		if (!f || !fgets(buf, sizeof(buf), f))
			FAIL("reading %s", path);
		fclose(f);
		if (!strncmp(buf, "up", 2) || !strncmp(buf, "unknown", 7))
			break;
		nanosleep(&ts, NULL);
	}
	kt_rtnl_barrier(dev);
}

/*
 * Configures @dev and brings it up. IPv6 is switched off unless @a6 is
 * given, so the stack sends nothing of its own (router solicitations, MLD)
 * into the device and the tests see only their own packets; with @a6 the
 * address is added without DAD. Either address may be NULL.
 */
static inline void kt_dev_up(const char *dev, const char *a4, const char *a6)
{
	char path[128];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", dev);
	if (!access(path, F_OK))
		kt_write_file(path, a6 ? "0" : "1");
	if (a6) {
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/accept_ra", dev);
		kt_write_file(path, "0");
		kt_addr(dev, a6);
	}
	if (a4)
		kt_addr(dev, a4);
	kt_up(dev);
	if (a6)
		kt_wait_v6_local(dev, a6);
}

/* /sys/class/net/@dev/@attr as a number; fails the test if unreadable. */
static inline unsigned long long kt_sysfs(const char *dev, const char *attr)
{
	unsigned long long v = 0;
	int ret = ktun_sysfs_u64(dev, attr, &v);

	if (ret)
		FAIL("reading /sys/class/net/%s/%s: %s", dev, attr, kt_errname(-ret));
	return v;
}

static inline unsigned long long kt_stat(const char *dev, const char *counter)
{
	char attr[64];

	snprintf(attr, sizeof(attr), "statistics/%s", counter);
	return kt_sysfs(dev, attr);
}

static inline int kt_exists(const char *dev)
{
	return if_nametoindex(dev) != 0;
}

/* The link's carrier: 1 or 0, -1 if unreadable (the link is down). */
static inline int kt_carrier(const char *dev)
{
	unsigned long long v;

	return ktun_sysfs_u64(dev, "carrier", &v) ? -1 : (int)v;
}

static inline void kt_set_persist(int fd, int on)
{
	ASSERT_OK(ioctl(fd, TUNSETPERSIST, (unsigned long)on));
}

/* Reads @dev's MAC address from sysfs. */
static inline void kt_mac(const char *dev, uint8_t mac[6])
{
	char path[128], buf[64];
	unsigned int m[6];
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", dev);
	f = fopen(path, "re");
	if (!f || !fgets(buf, sizeof(buf), f) ||
	    sscanf(buf, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		FAIL("reading %s", path);
	fclose(f);
	for (i = 0; i < 6; i++)
		mac[i] = m[i];
}

/* The system call task @tid of process @pid sleeps in, or -1 if it runs. */
static inline long kt_sleeping_in(pid_t pid, pid_t tid)
{
	char path[96], buf[512], *p;
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!p || p[1] != ' ' || p[2] != 'S')
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &nr) != 1)
		nr = -1;
	fclose(f);
	return nr;
}

/*
 * Waits until task @tid of process @pid sleeps in system call @nr (or @nr2):
 * how a test knows a reader is really blocked before it acts, without
 * sleeping for a guessed time. Polls /proc; the hang guard bounds it.
 */
static inline void kt_wait_blocked(pid_t pid, pid_t tid, long nr, long nr2)
{
	struct timespec ts = { 0, 1000 * 1000 };
	long now = -1;

	for (;;) {
		now = kt_sleeping_in(pid, tid);
		if (now == nr || now == nr2)
			return;
		if (kill(pid, 0) && errno == ESRCH)
			FAIL("task %d died before blocking in syscall %ld", tid, nr);
		nanosleep(&ts, NULL);
	}
}

#define kt_wait_in_read(pid, tid)	kt_wait_blocked(pid, tid, SYS_read, SYS_read)
#define kt_wait_in_poll(pid, tid)	kt_wait_blocked(pid, tid, SYS_poll, SYS_ppoll)

/*
 * A child process attaches @name with @flags (making it persistent if
 * @persist) and blocks in read(); it is SIGKILLed there. Returns once the
 * child is reaped.
 */
static inline void kt_kill_blocked_reader(const char *name, int flags, int persist)
{
	int ready[2], st;
	pid_t pid;
	char c;

	ASSERT_OK(pipe(ready));
	pid = fork();
	ASSERT_OK(pid);
	if (!pid) {
		char buf[2048];
		int fd = ktun_open(name, flags, NULL);

		if (fd < 0)
			_exit(10);
		if (persist && ioctl(fd, TUNSETPERSIST, 1UL))
			_exit(11);
		if (write(ready[1], "r", 1) != 1)
			_exit(12);
		for (;;)
			if (read(fd, buf, sizeof(buf)) < 0)
				_exit(13);
	}
	close(ready[1]);
	if (read(ready[0], &c, 1) != 1) {
		waitpid(pid, &st, 0);
		FAIL("the child could not attach %s: exit %d", name, WEXITSTATUS(st));
	}
	close(ready[0]);
	kt_wait_in_read(pid, pid);
	ASSERT_OK(kill(pid, SIGKILL));
	ASSERT_EQ(waitpid(pid, &st, 0), pid);
	ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
}

/*
 * Reads one packet, waiting at most @ms for one to be queued. Returns its
 * length, or -1 with errno (ETIMEDOUT if none came).
 */
static inline ssize_t kt_read_wait(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int n = poll(&p, 1, ms);

	if (n < 0)
		return -1;
	if (!n) {
		errno = ETIMEDOUT;
		return -1;
	}
	return read(fd, buf, len);
}

/* Generous bound for "the packet should be there": a guard, not a timing check. */
#define KT_WAIT_MS	10000

/* Whether @fd has a packet queued right now. */
static inline int kt_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Reads and drops everything queued on non-blocking @fd; returns how many. */
static inline int kt_drain(int fd)
{
	char buf[70000];
	int n = 0;

	while (kt_readable(fd) && read(fd, buf, sizeof(buf)) >= 0)
		n++;
	return n;
}

#endif

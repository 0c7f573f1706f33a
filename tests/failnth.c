// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The fail-nth sweep: every system call of a set of scenarios is repeated
 * with fault number 1, 2, 3, ... armed in /proc/thread-self/fail-nth
 * (slab, page allocator and user-copy faults) until it succeeds with the
 * fault unconsumed, i.e. until every fault point it passes has failed once.
 *
 * What must hold: a call that consumed its fault and failed returned an
 * errno and changed nothing a retry would trip over; no call fails without
 * a fault; the scenario then finishes, and its teardown leaves nothing in
 * the test's namespace (the module's object ledger is checked at rmmod by
 * tests/run, kmemleak by the debug lane).
 *
 * A call that consumed its fault and still succeeded "absorbed" it: some
 * path (a netlink notification, a uevent) may fail without failing the
 * call. Its later fault points are still reached: the scenario is run
 * again from the start with the sweep of that call resumed at the next
 * number. Absorbed points are reported; KTUN_FAILNTH_STRICT=1 fails them.
 *
 * Needs a kernel with CONFIG_FAULT_INJECTION (the debug lane's); elsewhere
 * every test skips. The debugfs knobs are set for the run and restored.
 */
#include <sched.h>
#include <linux/filter.h>
#include <linux/virtio_net.h>

#include "net.h"

#define FN_MAX_STEPS	16
#define FN_MAX_NTH	20000

struct fn_totals {
	int points, absorbed, scenarios;
};

static struct fn_totals *totals;

__attribute__((constructor)) static void fn_init(void)
{
	totals = mmap(NULL, sizeof(*totals), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
}

/* The harness's summary comes first; this line is the lane's figure. */
__attribute__((destructor)) static void fn_report(void)
{
	if (!totals || totals == MAP_FAILED)
		return;
	if (totals->scenarios)
		printf("# failnth: %d points injected, %d scenarios, %d absorbed\n",
		       totals->points, totals->scenarios, totals->absorbed);
	else if (access("/proc/thread-self/fail-nth", F_OK))
		printf("# failnth: skipped: no /proc/thread-self/fail-nth\n");
}

/* ---- fault injection setup --------------------------------------------- */

#define DBG	"/sys/kernel/debug/"

/* In this order: each filter is on before its probability is. */
static const char *const knobs[][2] = {
	{ "failslab/task-filter", "Y" },	{ "failslab/ignore-gfp-wait", "N" },
	{ "failslab/verbose", "0" },		{ "failslab/times", "-1" },
	{ "failslab/probability", "100" },
	{ "fail_page_alloc/task-filter", "Y" },	{ "fail_page_alloc/ignore-gfp-wait", "N" },
	{ "fail_page_alloc/ignore-gfp-highmem", "N" },
	{ "fail_page_alloc/min-order", "0" },	{ "fail_page_alloc/verbose", "0" },
	{ "fail_page_alloc/times", "-1" },	{ "fail_page_alloc/probability", "100" },
	{ "fail_usercopy/task-filter", "Y" },	{ "fail_usercopy/verbose", "0" },
	{ "fail_usercopy/times", "-1" },	{ "fail_usercopy/probability", "100" },
};
#define NKNOBS	(sizeof(knobs) / sizeof(knobs[0]))

static int read_knob(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int write_knob(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		ret = -1;
	close(fd);
	return ret;
}

FIXTURE(fn) {
	char old[NKNOBS][32];
	int saved[NKNOBS];
	int nth;		/* /proc/thread-self/fail-nth */
};

FIXTURE_SETUP(fn)
{
	char path[128];
	unsigned int i;

	if (access("/proc/thread-self/fail-nth", W_OK))
		SKIP("no /proc/thread-self/fail-nth (a kernel without fault injection)");
	if (access(DBG "failslab", F_OK))
		SKIP("no " DBG "failslab (debugfs not mounted?)");
	/* What can end the test comes before the knobs the teardown restores. */
	ASSERT_OK(unshare(CLONE_NEWNET));
	kt_up("lo");
	alarm(1200);	/* a debug kernel sweeps slowly */
	self->nth = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->nth, 0);
	for (i = 0; i < NKNOBS; i++) {
		snprintf(path, sizeof(path), DBG "%s", knobs[i][0]);
		self->saved[i] = !read_knob(path, self->old[i], sizeof(self->old[i]));
		/* fail_usercopy is a config option of its own */
		if (self->saved[i] && write_knob(path, knobs[i][1]))
			kt_note("could not set %s to %s: %s\n", path, knobs[i][1],
				kt_errname(errno));
	}
}

FIXTURE_TEARDOWN(fn)
{
	char path[128];
	int i;

	for (i = NKNOBS - 1; i >= 0; i--) {
		if (!self->saved[i])
			continue;
		snprintf(path, sizeof(path), DBG "%s", knobs[i][0]);
		/* "-1" reads back as 4294967295 on some kernels; both write back */
		if (write_knob(path, self->old[i]))
			kt_note("could not restore %s to %s\n", path, self->old[i]);
	}
}

/* Arms fault number @n for this thread's next fault points. */
static void nth_arm(int fd, int n)
{
	char b[16];
	int l = snprintf(b, sizeof(b), "%d", n);

	if (pwrite(fd, b, l, 0) != l)
		FAIL("arming fail-nth %d: %s", n, kt_errname(errno));
}

/* Whether the armed fault fired; disarms it either way. */
static int nth_consumed(int fd)
{
	char b[16] = "";
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);
	int i;

	/* The read's own copy-out can be the point that fires: still armed then. */
	if (n < 0)
		return 0;
	if (atoi(b) == 0)
		return 1;
	for (i = 0; i < 100 && pwrite(fd, "0", 1, 0) != 1; i++)
		;
	return 0;
}

/* ---- scenario steps ----------------------------------------------------- */

struct fn_ctx {
	int fd[3];
	int sock, nl;
	char name[IFNAMSIZ];
	uint8_t buf[2048];
	size_t len;
};

struct fn_step {
	const char *name;
	void (*prep)(struct fn_ctx *c);		/* not swept */
	long (*call)(struct fn_ctx *c);		/* the system call: >= 0 or -errno */
	int expect;				/* the errno it fails with unfaulted */
	void (*after_fail)(struct fn_ctx *c);	/* checks a failed call changed nothing */
};

#define SYS(expr) ({ long r_ = (long)(expr); r_ < 0 ? -(long)errno : r_; })

static long setiff(struct fn_ctx *c, int i, int flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, c->name);
	ifr.ifr_flags = flags;
	return SYS(ioctl(c->fd[i], TUNSETIFF, &ifr));
}

static long open_fd(struct fn_ctx *c, int i)
{
	long r = SYS(open(ktun_path(), O_RDWR | O_NONBLOCK | O_CLOEXEC));

	if (r >= 0)
		c->fd[i] = r;
	return r;
}

static long close_fd(struct fn_ctx *c, int i)
{
	long r = SYS(close(c->fd[i]));

	c->fd[i] = -1;
	return r;
}

static long s_open0(struct fn_ctx *c) { return open_fd(c, 0); }
static long s_open1(struct fn_ctx *c) { return open_fd(c, 1); }
static long s_open2(struct fn_ctx *c) { return open_fd(c, 2); }
static long s_close0(struct fn_ctx *c) { return close_fd(c, 0); }
static long s_close1(struct fn_ctx *c) { return close_fd(c, 1); }
static long s_close2(struct fn_ctx *c) { return close_fd(c, 2); }
static long s_tun0(struct fn_ctx *c) { return setiff(c, 0, IFF_TUN | IFF_NO_PI); }
static long s_tun1(struct fn_ctx *c) { return setiff(c, 1, IFF_TUN | IFF_NO_PI); }
static long s_tap0(struct fn_ctx *c) { return setiff(c, 0, IFF_TAP | IFF_NO_PI); }
static long s_mq0(struct fn_ctx *c) { return setiff(c, 0, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE); }
static long s_mq1(struct fn_ctx *c) { return setiff(c, 1, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE); }
static long s_mq2(struct fn_ctx *c) { return setiff(c, 2, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE); }
static long s_vnet0(struct fn_ctx *c) { return setiff(c, 0, IFF_TUN | IFF_NO_PI | IFF_VNET_HDR); }
static long s_persist0(struct fn_ctx *c) { return SYS(ioctl(c->fd[0], TUNSETPERSIST, 1UL)); }
static long s_unpersist1(struct fn_ctx *c) { return SYS(ioctl(c->fd[1], TUNSETPERSIST, 0UL)); }
static long s_owner0(struct fn_ctx *c) { return SYS(ioctl(c->fd[0], TUNSETOWNER, (unsigned long)getuid())); }
static long s_group0(struct fn_ctx *c) { return SYS(ioctl(c->fd[0], TUNSETGROUP, (unsigned long)getgid())); }

static long queue(struct fn_ctx *c, int i, int flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	return SYS(ioctl(c->fd[i], TUNSETQUEUE, &ifr));
}

static long s_detach1(struct fn_ctx *c) { return queue(c, 1, IFF_DETACH_QUEUE); }
static long s_attach1(struct fn_ctx *c) { return queue(c, 1, IFF_ATTACH_QUEUE); }

static long s_getiff0(struct fn_ctx *c)
{
	struct ifreq ifr;

	return SYS(ioctl(c->fd[0], TUNGETIFF, &ifr));
}

static long s_hwaddr0(struct fn_ctx *c)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_hwaddr.sa_family = 1;
	memcpy(ifr.ifr_hwaddr.sa_data, "\x02\x6b\x74\x00\x00\x09", 6);
	return SYS(ioctl(c->fd[0], SIOCSIFHWADDR, &ifr));
}

static long s_hdrsz0(struct fn_ctx *c)
{
	int v = 12;

	return SYS(ioctl(c->fd[0], TUNSETVNETHDRSZ, &v));
}

static long s_le0(struct fn_ctx *c)
{
	int v = 1;

	return SYS(ioctl(c->fd[0], TUNSETVNETLE, &v));
}

static long s_offload0(struct fn_ctx *c)
{
	return SYS(ioctl(c->fd[0], TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6));
}

static long s_txfilter0(struct fn_ctx *c)
{
	struct {
		struct tun_filter f;
		uint8_t addr[2][6];
	} tf = { { 0, 2 }, { { 0x02, 0, 0, 0, 0, 1 }, { 0x01, 0, 0x5e, 0, 0, 1 } } };

	return SYS(ioctl(c->fd[0], TUNSETTXFILTER, &tf));
}

static long s_attachfilter0(struct fn_ctx *c)
{
	struct sock_filter prog[] = {
		BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x86dd, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, 0),
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
	};
	struct sock_fprog fp = { 4, prog };

	return SYS(ioctl(c->fd[0], TUNATTACHFILTER, &fp));
}

static long s_getfilter0(struct fn_ctx *c)
{
	struct sock_fprog fp;

	return SYS(ioctl(c->fd[0], TUNGETFILTER, &fp));
}

static long s_detachfilter0(struct fn_ctx *c)
{
	return SYS(ioctl(c->fd[0], TUNDETACHFILTER, 0UL));
}

static long s_ifindex0(struct fn_ctx *c)
{
	int v = 4242;

	return SYS(ioctl(c->fd[0], TUNSETIFINDEX, &v));
}

static long s_netns0(struct fn_ctx *c)
{
	long r = SYS(ioctl(c->fd[0], TUNGETDEVNETNS));

	if (r >= 0)
		close(r);
	return r;
}

/* The device's flags, or 0 if it is not there. */
static int dev_flags(const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	return kt_ifreq(SIOCGIFFLAGS, name, &ifr) ? 0 : ifr.ifr_flags;
}

static int dev_is_tap(const char *name)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	return !kt_ifreq(SIOCGIFHWADDR, name, &ifr) && ifr.ifr_hwaddr.sa_family == 1;
}

/* The device up with 10.79.0.1/24: what the I/O steps need. */
static void p_up(struct fn_ctx *c)
{
	char path[96];

	if (kt_exists(c->name) && !(dev_flags(c->name) & IFF_UP)) {
		snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", c->name);
		kt_write_file(path, "1");
		kt_addr(c->name, "10.79.0.1/24");
		kt_up(c->name);
	}
}

/* A UDP datagram from the peer to us, as the app writes it. */
static void p_write(struct fn_ctx *c)
{
	p_up(c);
	c->len = ktun_udp4(c->buf, kt_in4("10.79.0.2"), kt_in4("10.79.0.1"), 7, 9,
			   "fail-nth", 8);
}

static void p_write_tap(struct fn_ctx *c)
{
	p_up(c);
	memset(c->buf, 0xff, 6);
	memcpy(c->buf + 6, kt_peer_mac, 6);
	c->buf[12] = 0x08;
	c->buf[13] = 0x00;
	c->len = 14 + ktun_udp4(c->buf + 14, kt_in4("10.79.0.2"), kt_in4("10.79.0.1"),
				7, 9, "fail-nth", 8);
}

/* A TSO super-packet behind a 12-byte virtio-net header. */
static void p_write_gso(struct fn_ctx *c)
{
	static const uint8_t payload[1400];
	struct virtio_net_hdr *h = (struct virtio_net_hdr *)c->buf;
	uint8_t *ip = c->buf + 12;

	p_up(c);
	memset(c->buf, 0, sizeof(c->buf));
	c->len = 12 + ktun_udp4(ip, kt_in4("10.79.0.2"), kt_in4("10.79.0.1"), 7, 9,
				payload, sizeof(payload));
	ip[9] = IPPROTO_TCP;
	ip[20 + 12] = 5 << 4;	/* doff */
	ip[10] = ip[11] = 0;
	*(uint16_t *)(ip + 10) = ktun_csum(ip, 20, 0);
	h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->gso_size = 500;
	h->hdr_len = 40;
	h->csum_start = 20;
	h->csum_offset = 16;
}

static long s_write0(struct fn_ctx *c) { return SYS(write(c->fd[0], c->buf, c->len)); }

/* A datagram from the stack, queued for the app before read() is armed. */
static void p_read(struct fn_ctx *c)
{
	p_up(c);
	if (dev_is_tap(c->name))
		kt_neigh(c->name, "10.79.0.2");
	kt_udp_send(c->sock, "10.79.0.2", 9, "fail-nth", 8);
	if (kt_read_wait(c->fd[0], c->buf, 0, KT_WAIT_MS) < 0 && errno == ETIMEDOUT)
		FAIL("no packet queued on %s to read", c->name);
}

static long s_read0(struct fn_ctx *c) { return SYS(read(c->fd[0], c->buf, sizeof(c->buf))); }

static void p_nl(struct fn_ctx *c)
{
	if (c->nl < 0)
		c->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	ASSERT_GE(c->nl, 0);
}

/* RTM_DELLINK of the device: the send and the acknowledgement. */
static long s_dellink(struct fn_ctx *c)
{
	struct kt_nlreq r;
	char ack[1024];
	struct nlmsghdr *h = (struct nlmsghdr *)ack;
	ssize_t n;

	memset(&r, 0, sizeof(r));
	r.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r.n.nlmsg_type = RTM_DELLINK;
	r.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	r.ifi.ifi_index = if_nametoindex(c->name);
	if (send(c->nl, &r, r.n.nlmsg_len, 0) < 0)
		return -errno;
	n = recv(c->nl, ack, sizeof(ack), 0);
	/* The delete is done when only its acknowledgement could not be built. */
	if (n < 0 && errno == ENOBUFS && !if_nametoindex(c->name))
		return 0;
	if (n < 0)
		return -errno;
	if (!NLMSG_OK(h, (size_t)n) || h->nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
}

/* A create that failed left no device and no attachment behind. */
static void a_no_device(struct fn_ctx *c)
{
	struct ifreq ifr;

	EXPECT_FALSE(kt_exists(c->name));
	EXPECT_ERRNO(ioctl(c->fd[0], TUNGETIFF, &ifr), EBADFD);
}

#define STEP(fn_, ...)	{ #fn_, .call = fn_, __VA_ARGS__ }

struct fn_scenario {
	const char *name;
	struct fn_step steps[FN_MAX_STEPS];
};

/* ---- the sweep ---------------------------------------------------------- */

/*
 * Closes everything. A run cut short may leave its device persistent (it
 * is deleted); anything else left behind is a failure.
 */
static void fn_teardown_ctx(struct fn_ctx *c, int complete)
{
	static char names[KT_MAX_IFS][IFNAMSIZ];
	struct ktun_link_info li;
	int i, n;

	for (i = 0; i < 3; i++)
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	if (c->nl >= 0)
		close(c->nl);
	close(c->sock);
	n = kt_ifnames(names);
	for (i = 0; i < n; i++) {
		if (!strcmp(names[i], "lo"))
			continue;
		if (complete || ktun_link_info(names[i], &li) || li.persist != 1)
			FAIL_CHECK("%s left behind%s", names[i],
				   complete ? "" : " by a run cut short, not persistent");
		kt_nl_link_del(names[i]);
	}
}

static void fn_sweep(struct kt_fx_fn *self, const struct fn_scenario *sc)
{
	int start[FN_MAX_STEPS], done[FN_MAX_STEPS] = { 0 };
	int points = 0, absorbed = 0, runs = 0, restart, i, nth, nsteps;
	int strict = getenv("KTUN_FAILNTH_STRICT") && atoi(getenv("KTUN_FAILNTH_STRICT"));
	const struct fn_step *st;
	struct fn_ctx c;
	long r;

	for (nsteps = 0; nsteps < FN_MAX_STEPS && sc->steps[nsteps].call; nsteps++)
		start[nsteps] = 1;
	do {
		memset(&c, 0, sizeof(c));
		c.fd[0] = c.fd[1] = c.fd[2] = c.nl = -1;
		c.sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		ASSERT_GE(c.sock, 0);
		snprintf(c.name, sizeof(c.name), "fn%.10s", sc->name);
		runs++;
		restart = 0;
		for (i = 0; i < nsteps && !restart; i++) {
			st = &sc->steps[i];
			for (nth = done[i] ? 0 : start[i]; ; nth++) {
				int ok, fired;

				if (nth > FN_MAX_NTH)
					FAIL("%s: %s still fails at fault %d", sc->name, st->name, nth);
				if (st->prep)
					st->prep(&c);
				if (nth)
					nth_arm(self->nth, nth);
				r = st->call(&c);
				fired = nth && nth_consumed(self->nth);
				ok = st->expect ? r == -st->expect : r >= 0;
				if (!ok && !fired)
					FAIL("%s: %s failed with %s, no fault injected (fault %d)",
					     sc->name, st->name, kt_errname(-r), nth);
				if (!ok) {
					points++;
					if (st->after_fail)
						st->after_fail(&c);
					continue;
				}
				if (fired) {
					points++;
					absorbed++;
					if (strict)
						FAIL_CHECK("%s: %s succeeded though fault %d fired",
							   sc->name, st->name, nth);
					start[i] = nth + 1;
					restart = 1;
					break;
				}
				done[i] = 1;
				break;
			}
		}
		fn_teardown_ctx(&c, !restart);
	} while (restart && !kt_res->failed);
	kt_note("%s: %d points injected, %d absorbed, %d steps, %d runs\n", sc->name,
		points, absorbed, nsteps, runs);
	__atomic_add_fetch(&totals->points, points, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&totals->absorbed, absorbed, __ATOMIC_SEQ_CST);
	__atomic_add_fetch(&totals->scenarios, 1, __ATOMIC_SEQ_CST);
}

/* ---- the scenarios ------------------------------------------------------ */

#define SCENARIO(nm, ...)						\
	TEST_F(fn, nm)							\
	{								\
		static const struct fn_scenario sc = { #nm, { __VA_ARGS__ } }; \
		fn_sweep(self, &sc);					\
	}

SCENARIO(tun,
	 STEP(s_open0), STEP(s_tun0, .after_fail = a_no_device),
	 STEP(s_write0, .prep = p_write), STEP(s_read0, .prep = p_read),
	 STEP(s_close0))

SCENARIO(tap,
	 STEP(s_open0), STEP(s_tap0, .after_fail = a_no_device), STEP(s_getiff0),
	 STEP(s_hwaddr0), STEP(s_write0, .prep = p_write_tap),
	 STEP(s_read0, .prep = p_read), STEP(s_close0))

SCENARIO(multiqueue,
	 STEP(s_open0), STEP(s_open1), STEP(s_open2),
	 STEP(s_mq0, .after_fail = a_no_device), STEP(s_mq1), STEP(s_mq2),
	 STEP(s_detach1), STEP(s_attach1), STEP(s_close1), STEP(s_close0),
	 STEP(s_close2))

SCENARIO(persist_owner,
	 STEP(s_open0), STEP(s_tun0, .after_fail = a_no_device), STEP(s_persist0),
	 STEP(s_owner0), STEP(s_group0), STEP(s_close0), STEP(s_open1),
	 STEP(s_tun1), STEP(s_unpersist1), STEP(s_close1))

SCENARIO(vnet_offload,
	 STEP(s_open0), STEP(s_vnet0, .after_fail = a_no_device), STEP(s_hdrsz0),
	 STEP(s_le0), STEP(s_offload0), STEP(s_write0, .prep = p_write_gso),
	 STEP(s_close0))

SCENARIO(filters,
	 STEP(s_open0), STEP(s_tap0, .after_fail = a_no_device), STEP(s_txfilter0),
	 STEP(s_attachfilter0), STEP(s_getfilter0), STEP(s_detachfilter0),
	 STEP(s_close0))

SCENARIO(delete,
	 STEP(s_open0), STEP(s_tun0, .after_fail = a_no_device), STEP(s_persist0),
	 STEP(s_dellink, .prep = p_nl), STEP(s_write0, .prep = p_write, .expect = EBADFD),
	 STEP(s_tun0), STEP(s_close0))

SCENARIO(ifindex_netns,
	 STEP(s_open0), STEP(s_ifindex0), STEP(s_tun0, .after_fail = a_no_device),
	 STEP(s_netns0), STEP(s_close0))

/*
 * The ring API (issue 8) gets a scenario here once it exists: set up the
 * rings on an attached fd, produce and consume, tear down.
 */

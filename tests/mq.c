// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Multi-queue devices: several fds on one name, TUNSETQUEUE taking queues
 * out of and back into service, how transmit spreads flows over queues,
 * every interleaving of attach / detach-queue / re-attach / close / delete
 * for two and three queues (checked against a model after each step), and
 * writes racing queue detach and close.
 *
 *   stack: sockets on 10.72.0.1 --> dev (10.72.0.1/24, N queues) --> fds q0..qN-1
 *   app:   writes from 10.72.0.2 on any queue --> dev --> sockets
 */

#include <sys/mman.h>

#include "net.h"

#define A4	"10.72.0.1/24"
#define LOCAL4	"10.72.0.1"
#define PEER4	"10.72.0.2"

#define MQ_TUN	(IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE)
#define MQ_TAP	(IFF_TAP | IFF_NO_PI | IFF_MULTI_QUEUE)

static int setqueue(int fd, int flags)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	return ioctl(fd, TUNSETQUEUE, &ifr);
}

/* Attaches one more queue to @name, non-blocking. */
static int mq_attach(const char *name, int flags)
{
	int fd = kt_attach(name, flags, NULL);

	kt_nonblock(fd);
	return fd;
}

static struct ktun_link_info link_info(const char *name)
{
	struct ktun_link_info li;
	int ret = ktun_link_info(name, &li);

	if (ret)
		FAIL("rtnetlink info of %s: %s", name, kt_errname(-ret));
	return li;
}

static void expect_queues(const char *name, int enabled, int disabled)
{
	struct ktun_link_info li = link_info(name);

	if (li.numqueues != enabled || li.numdisabled != disabled)
		FAIL_CHECK("%s: numqueues %lld numdisabled %lld, expected %d and %d",
			   name, li.numqueues, li.numdisabled, enabled, disabled);
}

/* The tx queues sysfs shows: /sys/class/net/@name/queues/tx-*. */
static int sysfs_txqueues(const char *name)
{
	char path[128];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", name);
	d = opendir(path);
	if (!d)
		FAIL("opendir %s: %s", path, kt_errname(errno));
	while ((de = readdir(d)))
		n += !strncmp(de->d_name, "tx-", 3);
	closedir(d);
	return n;
}

static int getiff_flags(int fd)
{
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, TUNGETIFF, &ifr))
		return -1;
	return ifr.ifr_flags & 0xffff;
}

TEST(several_fds)
{
	char name[IFNAMSIZ];
	int fd[4], i;

	kt_ifname(name, "s");
	for (i = 0; i < 4; i++) {
		fd[i] = mq_attach(name, MQ_TUN);
		expect_queues(name, i + 1, 0);
		EXPECT_EQ(sysfs_txqueues(name), i + 1);
		EXPECT_EQ(getiff_flags(fd[i]) & (IFF_MULTI_QUEUE | IFF_DETACH_QUEUE),
			  IFF_MULTI_QUEUE);
	}
	EXPECT_EQ(link_info(name).multi_queue, 1);
	for (i = 0; i < 3; i++) {
		close(fd[i]);
		ASSERT_TRUE(kt_exists(name));
		expect_queues(name, 3 - i, 0);
		EXPECT_EQ(sysfs_txqueues(name), 3 - i);
	}
	close(fd[3]);
	EXPECT_FALSE(kt_exists(name));
}

TEST(mixed_mq_flags_einval)
{
	char name[IFNAMSIZ], single[IFNAMSIZ];
	int fd = mq_attach(kt_ifname(name, "x"), MQ_TAP), other = kt_open_node(0), s;

	EXPECT_ERRNO(kt_setiff(other, name, IFF_TAP | IFF_NO_PI, NULL), EINVAL);
	EXPECT_ERRNO(kt_setiff(other, name, IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE, NULL), EINVAL);
	/* a single-queue device takes no multi-queue fd, even when nobody is attached */
	s = kt_attach(kt_ifname(single, "x"), IFF_TAP | IFF_NO_PI, NULL);
	kt_cleanup_dev(single);
	kt_set_persist(s, 1);
	close(s);
	EXPECT_ERRNO(kt_setiff(other, single, MQ_TAP, NULL), EINVAL);
	/* an existing multi-queue device is no exclusive creation */
	EXPECT_ERRNO(kt_setiff(other, name, MQ_TAP | IFF_TUN_EXCL, NULL), EBUSY);
	/* the fd is still unattached: it takes the right flags */
	EXPECT_OK(kt_setiff(other, name, MQ_TAP, NULL));
	expect_queues(name, 2, 0);
	close(other);
	close(fd);
	s = kt_attach(single, IFF_TAP | IFF_NO_PI, NULL);
	kt_set_persist(s, 0);
	close(s);
}

/* Detach, attach, and every wrong state for each. */
TEST(setqueue_states)
{
	char name[IFNAMSIZ], buf[64];
	int a, b;

	a = mq_attach(kt_ifname(name, "q"), MQ_TUN);
	b = mq_attach(name, MQ_TUN);
	ASSERT_OK(setqueue(b, IFF_DETACH_QUEUE));
	expect_queues(name, 1, 1);
	EXPECT_EQ(sysfs_txqueues(name), 1);
	EXPECT_EQ(getiff_flags(b) & IFF_DETACH_QUEUE, IFF_DETACH_QUEUE);
	EXPECT_EQ(getiff_flags(a) & IFF_DETACH_QUEUE, 0);
	EXPECT_ERRNO(setqueue(b, IFF_DETACH_QUEUE), EINVAL);
	/* a disabled queue is still attached: reads find nothing, TUNSETIFF is refused */
	EXPECT_ERRNO(read(b, buf, sizeof(buf)), EAGAIN);
	EXPECT_ERRNO(kt_setiff(b, name, MQ_TUN, NULL), EEXIST);
	expect_queues(name, 1, 1);
	/* what "ip -d link show" prints for link kind "tun" (stock, compat) */
	if (!strcmp(kt_link_kind(), "tun")) {
		char cmd[96], out[4096];

		snprintf(cmd, sizeof(cmd), "ip -d link show dev %s", name);
		ASSERT_EQ(kt_capture(out, sizeof(out), cmd), 0);
		if (!strstr(out, "multi_queue numqueues 1 numdisabled 1"))
			FAIL_CHECK("%s: %s", cmd, out);
	}

	ASSERT_OK(setqueue(b, IFF_ATTACH_QUEUE));
	expect_queues(name, 2, 0);
	EXPECT_EQ(sysfs_txqueues(name), 2);
	EXPECT_EQ(getiff_flags(b) & IFF_DETACH_QUEUE, 0);
	EXPECT_ERRNO(setqueue(b, IFF_ATTACH_QUEUE), EINVAL);
	EXPECT_ERRNO(setqueue(a, IFF_ATTACH_QUEUE), EINVAL);
	/* neither flag */
	EXPECT_ERRNO(setqueue(a, 0), EINVAL);
	EXPECT_ERRNO(setqueue(a, IFF_MULTI_QUEUE), EINVAL);

	/* both can be disabled; the device stays with none in service */
	ASSERT_OK(setqueue(a, IFF_DETACH_QUEUE));
	ASSERT_OK(setqueue(b, IFF_DETACH_QUEUE));
	expect_queues(name, 0, 2);
	ASSERT_TRUE(kt_exists(name));
	ASSERT_OK(setqueue(a, IFF_ATTACH_QUEUE));
	expect_queues(name, 1, 1);
	/* closing a disabled queue forgets it */
	close(b);
	expect_queues(name, 1, 0);
	EXPECT_ERRNO(ioctl(a, TUNSETQUEUE, (void *)-4096L), EFAULT);
	close(a);
	EXPECT_FALSE(kt_exists(name));
}

TEST(setqueue_not_mq_einval)
{
	char name[IFNAMSIZ];
	int fd = kt_open_node(0);

	/* unattached */
	EXPECT_ERRNO(setqueue(fd, IFF_DETACH_QUEUE), EINVAL);
	EXPECT_ERRNO(setqueue(fd, IFF_ATTACH_QUEUE), EINVAL);
	/* single-queue */
	ASSERT_OK(kt_setiff(fd, kt_ifname(name, "n"), IFF_TAP | IFF_NO_PI, NULL));
	EXPECT_ERRNO(setqueue(fd, IFF_DETACH_QUEUE), EINVAL);
	EXPECT_ERRNO(setqueue(fd, IFF_ATTACH_QUEUE), EINVAL);
	EXPECT_EQ(getiff_flags(fd) & IFF_DETACH_QUEUE, 0);
	close(fd);
}

static int send_sock;

static void stack_send(int port, const char *data, size_t len)
{
	if (!send_sock)
		send_sock = kt_udp_bind(LOCAL4, 0);
	kt_udp_send(send_sock, PEER4, port, data, len);
}

/* With every queue disabled what the stack sends is dropped and counted. */
TEST(all_disabled_drops)
{
	char name[IFNAMSIZ], buf[2048];
	unsigned long long drops;
	struct kt_pkt p;
	int a, b;

	a = mq_attach(kt_ifname(name, "d"), MQ_TUN);
	b = mq_attach(name, MQ_TUN);
	kt_dev_up(name, A4, NULL);
	ASSERT_OK(setqueue(a, IFF_DETACH_QUEUE));
	ASSERT_OK(setqueue(b, IFF_DETACH_QUEUE));
	drops = kt_stat(name, "tx_dropped");
	stack_send(7300, "x", 1);
	stack_send(7300, "x", 1);
	EXPECT_EQ(kt_stat(name, "tx_dropped"), drops + 2);
	EXPECT_EQ(kt_stat(name, "tx_packets"), 0);
	EXPECT_FALSE(kt_readable(a));
	EXPECT_FALSE(kt_readable(b));
	/* no queue in service, so no carrier to claim */
	{
		int on = 1;

		EXPECT_ERRNO(ioctl(a, TUNSETCARRIER, &on), EPERM);
	}
	/* one back in service takes everything */
	ASSERT_OK(setqueue(b, IFF_ATTACH_QUEUE));
	stack_send(7301, "yy", 2);
	kt_read_udp(b, KT_RAW, 7301, buf, sizeof(buf), &p);
	EXPECT_EQ(p.dlen, 2);
	EXPECT_FALSE(kt_readable(a));
	close(a);
	close(b);
}

/* A disabled queue gets no traffic, but its writes still go in. */
TEST(disabled_queue_writes)
{
	char name[IFNAMSIZ], buf[2048];
	int a, b, s, i;
	struct kt_pkt p;
	size_t n;

	a = mq_attach(kt_ifname(name, "w"), MQ_TUN);
	b = mq_attach(name, MQ_TUN);
	kt_dev_up(name, A4, NULL);
	s = kt_udp_bind(LOCAL4, 7400);
	ASSERT_OK(setqueue(b, IFF_DETACH_QUEUE));
	n = kt_build_udp(buf, KT_RAW, NULL, NULL, PEER4, 5000, LOCAL4, 7400, "from b", 6);
	EXPECT_EQ(write(b, buf, n), n);
	EXPECT_EQ(kt_recv_wait(s, buf, sizeof(buf)), 6);
	/* many flows, all to the one queue in service */
	for (i = 0; i < 16; i++) {
		int f = kt_udp_bind(LOCAL4, 0);

		kt_udp_send(f, PEER4, 7401, "f", 1);
		close(f);
	}
	for (i = 0; i < 16; i++)
		kt_read_udp(a, KT_RAW, 7401, buf, sizeof(buf), &p);
	EXPECT_FALSE(kt_readable(b));
	close(s);
	close(a);
	close(b);
}

/*
 * Transmit picks the queue by flow: each flow's packets all arrive on one
 * queue, and enough flows use more than one queue.
 */
#define FLOWS		64
#define PER_FLOW	4
#define NQ		4

TEST(flows_spread_and_stick)
{
	static int queue_of[65536];
	char name[IFNAMSIZ], buf[2048];
	int fd[NQ], sock[FLOWS], used[NQ] = { 0 }, nused = 0, got = 0, i, j, q;
	struct kt_pkt p;

	kt_ifname(name, "f");
	for (q = 0; q < NQ; q++)
		fd[q] = mq_attach(name, MQ_TUN);
	kt_dev_up(name, A4, NULL);
	memset(queue_of, -1, sizeof(queue_of));
	for (i = 0; i < FLOWS; i++)
		sock[i] = kt_udp_bind(LOCAL4, 0);
	/* interleaved, so a queue chosen per burst would show */
	for (j = 0; j < PER_FLOW; j++)
		for (i = 0; i < FLOWS; i++)
			kt_udp_send(sock[i], PEER4, 7500, "flow", 4);

	while (got < FLOWS * PER_FLOW) {
		struct pollfd pf[NQ];

		for (q = 0; q < NQ; q++)
			pf[q] = (struct pollfd){ .fd = fd[q], .events = POLLIN };
		if (poll(pf, NQ, KT_WAIT_MS) <= 0)
			FAIL("only %d of %d datagrams arrived", got, FLOWS * PER_FLOW);
		for (q = 0; q < NQ; q++) {
			ssize_t n;

			if (!(pf[q].revents & POLLIN))
				continue;
			while ((n = read(fd[q], buf, sizeof(buf))) > 0) {
				if (kt_parse(buf, n, KT_RAW, &p) || p.dport != 7500)
					continue;
				got++;
				if (queue_of[p.sport] < 0)
					queue_of[p.sport] = q;
				else if (queue_of[p.sport] != q)
					FAIL_CHECK("flow from port %d on queues %d and %d",
						   p.sport, queue_of[p.sport], q);
				if (!used[q]++)
					nused++;
			}
		}
	}
	EXPECT_GT(nused, 1);
	kt_note("%d flows over %d of %d queues\n", FLOWS, nused, NQ);
	EXPECT_EQ(kt_stat(name, "tx_dropped"), 0);
	for (i = 0; i < FLOWS; i++)
		close(sock[i]);
	for (q = 0; q < NQ; q++)
		close(fd[q]);
}

/* ---- every order of attach / detach / re-attach / close / delete ---- */

enum op { ATTACH, DETACH, REATTACH, CLOSE, DEL };
static const char *const op_names[] = { "attach", "detach", "reattach", "close", "del" };

enum qstate { UNOPENED, ENABLED, DISABLED, DEAD, CLOSED };

#define MAX_Q		3
#define MAX_STEPS	12

struct script {
	int nq;
	int start;		/* queues attached before the first step */
	int start_disabled;	/* mask of those taken out of service first */
	int persist;		/* q0 makes the first device persistent */
	int len[MAX_Q + 1];	/* ops per queue; the last "queue" is the delete */
	enum op ops[MAX_Q + 1][4];
};

struct model {
	int exists, gen, persist;
	struct {
		int fd;
		enum qstate st;
		int gen;
	} q[MAX_Q];
};

struct step {
	int q;		/* MAX_Q: the delete */
	enum op op;
};

static const char *seq_str(const struct step *seq, int n)
{
	static char s[256];
	int i, off = 0;

	s[0] = '\0';
	for (i = 0; i < n && off < (int)sizeof(s) - 16; i++) {
		off += snprintf(s + off, sizeof(s) - off, "%s%s", i ? ", " : "",
				op_names[seq[i].op]);
		if (seq[i].q < MAX_Q)
			off += snprintf(s + off, sizeof(s) - off, " q%d", seq[i].q);
	}
	return s;
}

/* The checks after each step: the device, the queue counts, each open fd. */
static void check_model(const char *name, const struct model *m, int nq,
			const struct step *seq, int done)
{
	int en = 0, dis = 0, i;
	char buf[64];

	if (kt_exists(name) != m->exists)
		FAIL("after [%s]: %s %s, expected %s", seq_str(seq, done), name,
		     kt_exists(name) ? "exists" : "is gone", m->exists ? "present" : "gone");
	for (i = 0; i < nq; i++) {
		int want = -1, flags;

		switch (m->q[i].st) {
		case ENABLED:
			en++;
			want = EAGAIN;
			break;
		case DISABLED:
			dis++;
			want = EAGAIN;
			break;
		case DEAD:
			want = EBADFD;
			break;
		default:
			continue;
		}
		errno = 0;
		if (read(m->q[i].fd, buf, sizeof(buf)) != -1 || errno != want)
			FAIL_CHECK("after [%s]: read on q%d: %s, expected %s",
				   seq_str(seq, done), i, kt_errname(errno), kt_errname(want));
		flags = getiff_flags(m->q[i].fd);
		if (m->q[i].st == DEAD ? flags != -1 || errno != EBADFD :
		    flags < 0 || !!(flags & IFF_DETACH_QUEUE) != (m->q[i].st == DISABLED))
			FAIL_CHECK("after [%s]: TUNGETIFF on q%d: 0x%x (%s)",
				   seq_str(seq, done), i, flags, kt_errname(errno));
	}
	if (m->exists) {
		struct ktun_link_info li = link_info(name);

		if (li.numqueues != en || li.numdisabled != dis)
			FAIL_CHECK("after [%s]: numqueues %lld numdisabled %lld, expected %d, %d",
				   seq_str(seq, done), li.numqueues, li.numdisabled, en, dis);
	}
}

/* Whether any open fd still holds the current device. */
static int holders(const struct model *m, int nq)
{
	int i, n = 0;

	for (i = 0; i < nq; i++)
		n += (m->q[i].st == ENABLED || m->q[i].st == DISABLED) && m->q[i].gen == m->gen;
	return n;
}

static void run_sequence(const char *name, const struct script *sc,
			 const struct step *seq, int n)
{
	struct model m;
	int i, ret, want;

	memset(&m, 0, sizeof(m));
	for (i = 0; i < sc->start; i++) {
		m.q[i].fd = mq_attach(name, MQ_TUN);
		m.q[i].st = ENABLED;
	}
	for (i = 0; i < sc->start; i++) {
		if (sc->start_disabled & (1 << i)) {
			ASSERT_OK(setqueue(m.q[i].fd, IFF_DETACH_QUEUE));
			m.q[i].st = DISABLED;
		}
	}
	m.exists = 1;
	if (sc->persist) {
		kt_set_persist(m.q[0].fd, 1);
		m.persist = 1;
	}
	for (i = 0; i < n; i++) {
		int qi = seq[i].q;
		typeof(m.q[0]) *q = qi < MAX_Q ? &m.q[qi] : NULL;

		switch (seq[i].op) {
		case ATTACH:
			q->fd = mq_attach(name, MQ_TUN);
			if (!m.exists) {
				m.exists = 1;
				m.gen++;
				m.persist = 0;
			}
			q->st = ENABLED;
			q->gen = m.gen;
			break;
		case DETACH:
		case REATTACH:
			ret = setqueue(q->fd, seq[i].op == DETACH ? IFF_DETACH_QUEUE :
					      IFF_ATTACH_QUEUE);
			want = q->st == (seq[i].op == DETACH ? ENABLED : DISABLED) ? 0 : EINVAL;
			if (ret ? errno != want : want != 0)
				FAIL_CHECK("[%s]: %s q%d: %s, expected %s", seq_str(seq, i + 1),
					   op_names[seq[i].op], qi, ret ? kt_errname(errno) : "0",
					   kt_errname(want));
			if (!want)
				q->st = seq[i].op == DETACH ? DISABLED : ENABLED;
			break;
		case CLOSE:
			close(q->fd);
			q->st = CLOSED;
			if (q->gen == m.gen && m.exists && !m.persist && !holders(&m, sc->nq))
				m.exists = 0;
			break;
		case DEL:
			ret = ktun_link_del(name);
			want = m.exists ? 0 : -ENODEV;
			if (ret != want)
				FAIL_CHECK("[%s]: delete: %s, expected %s", seq_str(seq, i + 1),
					   kt_errname(-ret), kt_errname(-want));
			for (int j = 0; j < sc->nq; j++)
				if ((m.q[j].st == ENABLED || m.q[j].st == DISABLED) &&
				    m.q[j].gen == m.gen)
					m.q[j].st = DEAD;
			m.exists = 0;
			break;
		}
		check_model(name, &m, sc->nq, seq, i + 1);
	}
	/* nothing may be left once every fd is closed, or deleted if persistent */
	for (i = 0; i < sc->nq; i++)
		if (m.q[i].st != CLOSED && m.q[i].st != UNOPENED)
			close(m.q[i].fd);
	if (kt_exists(name))
		FAIL("after [%s] and closing all: %s still exists", seq_str(seq, n), name);
}

/* Every interleaving of the per-queue scripts, each run on a fresh device. */
static int interleave(const char *name, const struct script *sc, int *pos,
		      struct step *seq, int depth, int total)
{
	int k, runs = 0;

	if (depth == total) {
		run_sequence(name, sc, seq, total);
		return 1;
	}
	for (k = 0; k <= sc->nq; k++) {
		int slot = k == sc->nq ? MAX_Q : k;

		if (pos[slot] == sc->len[slot])
			continue;
		seq[depth] = (struct step){ slot, sc->ops[slot][pos[slot]] };
		pos[slot]++;
		runs += interleave(name, sc, pos, seq, depth + 1, total);
		pos[slot]--;
	}
	return runs;
}

static void run_script(const char *tag, const struct script *sc, int expect_runs)
{
	struct step seq[MAX_STEPS];
	int pos[MAX_Q + 1] = { 0 }, total = 0, i, runs;
	char name[IFNAMSIZ];

	kt_ifname(name, tag);
	kt_cleanup_dev(name);
	for (i = 0; i < sc->nq; i++)
		total += sc->len[i];
	total += sc->len[MAX_Q];
	runs = interleave(name, sc, pos, seq, 0, total);
	EXPECT_EQ(runs, expect_runs);
}

/*
 * Each script lists what happens to each queue and the delete; every
 * interleaving of them is run on a fresh multi-queue device.
 */

/* q0: detach, close; q1: attach, close; the delete. */
TEST(orders_two_queues)
{
	static const struct script sc = {
		.nq = 2, .start = 1,
		.len = { 2, 2, 0, 1 },
		.ops = { { DETACH, CLOSE }, { ATTACH, CLOSE }, { 0 }, { DEL } },
	};

	run_script("o", &sc, 30);
}

/* Both attached; q0: detach, re-attach, close; q1: close; the delete. */
TEST(orders_two_queues_reattach)
{
	static const struct script sc = {
		.nq = 2, .start = 2,
		.len = { 3, 1, 0, 1 },
		.ops = { { DETACH, REATTACH, CLOSE }, { CLOSE }, { 0 }, { DEL } },
	};

	run_script("a", &sc, 20);
}

/* Persistent, both attached; q0: detach, close; q1: close; the delete. */
TEST(orders_two_queues_persistent)
{
	static const struct script sc = {
		.nq = 2, .start = 2, .persist = 1,
		.len = { 2, 1, 0, 1 },
		.ops = { { DETACH, CLOSE }, { CLOSE }, { 0 }, { DEL } },
	};

	run_script("p", &sc, 12);
}

/* Three attached, q1 out of service; each closes, and the delete. */
TEST(orders_three_queues)
{
	static const struct script sc = {
		.nq = 3, .start = 3, .start_disabled = 1 << 1,
		.len = { 1, 1, 1, 1 },
		.ops = { { CLOSE }, { CLOSE }, { CLOSE }, { DEL } },
	};

	run_script("t", &sc, 24);
}

/* ---- writes racing detach, re-attach and close ---- */

#define TOGGLES		100
#define REOPENS		40

struct race {
	const char *name;
	int fd[3];
	int stop;
	int sock;		/* the stack's end, bound to LOCAL4:7600 */
	long writes[2], sends;
};

struct writer {
	struct race *r;
	int q;
};

static void *race_writer(void *arg)
{
	struct writer *w = arg;
	struct race *r = w->r;
	uint8_t buf[256];
	size_t n = kt_build_udp(buf, KT_RAW, NULL, NULL, PEER4, 5000 + w->q, LOCAL4, 7600,
				"race", 4);

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		ssize_t ret = write(r->fd[w->q], buf, n);

		if (ret != (ssize_t)n)
			FAIL("write on q%d: %zd (%s)", w->q, ret, kt_errname(errno));
		r->writes[w->q]++;
	}
	return NULL;
}

/* The stack transmits and q0/q1 are drained, so transmit races the detach too. */
static void *race_stack(void *arg)
{
	struct race *r = arg;
	int s = kt_udp_bind(LOCAL4, 0);
	char buf[256];

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		kt_udp_send(s, PEER4, 7601 + r->sends % 8, "tx", 2);
		r->sends++;
		while (read(r->fd[0], buf, sizeof(buf)) > 0)
			;
		while (read(r->fd[1], buf, sizeof(buf)) > 0)
			;
		while (recv(r->sock, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	}
	close(s);
	return NULL;
}

static void *race_toggler(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < TOGGLES; i++) {
		if (setqueue(r->fd[1], IFF_DETACH_QUEUE))
			FAIL("detach %d: %s", i, kt_errname(errno));
		if (setqueue(r->fd[1], IFF_ATTACH_QUEUE))
			FAIL("re-attach %d: %s", i, kt_errname(errno));
	}
	return NULL;
}

static void *race_reopener(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < REOPENS; i++) {
		close(r->fd[2]);
		r->fd[2] = mq_attach(r->name, MQ_TUN);
	}
	return NULL;
}

TEST(write_vs_detach_race)
{
	pthread_t w[2], st, tog, reo;
	struct writer wr[2];
	struct race r = { 0 };
	char name[IFNAMSIZ], buf[2048];
	struct kt_pkt p;
	int i, q, found = -1;
	size_t n;

	r.name = kt_ifname(name, "r");
	for (q = 0; q < 3; q++)
		r.fd[q] = mq_attach(name, MQ_TUN);
	kt_dev_up(name, A4, NULL);
	r.sock = kt_udp_bind(LOCAL4, 7600);
	for (i = 0; i < 2; i++) {
		wr[i] = (struct writer){ &r, i };
		ASSERT_EQ(pthread_create(&w[i], NULL, race_writer, &wr[i]), 0);
	}
	ASSERT_EQ(pthread_create(&st, NULL, race_stack, &r), 0);
	ASSERT_EQ(pthread_create(&tog, NULL, race_toggler, &r), 0);
	ASSERT_EQ(pthread_create(&reo, NULL, race_reopener, &r), 0);
	ASSERT_EQ(pthread_join(tog, NULL), 0);
	ASSERT_EQ(pthread_join(reo, NULL), 0);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(pthread_join(w[i], NULL), 0);
	ASSERT_EQ(pthread_join(st, NULL), 0);
	kt_note("%ld + %ld writes, %ld sends during %d toggles and %d reopens\n",
		r.writes[0], r.writes[1], r.sends, TOGGLES, REOPENS);

	/* the device is whole: three queues in service, traffic both ways */
	expect_queues(name, 3, 0);
	for (q = 0; q < 3; q++)
		kt_drain(r.fd[q]);
	while (recv(r.sock, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	for (q = 0; q < 3; q++) {
		n = kt_build_udp(buf, KT_RAW, NULL, NULL, PEER4, 6000, LOCAL4, 7600, "after", 5);
		EXPECT_EQ(write(r.fd[q], buf, n), n);
		EXPECT_EQ(kt_recv_wait(r.sock, buf, sizeof(buf)), 5);
	}
	stack_send(7609, "end", 3);
	for (i = 0; i < 1000 && found < 0; i++) {
		struct pollfd pf[3];

		for (q = 0; q < 3; q++)
			pf[q] = (struct pollfd){ .fd = r.fd[q], .events = POLLIN };
		ASSERT_GT(poll(pf, 3, KT_WAIT_MS), 0);
		for (q = 0; q < 3; q++) {
			ssize_t got;

			if (!(pf[q].revents & POLLIN))
				continue;
			got = read(r.fd[q], buf, sizeof(buf));
			if (got > 0 && !kt_parse(buf, got, KT_RAW, &p) && p.dport == 7609)
				found = q;
		}
	}
	EXPECT_GE(found, 0);
	close(r.sock);
	for (q = 0; q < 3; q++)
		close(r.fd[q]);
	EXPECT_FALSE(kt_exists(name));
}

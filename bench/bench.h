/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * Shared by the bench programs: options, clocks, the devices under test
 * ("targets") and the rotation that measures them in turn.
 *
 * A program opens every target at once: a TUN interface per driver node
 * (--target stock=/dev/net/tun --target ktun=/dev/net/ktun) and, with --veth,
 * a veth pair whose one end a packet socket drives (the ceiling). Each target
 * gets its own threads, sockets and subnet, and then the load moves from one
 * target to the next in short windows, A B C A B C ..., so that whatever the
 * host does to the VM meanwhile lands on every target alike. Under TCG on a
 * shared machine that pairing, not the number of runs, is what keeps the
 * ratios steady; and it saves setting devices up again for every run.
 *
 * A target's "port" is the application's end: it reads and writes bare IP
 * packets, through a TUN fd per queue or through the packet socket.
 *
 *	stack (sockets) 10.77.T.1 --[ tun kbenchT | veth kbv1 <-> kbv0 ]-- 10.77.T.2 port
 *
 * Every program prints one line per target and window:
 *	RESULT workload=<name> driver=<label> dev=<node|veth> run=<n> <metric>=<v> ...
 * with na=<reason> in place of the metrics for a target that cannot run the
 * workload (a driver without IFF_MULTI_QUEUE), failed=<reason> for one that
 * broke. Anything else on stdout or stderr is for humans.
 *
 * --ring: a target whose driver offers shared-memory rings (ktun) moves its
 * packets through them (bench_ring_setup()); one without (stock) keeps
 * read()/write(). The workload's name gets a "ring-" prefix.
 */
#ifndef KTUN_BENCH_H
#define KTUN_BENCH_H

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/ethtool.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>

#include "ktun.h"
#include "ktun_ring.h"

#define BENCH_PORT	9000
#define BENCH_MAXQ	8
#define BENCH_MAXT	4
#define BENCH_MTU	1500
/* Large enough for any packet we build, and for a read that truncates none. */
#define BENCH_BUF	2048

struct bench_dev {
	int nfds;
	int fds[BENCH_MAXQ];	/* one per queue; a packet socket for veth */
	char name[IFNAMSIZ];
	struct sockaddr_ll to;	/* veth: where our writes go (kbv1's MAC) */
	struct ktun_ring *rings[BENCH_MAXQ];	/* --ring, where offered */
};

struct bench_target {
	const char *label;	/* "stock", "ktun", "veth", ... */
	const char *node;	/* the character device; NULL for veth */
	int idx;		/* its subnet: 10.77.idx.0/24 */
	const char *na;		/* why it sits this workload out, or NULL */
	atomic_int failed;	/* an errno that stopped it, or 0 */
	struct bench_dev dev;
};

struct bench_opts {
	char workload[64];	/* the RESULT lines' workload= */
	double secs;		/* one measured window */
	size_t size;		/* whole IP packet, headers included */
	int queues;
	int ring;		/* --ring */
	int runs;		/* windows per target */
	int ntargets;
	struct bench_target t[BENCH_MAXT];
};

/* A counter per thread, each on its own cache line so they do not bounce. */
struct bench_count {
	_Atomic unsigned long n;
} __attribute__((aligned(64)));

/*
 * Which target may load the system now. Inactive targets' threads sleep
 * here, so they neither cost CPU nor queue packets during another's window.
 */
struct bench_gate {
	atomic_int active;	/* a target's idx, or -1 */
	atomic_int stop;
	pthread_mutex_t mu;	/* protects the waits on cv */
	pthread_cond_t cv;
};

static inline void __attribute__((noreturn, format(printf, 1, 2)))
bench_die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static inline double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static inline void bench_sleep(double secs)
{
	struct timespec ts = {
		.tv_sec = (time_t)secs,
		.tv_nsec = (long)((secs - (time_t)secs) * 1e9),
	};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static inline void bench_count_add(struct bench_count *c, unsigned long n)
{
	atomic_fetch_add_explicit(&c->n, n, memory_order_relaxed);
}

static inline unsigned long bench_count_get(struct bench_count *c)
{
	return atomic_load_explicit(&c->n, memory_order_relaxed);
}

/*
 * CPU seconds the system has spent busy, all CPUs together: user, system and
 * interrupt time from /proc/stat, not idle. Its growth over a window is what
 * the window's packets cost. Guest accounting is by timer tick, and a tick
 * is counted once however late it comes, so time the host takes away from
 * the VM mostly goes uncounted here while it still shows in the clock: per
 * CPU-second, rates vary less with the host's load than per second.
 */
static inline double bench_cpu_busy(void)
{
	unsigned long long user, nice, sys, idle, iowait, irq, softirq;
	FILE *f = fopen("/proc/stat", "re");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
		   &sys, &idle, &iowait, &irq, &softirq);
	fclose(f);
	if (n != 7)
		return 0;
	return (double)(user + nice + sys + irq + softirq) / sysconf(_SC_CLK_TCK);
}

/* 10.77.@idx.@host: .1 is the stack's end of a target, .2 the port's. */
static inline struct in_addr bench_addr(int idx, int host)
{
	struct in_addr a = { htonl(10u << 24 | 77u << 16 | idx << 8 | host) };

	return a;
}

static inline void bench_gate_init(struct bench_gate *g)
{
	atomic_init(&g->active, -1);
	atomic_init(&g->stop, 0);
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cv, NULL);
}

/* Blocks until target @idx is active; false once the program is stopping. */
static inline int bench_gate_wait(struct bench_gate *g, int idx)
{
	if (atomic_load_explicit(&g->active, memory_order_relaxed) == idx)
		return 1;
	pthread_mutex_lock(&g->mu);
	while (atomic_load(&g->active) != idx && !atomic_load(&g->stop))
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
	return !atomic_load(&g->stop);
}

static inline void bench_gate_set(struct bench_gate *g, int idx, int stop)
{
	pthread_mutex_lock(&g->mu);
	atomic_store(&g->active, idx);
	atomic_store(&g->stop, stop);
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static inline void bench_usage(const char *prog, const char *what)
{
	fprintf(stderr,
		"usage: %s [-t SECONDS] [-r RUNS] [-s SIZE] [-q QUEUES]\n"
		"       [--target LABEL=NODE]... [--veth] [--ring]\n"
		"  %s\n"
		"  -t  seconds per measured window (default $KTUN_BENCH_SECONDS, else 2)\n"
		"  -r  windows per target, taken in turn (default 1)\n"
		"  -s  IP packet size in bytes, headers included (default 64)\n"
		"  -q  queues, each with its own threads and flow (default 1)\n"
		"  --target  a driver's character device under a label, e.g.\n"
		"            stock=/dev/net/tun (default: tun=$KTUN_DEV, else /dev/net/ktun)\n"
		"  --veth    also a veth pair driven by a packet socket, the ceiling\n"
		"  --ring    targets that offer shared-memory rings use them\n",
		prog, what);
}

static inline void bench_add_target(struct bench_opts *o, const char *label,
				    const char *node)
{
	struct bench_target *t;

	if (o->ntargets == BENCH_MAXT)
		bench_die("at most %d targets", BENCH_MAXT);
	t = &o->t[o->ntargets];
	memset(t, 0, sizeof(*t));
	t->label = label;
	t->node = node;
	t->idx = o->ntargets++;
}

static inline void bench_parse(int argc, char **argv, struct bench_opts *o,
			       const char *what)
{
	static const struct option lopts[] = {
		{ "seconds", required_argument, NULL, 't' },
		{ "runs", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "queues", required_argument, NULL, 'q' },
		{ "target", required_argument, NULL, 'T' },
		{ "veth", no_argument, NULL, 'V' },
		{ "ring", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *env = getenv("KTUN_BENCH_SECONDS");
	int c, veth = 0;
	char *eq;

	memset(o, 0, sizeof(*o));
	o->secs = env && *env ? atof(env) : 2.0;
	o->size = 64;
	o->queues = 1;
	o->runs = 1;
	while ((c = getopt_long(argc, argv, "t:r:s:q:h", lopts, NULL)) != -1) {
		switch (c) {
		case 't':
			o->secs = atof(optarg);
			break;
		case 'r':
			o->runs = atoi(optarg);
			break;
		case 's':
			o->size = strtoul(optarg, NULL, 0);
			break;
		case 'q':
			o->queues = atoi(optarg);
			break;
		case 'T':
			eq = strchr(optarg, '=');
			if (!eq || eq == optarg || !eq[1])
				bench_die("--target wants LABEL=NODE, not %s", optarg);
			*eq = '\0';
			bench_add_target(o, optarg, eq + 1);
			break;
		case 'V':
			veth = 1;
			break;
		case 'R':
			o->ring = 1;
			break;
		default:
			bench_usage(argv[0], what);
			exit(c == 'h' ? 0 : 2);
		}
	}
	if (!o->ntargets && !veth)
		bench_add_target(o, "tun", ktun_path());
	if (veth)
		bench_add_target(o, "veth", NULL);
	if (o->secs <= 0 || o->runs < 1)
		bench_die("seconds and runs must be > 0");
	/* An IPv4 + UDP header with a sequence number must fit, and no more than one MTU. */
	if (o->size < 36 || o->size > BENCH_MTU)
		bench_die("size must be within 36..%d", BENCH_MTU);
	if (o->queues < 1 || o->queues > BENCH_MAXQ)
		bench_die("queues must be within 1..%d", BENCH_MAXQ);
}

/*
 * Pins the calling thread. The VM has two vCPUs, and leaving placement to
 * the scheduler adds more noise than the drivers differ by;
 * KTUN_BENCH_PIN=0 turns it off.
 */
static inline void bench_pin(int cpu)
{
	const char *env = getenv("KTUN_BENCH_PIN");
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	if ((env && !strcmp(env, "0")) || ncpu < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu % ncpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The warm-up ahead of each window: a tenth of it, 50 ms at least. */
static inline double bench_warmup(const struct bench_opts *o)
{
	return o->secs / 10 > 0.05 ? o->secs / 10 : 0.05;
}

static inline void bench_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, val, strlen(val)) < 0)
		perror(path);
	close(fd);
}

static inline int bench_inet_sock(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		bench_die("socket: %s", strerror(errno));
	return fd;
}

/*
 * Gives @ifname the address @addr/@prefix (unless @addr is NULL) and brings
 * it up, as `ip addr add` and `ip link set up` would, but by ioctl: under TCG
 * every process spawned costs a good part of a second.
 */
static inline void bench_if_up4(const char *ifname, const struct in_addr *addr,
				int prefix)
{
	struct sockaddr_in *sin;
	struct ifreq ifr;
	int fd = bench_inet_sock();

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	if (addr) {
		sin->sin_addr = *addr;
		if (ioctl(fd, SIOCSIFADDR, &ifr) < 0)
			bench_die("%s: SIOCSIFADDR: %s", ifname, strerror(errno));
		sin->sin_addr.s_addr = htonl(prefix ? ~0u << (32 - prefix) : 0);
		if (ioctl(fd, SIOCSIFNETMASK, &ifr) < 0)
			bench_die("%s: SIOCSIFNETMASK: %s", ifname, strerror(errno));
	}
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
		bench_die("%s: SIOCGIFFLAGS: %s", ifname, strerror(errno));
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
		bench_die("%s: SIOCSIFFLAGS: %s", ifname, strerror(errno));
	close(fd);
}

/*
 * Moves the process into a network namespace of its own: nothing a previous
 * run left behind can disturb this one, interfaces vanish with the process,
 * and the host's network is never touched. IPv6 stays off so that router
 * solicitations and MLD reports do not mix with the measured traffic.
 *
 * KTUN_BENCH_NETNS=0 stays in the current namespace, for bench/inside in
 * the throw-away VM: a namespace is torn down by a kworker after the process
 * exits, and under TCG that takes long enough to slow down what runs next.
 */
static inline void bench_netns(void)
{
	const char *env = getenv("KTUN_BENCH_NETNS");

	if (env && !strcmp(env, "0"))
		return;
	if (unshare(CLONE_NEWNET) < 0)
		bench_die("unshare(CLONE_NEWNET): %s", strerror(errno));
	bench_write_file("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	bench_write_file("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	bench_if_up4("lo", NULL, 0);
}

/* A permanent neighbour entry, as `ip neigh add ... nud permanent` makes. */
static inline void bench_neigh(const char *ifname, struct in_addr addr,
			       const unsigned char mac[6])
{
	struct arpreq req;
	int fd = bench_inet_sock();

	memset(&req, 0, sizeof(req));
	req.arp_pa.sa_family = AF_INET;
	((struct sockaddr_in *)&req.arp_pa)->sin_addr = addr;
	req.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(req.arp_ha.sa_data, mac, 6);
	req.arp_flags = ATF_PERM | ATF_COM;
	snprintf(req.arp_dev, sizeof(req.arp_dev), "%s", ifname);
	if (ioctl(fd, SIOCSARP, &req) < 0)
		bench_die("%s: SIOCSARP: %s", ifname, strerror(errno));
	close(fd);
}

/*
 * Turns off transmit checksum offload on @ifname. A veth passes a packet's
 * checksum on unfinished (CHECKSUM_PARTIAL), while on TUN without a vnet
 * header the stack finishes it before the driver sees it; without this the
 * ceiling would skip work the TUN paths do, and an echoed packet would come
 * back with a bad checksum.
 */
static inline void bench_no_tx_csum(const char *ifname)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_STXCSUM, .data = 0 };
	struct ifreq ifr;
	int fd = bench_inet_sock();

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		bench_die("%s: turning tx checksum offload off: %s", ifname,
			  strerror(errno));
	close(fd);
}

static inline void bench_veth_del(void)
{
	if (if_nametoindex("kbv0"))
		ktun_sh("ip link del kbv0");
}

static inline void bench_veth_open(struct bench_target *t)
{
	static const unsigned char kbv1_mac[6] = { 2, 0, 0, 0, 0, 1 };
	static const unsigned char peer_mac[6] = { 2, 0, 0, 0, 0, 0x99 };
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
	};
	struct in_addr local = bench_addr(t->idx, 1);
	struct bench_dev *d = &t->dev;
	int fd;

	/*
	 * kbv0 is the application's end, kbv1 the stack's. The stack's
	 * neighbour entry for the peer names a MAC that is not kbv0's, so
	 * kbv0's own IP layer drops what the stack sends as PACKET_OTHERHOST
	 * at once, while the packet socket still gets it, as a TUN reader
	 * would. Outside a namespace of our own, a crashed run may have left
	 * the pair behind.
	 */
	bench_veth_del();
	atexit(bench_veth_del);
	if (ktun_sh("ip link add kbv0 address 02:00:00:00:00:02 type veth peer name kbv1 address 02:00:00:00:00:01"))
		bench_die("creating veth failed (is the veth module loaded?)");
	bench_if_up4("kbv0", NULL, 0);
	bench_if_up4("kbv1", &local, 24);
	bench_neigh("kbv1", bench_addr(t->idx, 2), peer_mac);
	bench_no_tx_csum("kbv1");
	snprintf(d->name, sizeof(d->name), "kbv0");
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (fd < 0)
		bench_die("packet socket: %s", strerror(errno));
	sll.sll_ifindex = if_nametoindex("kbv0");
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		bench_die("bind packet socket: %s", strerror(errno));
	d->to = sll;
	d->to.sll_halen = 6;
	memcpy(d->to.sll_addr, kbv1_mac, 6);
	d->fds[0] = fd;
	d->nfds = 1;
}

/* ktun_open(), but on @node rather than $KTUN_DEV: targets differ in it. */
static inline int bench_tun_open(const char *node, const char *name, int flags,
				 char *out)
{
	struct ifreq ifr;
	int fd, err;

	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = flags;
	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	memcpy(out, ifr.ifr_name, IFNAMSIZ);
	return fd;
}

/*
 * Creates every target's device with @o->queues queues and gives the stack
 * its address. A driver refusing IFF_MULTI_QUEUE (EINVAL) or a veth asked for
 * several queues sits the workload out (t->na); any other failure is fatal.
 */
static inline void bench_open_all(struct bench_opts *o)
{
	int flags = IFF_TUN | IFF_NO_PI;

	if (o->queues > 1)
		flags |= IFF_MULTI_QUEUE;
	for (int i = 0; i < o->ntargets; i++) {
		struct bench_target *t = &o->t[i];
		struct bench_dev *d = &t->dev;
		struct in_addr local = bench_addr(t->idx, 1);
		char name[IFNAMSIZ];

		if (!t->node) {
			if (o->queues > 1)
				t->na = "one-queue";
			else
				bench_veth_open(t);
			continue;
		}
		snprintf(name, sizeof(name), "kbench%d", t->idx);
		for (int q = 0; q < o->queues; q++) {
			int fd = bench_tun_open(t->node, q ? d->name : name,
						flags, d->name);

			if (fd == -EINVAL && q == 0 && o->queues > 1) {
				t->na = "multi-queue-unsupported";
				break;
			}
			if (fd < 0)
				bench_die("%s: TUNSETIFF %s queue %d: %s", t->node,
					  q ? d->name : name, q, strerror(-fd));
			d->fds[d->nfds++] = fd;
		}
		if (!t->na)
			bench_if_up4(d->name, &local, 24);
	}
}

/*
 * --ring: sets up the rings of every queue of @t whose driver offers them,
 * only the directions asked for; a driver without (stock) keeps
 * read()/write(). Call it after anything that reads the fds directly.
 */
#define BENCH_RING_SLOTS	512
static inline void bench_ring_setup(const struct bench_opts *o,
				    struct bench_target *t, int rx, int tx)
{
	struct ktun_ring_config c = {
		rx ? BENCH_RING_SLOTS : KTUN_RING_NO_RING, BENCH_BUF,
		tx ? BENCH_RING_SLOTS : KTUN_RING_NO_RING, BENCH_BUF,
	};
	struct ktun_ring_features f;

	if (!o->ring || !t->node || t->na ||
	    ktun_ring_features(t->dev.fds[0], &f))
		return;
	for (int q = 0; q < t->dev.nfds; q++) {
		int ret = ktun_ring_setup(t->dev.fds[q], &c, &t->dev.rings[q]);

		if (ret)
			bench_die("%s: ring setup, queue %d: %s", t->label, q,
				  strerror(-ret));
	}
}

static inline ssize_t bench_dev_read(struct bench_target *t, int q, void *buf,
				     size_t len)
{
	if (!t->node)
		return recv(t->dev.fds[q], buf, len, 0);
	return read(t->dev.fds[q], buf, len);
}

static inline ssize_t bench_dev_write(struct bench_target *t, int q,
				      const void *buf, size_t len)
{
	if (!t->node)
		return sendto(t->dev.fds[q], buf, len, 0,
			      (struct sockaddr *)&t->dev.to, sizeof(t->dev.to));
	return write(t->dev.fds[q], buf, len);
}

/*
 * A UDP socket of the stack's, bound to target @t's 10.77.T.1:@port and
 * connected to 10.77.T.2:@dport when @dport is not 0. The receive buffer is
 * made large so that a reader's scheduling hiccup costs fewer drops.
 */
static inline int bench_udp(const struct bench_target *t, uint16_t port,
			    uint16_t dport)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr = bench_addr(t->idx, 1),
	};
	int fd = bench_inet_sock(), buf = 4 << 20;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		bench_die("bind 10.77.%d.1:%u: %s", t->idx, port, strerror(errno));
	if (dport) {
		sin.sin_port = htons(dport);
		sin.sin_addr = bench_addr(t->idx, 2);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			bench_die("connect: %s", strerror(errno));
	}
	return fd;
}

/* A UDP packet of @size bytes in all, from target @t's port to its stack. */
static inline size_t bench_packet(const struct bench_target *t, void *buf,
				  size_t size, uint16_t sport, uint16_t dport)
{
	char payload[BENCH_BUF];
	size_t plen = size - sizeof(struct iphdr) - sizeof(struct udphdr);

	memset(payload, 'k', plen);
	return ktun_udp4(buf, bench_addr(t->idx, 2), bench_addr(t->idx, 1),
			 sport, dport, payload, plen);
}

static inline void __attribute__((format(printf, 4, 5)))
bench_result(const char *workload, const struct bench_target *t, int run,
	     const char *fmt, ...)
{
	va_list ap;

	printf("RESULT workload=%s driver=%s dev=%s run=%d ", workload,
	       t->label, t->node ? t->node : "veth", run);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* One line per target that sits the workload out, so the table says n/a. */
static inline void bench_report_na(struct bench_opts *o)
{
	for (int i = 0; i < o->ntargets; i++)
		if (o->t[i].na && o->t[i].node)
			bench_result(o->workload, &o->t[i], 1, "na=%s", o->t[i].na);
}

/*
 * What a program measures in one window of one target: @sample reads its
 * counters (what got through, and what was offered), @report prints the
 * window's RESULT line from their differences over @secs.
 */
struct bench_ops {
	void (*sample)(struct bench_target *t, unsigned long *got,
		       unsigned long *offered, void *arg);
	void (*report)(const struct bench_opts *o, struct bench_target *t,
		       int run, double secs, double cpu, unsigned long got,
		       unsigned long offered, void *arg);
};

/*
 * Which target takes the @k-th window of round @r. Two targets simply
 * alternate, A B A B. Three or more rotate, A B C B C A C A B ...: each takes
 * each place in a round equally often and none has two windows in a row.
 * (Reversing every other round, A B C C B A, would give A and C two windows
 * in a row, the second warmer, and leave B always in the middle: run with
 * stock in both A and B it made B lose 5 of 7 rounds.)
 */
static inline int bench_order(const struct bench_opts *o, int r, int k)
{
	return o->ntargets < 3 ? k : (k + r - 1) % o->ntargets;
}

/*
 * The rotation: @o->runs rounds, in each a window per target in turn, in the
 * order bench_order() gives. A window opens the gate for its target, lets
 * it warm up, counts for @o->secs, and closes the gate; a pause as long as
 * the warm-up then lets queues drain, so that a target's tail does not eat
 * into the next one's window. Ahead of the first round each target gets a
 * longer, uncounted warm-up: a first window would otherwise pay for page
 * faults and for buffers and caches growing to size.
 */
static inline void bench_rotate(struct bench_opts *o, struct bench_gate *g,
				const struct bench_ops *ops, void *arg)
{
	double warm = bench_warmup(o);

	for (int i = 0; i < o->ntargets; i++) {
		if (o->t[i].na)
			continue;
		bench_gate_set(g, o->t[i].idx, 0);
		bench_sleep(3 * warm);
		bench_gate_set(g, -1, 0);
		bench_sleep(warm);
	}
	for (int r = 1; r <= o->runs; r++) {
		for (int k = 0; k < o->ntargets; k++) {
			int i = bench_order(o, r, k);
			struct bench_target *t = &o->t[i];
			unsigned long g0, o0, g1, o1;
			double t0, t1, c0, c1;
			int err;

			if (t->na)
				continue;
			err = atomic_load(&t->failed);
			if (err) {
				bench_result(o->workload, t, r, "failed=%s",
					     strerrorname_np(err) ?: "error");
				continue;
			}
			bench_gate_set(g, t->idx, 0);
			bench_sleep(warm);
			ops->sample(t, &g0, &o0, arg);
			c0 = bench_cpu_busy();
			t0 = bench_now();
			bench_sleep(o->secs);
			ops->sample(t, &g1, &o1, arg);
			c1 = bench_cpu_busy();
			t1 = bench_now();
			bench_gate_set(g, -1, 0);
			bench_sleep(warm);
			ops->report(o, t, r, t1 - t0, c1 - c0, g1 - g0, o1 - o0, arg);
		}
	}
	bench_gate_set(g, -1, 1);
}

/*
 * The start the rate generators share: options, the workload's name
 * ("<kind>-<size>-q<queues>"), the namespace, the devices, n/a rows for
 * drivers that refused, and the gate that takes the load between them.
 */
static inline void bench_setup(int argc, char **argv, struct bench_opts *o,
			       struct bench_gate *gate, const char *kind,
			       const char *what)
{
	bench_parse(argc, argv, o, what);
	snprintf(o->workload, sizeof(o->workload), "%s%s-%zu-q%d",
		 o->ring ? "ring-" : "", kind, o->size, o->queues);
	bench_netns();
	bench_open_all(o);
	bench_report_na(o);
	bench_gate_init(gate);
}

#endif

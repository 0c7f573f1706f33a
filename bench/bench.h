/* SPDX-License-Identifier: GPL-2.0 */
/* Copyright (C) 2026 The ktun authors. */
/*
 * Shared by the bench programs: options, clocks, a private network namespace
 * per run, and the "port": the application's end of the device under test,
 * through which a program reads and writes bare IP packets. A port is either
 * a TUN interface with one fd per queue (what we measure, on whichever driver
 * KTUN_DEV names) or a packet socket on one end of a veth pair (the ceiling
 * the TUN numbers are read against).
 *
 * Every program prints one line per run for bench/inside to collect:
 *	RESULT workload=<name> dev=<node|veth> <metric>=<value> ...
 * or, when the driver lacks what the workload needs, na=<reason> in place of
 * the metrics. Anything else on stdout or stderr is for humans.
 *
 * Addresses, seen from the kernel's stack:
 *
 *	stack (sockets)  10.77.0.1  --[ tun kbench0 | veth kbv1 <-> kbv0 ]--
 *	application (the port)  10.77.0.2
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
#include <linux/sockios.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>

#include "ktun.h"

#define BENCH_LOCAL	"10.77.0.1"
#define BENCH_PEER	"10.77.0.2"
#define BENCH_PORT	9000
#define BENCH_MAXQ	8
#define BENCH_MTU	1500
/* Large enough for any packet we build, and for a read that truncates none. */
#define BENCH_BUF	2048

struct bench_opts {
	double secs;		/* measured window, after the warm-up */
	size_t size;		/* whole IP packet, headers included */
	int queues;
	int veth;		/* the ceiling: veth + packet socket, not TUN */
};

struct bench_dev {
	int veth;
	int nfds;
	int fds[BENCH_MAXQ];	/* one per queue; a packet socket for veth */
	char name[IFNAMSIZ];
	struct sockaddr_ll to;	/* veth: where our writes go (kbv1's MAC) */
};

/* A counter per thread, each on its own cache line so they do not bounce. */
struct bench_count {
	_Atomic unsigned long n;
} __attribute__((aligned(64)));

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

static inline void bench_usage(const char *prog, const char *what)
{
	fprintf(stderr,
		"usage: %s [-t SECONDS] [-s SIZE] [-q QUEUES] [--veth]\n"
		"  %s\n"
		"  -t  measured seconds (default $KTUN_BENCH_SECONDS, else 2)\n"
		"  -s  IP packet size in bytes, headers included (default 64)\n"
		"  -q  queues, each with its own thread and flow (default 1)\n"
		"  --veth  measure a veth pair with a packet socket instead\n"
		"The device node is $KTUN_DEV (default /dev/net/ktun).\n",
		prog, what);
}

static inline void bench_parse(int argc, char **argv, struct bench_opts *o,
			       const char *what)
{
	static const struct option lopts[] = {
		{ "seconds", required_argument, NULL, 't' },
		{ "size", required_argument, NULL, 's' },
		{ "queues", required_argument, NULL, 'q' },
		{ "veth", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *env = getenv("KTUN_BENCH_SECONDS");
	int c;

	o->secs = env && *env ? atof(env) : 2.0;
	o->size = 64;
	o->queues = 1;
	o->veth = 0;
	while ((c = getopt_long(argc, argv, "t:s:q:h", lopts, NULL)) != -1) {
		switch (c) {
		case 't':
			o->secs = atof(optarg);
			break;
		case 's':
			o->size = strtoul(optarg, NULL, 0);
			break;
		case 'q':
			o->queues = atoi(optarg);
			break;
		case 'V':
			o->veth = 1;
			break;
		default:
			bench_usage(argv[0], what);
			exit(c == 'h' ? 0 : 2);
		}
	}
	if (o->secs <= 0)
		bench_die("seconds must be > 0");
	/* An IPv4 + UDP header with a sequence number must fit, and no more than one MTU. */
	if (o->size < 32 || o->size > BENCH_MTU)
		bench_die("size must be within 32..%d", BENCH_MTU);
	if (o->queues < 1 || o->queues > BENCH_MAXQ)
		bench_die("queues must be within 1..%d", BENCH_MAXQ);
	if (o->veth && o->queues > 1)
		bench_die("--veth has one queue");
}

/*
 * Pins the calling thread. Runs are short and the VM has two vCPUs, so
 * leaving placement to the scheduler adds more noise than the drivers differ
 * by; KTUN_BENCH_PIN=0 turns it off.
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

/* The warm-up ahead of each measured window: a tenth of it, 50 ms at least. */
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

static inline const char *bench_dev_label(const struct bench_dev *d)
{
	return d->veth ? "veth" : ktun_path();
}

/*
 * Gives @ifname the address @addr/@prefix (unless @addr is NULL) and brings
 * it up, as `ip addr add` and `ip link set up` would, but by ioctl: under TCG every process spawned
 * costs a good part of a second, more than a short run measures.
 */
static inline void bench_if_up4(const char *ifname, const char *addr, int prefix)
{
	struct sockaddr_in *sin;
	struct ifreq ifr;
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		bench_die("socket: %s", strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	if (addr) {
		inet_pton(AF_INET, addr, &sin->sin_addr);
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
 * exits, and under TCG that takes long enough to overlap, and slow down, the
 * next run's measurement.
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
static inline void bench_neigh(const char *ifname, const char *addr,
			       const unsigned char mac[6])
{
	struct arpreq req;
	int fd;

	memset(&req, 0, sizeof(req));
	req.arp_pa.sa_family = AF_INET;
	inet_pton(AF_INET, addr, &((struct sockaddr_in *)&req.arp_pa)->sin_addr);
	req.arp_ha.sa_family = ARPHRD_ETHER;
	memcpy(req.arp_ha.sa_data, mac, 6);
	req.arp_flags = ATF_PERM | ATF_COM;
	snprintf(req.arp_dev, sizeof(req.arp_dev), "%s", ifname);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || ioctl(fd, SIOCSARP, &req) < 0)
		bench_die("%s: SIOCSARP %s: %s", ifname, addr, strerror(errno));
	close(fd);
}

/*
 * Turns off transmit checksum offload on @ifname. A veth passes a packet's
 * checksum on unfinished (CHECKSUM_PARTIAL), while on TUN without a vnet
 * header the stack finishes it before the driver sees it; without this the
 * ceiling would skip work the TUN paths do, and an echoed packet would come
 * back with a bad checksum.
 */
static inline void bench_no_tx_csum(int fd, const char *ifname)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_STXCSUM, .data = 0 };
	struct ifreq ifr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr) < 0)
		bench_die("%s: turning tx checksum offload off: %s", ifname,
			  strerror(errno));
}

static inline void bench_veth_del(void)
{
	if (if_nametoindex("kbv0"))
		ktun_sh("ip link del kbv0");
}

static inline int bench_veth_open(struct bench_dev *d)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_IP),
	};
	static const unsigned char kbv1_mac[6] = { 2, 0, 0, 0, 0, 1 };
	static const unsigned char peer_mac[6] = { 2, 0, 0, 0, 0, 0x99 };
	int fd;

	/*
	 * kbv0 is the application's end, kbv1 the stack's. The stack's
	 * neighbour entry for the peer names a MAC that is not kbv0's, so
	 * kbv0's own IP layer drops what the stack sends as PACKET_OTHERHOST
	 * at once, while the packet socket still gets it, as a TUN reader
	 * would.
	 */
	/* Outside a namespace of our own, a crashed run may have left it. */
	if (if_nametoindex("kbv0"))
		ktun_sh("ip link del kbv0");
	atexit(bench_veth_del);
	if (ktun_sh("ip link add kbv0 address 02:00:00:00:00:02 type veth peer name kbv1 address 02:00:00:00:00:01"))
		bench_die("creating veth failed (is the veth module loaded?)");
	bench_if_up4("kbv0", NULL, 0);
	bench_if_up4("kbv1", BENCH_LOCAL, 24);
	bench_neigh("kbv1", BENCH_PEER, peer_mac);
	snprintf(d->name, sizeof(d->name), "kbv0");
	fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_IP));
	if (fd < 0)
		bench_die("packet socket: %s", strerror(errno));
	sll.sll_ifindex = if_nametoindex("kbv0");
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		bench_die("bind packet socket: %s", strerror(errno));
	bench_no_tx_csum(fd, "kbv1");
	d->to = sll;
	d->to.sll_halen = 6;
	memcpy(d->to.sll_addr, kbv1_mac, 6);
	d->fds[0] = fd;
	d->nfds = 1;
	return 0;
}

/*
 * Creates the device with @queues queues and gives the stack its address.
 * Returns 0, or -errno from the first TUNSETIFF (-EINVAL is how a driver
 * without IFF_MULTI_QUEUE says so); any other failure is fatal.
 */
static inline int bench_dev_open(struct bench_dev *d, const struct bench_opts *o)
{
	int flags = IFF_TUN | IFF_NO_PI;
	int fd;

	memset(d, 0, sizeof(*d));
	d->veth = o->veth;
	if (o->veth)
		return bench_veth_open(d);
	if (o->queues > 1)
		flags |= IFF_MULTI_QUEUE;
	for (int q = 0; q < o->queues; q++) {
		fd = ktun_open(q ? d->name : "kbench0", flags, d->name);
		if (fd < 0 && q == 0)
			return fd;
		if (fd < 0)
			bench_die("%s: attaching queue %d to %s: %s", ktun_path(),
				  q, d->name, strerror(-fd));
		d->fds[d->nfds++] = fd;
	}
	bench_if_up4(d->name, BENCH_LOCAL, 24);
	return 0;
}

static inline ssize_t bench_dev_read(struct bench_dev *d, int q, void *buf,
				     size_t len)
{
	if (d->veth)
		return recv(d->fds[q], buf, len, 0);
	return read(d->fds[q], buf, len);
}

static inline ssize_t bench_dev_write(struct bench_dev *d, int q,
				      const void *buf, size_t len)
{
	if (d->veth)
		return sendto(d->fds[q], buf, len, 0,
			      (struct sockaddr *)&d->to, sizeof(d->to));
	return write(d->fds[q], buf, len);
}

/*
 * A UDP socket of the stack's, bound to BENCH_LOCAL:@port, connected to
 * BENCH_PEER:@dport when @dport is not 0. The receive buffer is made large so
 * that a reader's scheduling hiccup costs fewer drops.
 */
static inline int bench_udp(uint16_t port, uint16_t dport)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd, buf = 4 << 20;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		bench_die("socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	inet_pton(AF_INET, BENCH_LOCAL, &sin.sin_addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		bench_die("bind %s:%u: %s", BENCH_LOCAL, port, strerror(errno));
	if (dport) {
		sin.sin_port = htons(dport);
		inet_pton(AF_INET, BENCH_PEER, &sin.sin_addr);
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			bench_die("connect: %s", strerror(errno));
	}
	return fd;
}

/* Builds a UDP packet of @size bytes in all, from the peer to the stack. */
static inline size_t bench_packet(void *buf, size_t size, uint16_t sport,
				  uint16_t dport)
{
	struct in_addr src, dst;
	char payload[BENCH_BUF];
	size_t plen = size - sizeof(struct iphdr) - sizeof(struct udphdr);

	memset(payload, 'k', plen);
	inet_pton(AF_INET, BENCH_PEER, &src);
	inet_pton(AF_INET, BENCH_LOCAL, &dst);
	return ktun_udp4(buf, src, dst, sport, dport, payload, plen);
}

static inline void __attribute__((format(printf, 3, 4)))
bench_result(const char *workload, const struct bench_dev *d,
	     const char *fmt, ...)
{
	va_list ap;

	printf("RESULT workload=%s dev=%s ", workload, bench_dev_label(d));
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

#endif

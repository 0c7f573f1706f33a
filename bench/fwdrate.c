// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The packet rate through ktun-fwd tunnels, for bench/fwd, which sets them
 * up: per target T (one tunnel per driver node), a sender in netns A floods
 * S-byte UDP packets (sendmmsg) at 10.76.T.2 through T's tunnel, and a
 * receiver in netns B counts what comes out of it (recvmmsg). The figure is
 * packets per second received; the load moves between the tunnels window
 * by window (bench_rotate() in bench.h).
 *
 *   netns A: sender 10.76.T.1 -> kbfT -> ktun-fwd ==UDP 10.78.0.0/24==>
 *   netns B: ktun-fwd -> kbfT -> receiver 10.76.T.2:9000
 *
 * What a packet costs the tunnel: with KTUN_FWD_<LABEL>_PIDS="pid,pid" (the
 * target's two ktun-fwd processes), the CPU time they spent per packet
 * received: cpu_ns= from the scheduler's runtime of all their threads
 * (/proc/PID/task/TID/schedstat, exact), split into user (app_ns=) and
 * system (kern_ns=) time by /proc/PID/stat, which samples that split by
 * the tick and so is coarse over a short window. That is the kernel's
 * accounting, not cycles: under QEMU/TCG there is no PMU, and
 * `perf stat -e cycles` reports "not supported".
 *
 * Environment: KTUN_FWD_NETNS="A B" (default "kb-fwd-a kb-fwd-b"),
 * KTUN_FWD_<LABEL>_IO (ring or rw, copied into the RESULT line).
 */
#include <dirent.h>
#include <sched.h>
#include <sys/socket.h>

#include "bench.h"

#define BATCH		64
#define FWD_MAXPIDS	4

struct sender {
	struct bench_target *t;
	struct bench_gate *gate;
	int sock;
	size_t len;
	struct bench_count sent;
};

struct receiver {
	int sock;
	struct bench_count received;
};

struct cost {
	int npids;
	int pids[FWD_MAXPIDS];
	const char *io;
	/* utime, stime in clock ticks, runtime in ns: at the window's start and end */
	unsigned long long u0, s0, u1, s1, r0, r1;
};

struct state {
	struct sender s[BENCH_MAXT];
	struct receiver r[BENCH_MAXT];
	struct cost c[BENCH_MAXT];
};

static void *sender_run(void *arg)
{
	struct sender *s = arg;
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	char payload[BENCH_BUF];

	memset(payload, 'k', s->len);
	iov.iov_base = payload;
	iov.iov_len = s->len;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	bench_pin(0);
	while (bench_gate_wait(s->gate, s->t->idx)) {
		int n = sendmmsg(s->sock, msgs, BATCH, 0);

		if (n > 0)
			bench_count_add(&s->sent, n);
		/* A full device queue or the peer's ICMP: the flood goes on. */
		else if (n < 0 && errno != ENOBUFS && errno != ECONNREFUSED &&
			 errno != EINTR && errno != EAGAIN) {
			atomic_store(&s->t->failed, errno);
			fprintf(stderr, "%s: sendmmsg: %s\n", s->t->label, strerror(errno));
			break;
		}
	}
	return NULL;
}

/* Runs until cancelled: recvmmsg() is a cancellation point. */
static void *receiver_run(void *arg)
{
	struct receiver *r = arg;
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	unsigned char (*bufs)[BENCH_BUF] = malloc(BATCH * BENCH_BUF);

	if (!bufs)
		bench_die("out of memory");
	bench_pin(1);
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = bufs[i];
		iov[i].iov_len = sizeof(bufs[i]);
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	pthread_cleanup_push(free, bufs);
	for (;;) {
		int n = recvmmsg(r->sock, msgs, BATCH, MSG_WAITFORONE, NULL);

		if (n > 0)
			bench_count_add(&r->received, n);
		else if (n < 0 && errno != EINTR && errno != EAGAIN)
			bench_die("recvmmsg: %s", strerror(errno));
	}
	pthread_cleanup_pop(1);
	return NULL;
}

/* Into the named network namespace (this thread only), or die. */
static void enter_netns(const char *name)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
		bench_die("netns %s: %s (does bench/fwd run?)", name, strerror(errno));
	close(fd);
}

/* A UDP socket bound to 10.76.@idx.@host:@port, connected to @dport on the other host. */
static int tunnel_udp(int idx, int host, uint16_t port, uint16_t dport)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(10u << 24 | 76u << 16 | idx << 8 | host),
	};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), buf = 4 << 20;

	if (fd < 0)
		bench_die("socket: %s", strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		bench_die("bind 10.76.%d.%d:%u: %s", idx, host, port, strerror(errno));
	if (dport) {
		sin.sin_port = htons(dport);
		sin.sin_addr.s_addr = htonl(10u << 24 | 76u << 16 | idx << 8 | (3 - host));
		if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0)
			bench_die("connect: %s", strerror(errno));
	}
	return fd;
}

static void cost_init(struct cost *c, const char *label)
{
	char name[64];
	const char *v;
	char *end;

	snprintf(name, sizeof(name), "KTUN_FWD_%s_IO", label);
	c->io = getenv(name);
	snprintf(name, sizeof(name), "KTUN_FWD_%s_PIDS", label);
	for (v = getenv(name); v && *v && c->npids < FWD_MAXPIDS; v = end) {
		c->pids[c->npids++] = strtol(v, &end, 10);
		if (end == v)
			break;
		end += strspn(end, ", ");
	}
}

/*
 * The time the processes' threads have run so far, in ns: precise (the
 * scheduler's own sum), where the user/system split below is sampled by
 * the tick.
 */
static unsigned long long cost_runtime(const struct cost *c)
{
	unsigned long long total = 0, ns;

	for (int i = 0; i < c->npids; i++) {
		char path[64];
		struct dirent *e;
		DIR *d;

		snprintf(path, sizeof(path), "/proc/%d/task", c->pids[i]);
		d = opendir(path);
		if (!d)
			continue;
		while ((e = readdir(d))) {
			char sp[384];
			FILE *f;

			if (e->d_name[0] == '.')
				continue;
			snprintf(sp, sizeof(sp), "%s/%s/schedstat", path, e->d_name);
			f = fopen(sp, "re");
			if (!f)
				continue;
			if (fscanf(f, "%llu", &ns) == 1)
				total += ns;
			fclose(f);
		}
		closedir(d);
	}
	return total;
}

/* The processes' user and system time so far, in clock ticks. */
static void cost_read(const struct cost *c, unsigned long long *u,
		      unsigned long long *s)
{
	*u = *s = 0;
	for (int i = 0; i < c->npids; i++) {
		char path[64], line[1024], *p;
		unsigned long long ut, st;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/stat", c->pids[i]);
		f = fopen(path, "re");
		if (!f)
			continue;
		p = fgets(line, sizeof(line), f) ? strrchr(line, ')') : NULL;
		fclose(f);
		/* After "(comm)": state and 10 more fields, then utime stime. */
		if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
				&ut, &st) == 2) {
			*u += ut;
			*s += st;
		}
	}
}

/* Called at the start and at the end of each window, in that order. */
static void sample(struct bench_target *t, unsigned long *got,
		   unsigned long *offered, void *arg)
{
	struct state *s = arg;
	struct cost *c = &s->c[t->idx];

	*got = bench_count_get(&s->r[t->idx].received);
	*offered = bench_count_get(&s->s[t->idx].sent);
	c->u0 = c->u1;
	c->s0 = c->s1;
	c->r0 = c->r1;
	cost_read(c, &c->u1, &c->s1);
	c->r1 = cost_runtime(c);
}

static void report(const struct bench_opts *o, struct bench_target *t,
		   int run, double secs, double cpu, unsigned long got,
		   unsigned long offered, void *arg)
{
	struct state *s = arg;
	struct cost *c = &s->c[t->idx];
	double tick_ns = 1e9 / sysconf(_SC_CLK_TCK);
	char costs[128] = "";

	if (c->npids && got)
		snprintf(costs, sizeof(costs), " cpu_ns=%.0f app_ns=%.0f kern_ns=%.0f",
			 (double)(c->r1 - c->r0) / got,
			 (c->u1 - c->u0) * tick_ns / got, (c->s1 - c->s0) * tick_ns / got);
	bench_result(o->workload, t, run, "pps=%.0f ppc=%.0f wpps=%.0f loss=%.1f%% secs=%.2f cpu=%.2f%s io=%s",
		     got / secs, cpu > 0 ? got / cpu : 0.0, offered / secs,
		     offered > got ? 100.0 * (offered - got) / offered : 0.0,
		     secs, cpu, costs, c->io ? c->io : "?");
}

int main(int argc, char **argv)
{
	static const struct bench_ops ops = { sample, report };
	pthread_t st[BENCH_MAXT], rt[BENCH_MAXT];
	const char *env = getenv("KTUN_FWD_NETNS");
	char ns_a[64] = "kb-fwd-a", ns_b[64] = "kb-fwd-b";
	static struct state s;
	struct bench_gate gate;
	struct bench_opts o;
	int i, home;

	bench_parse(argc, argv, &o, "packets/s through ktun-fwd tunnels (bench/fwd sets them up)");
	snprintf(o.workload, sizeof(o.workload), "fwd-udp%zu", o.size);
	if (env && sscanf(env, "%63s %63s", ns_a, ns_b) != 2)
		bench_die("KTUN_FWD_NETNS wants two names");
	bench_gate_init(&gate);

	/* Sockets keep the namespace they were made in. */
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		bench_die("/proc/self/ns/net: %s", strerror(errno));
	for (i = 0; i < o.ntargets; i++) {
		if (!o.t[i].node)
			bench_die("fwdrate has no veth ceiling");
		cost_init(&s.c[i], o.t[i].label);
		enter_netns(ns_b);
		s.r[i].sock = tunnel_udp(i, 2, BENCH_PORT, 0);
		enter_netns(ns_a);
		s.s[i].sock = tunnel_udp(i, 1, 40000, BENCH_PORT);
		s.s[i].t = &o.t[i];
		s.s[i].gate = &gate;
		s.s[i].len = o.size - sizeof(struct iphdr) - sizeof(struct udphdr);
		if (pthread_create(&rt[i], NULL, receiver_run, &s.r[i]) ||
		    pthread_create(&st[i], NULL, sender_run, &s.s[i]))
			bench_die("pthread_create failed");
	}
	if (setns(home, CLONE_NEWNET) < 0)
		bench_die("setns back: %s", strerror(errno));

	bench_rotate(&o, &gate, &ops, &s);

	for (i = 0; i < o.ntargets; i++) {
		pthread_join(st[i], NULL);
		pthread_cancel(rt[i]);
		pthread_join(rt[i], NULL);
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Round-trip latency through the device: a UDP client in the stack sends one
 * datagram at a time to the peer; a responder thread reads it from the device,
 * swaps addresses and ports, and writes it back; the client waits for it
 * before sending the next. Prints the median and 99th percentile in µs.
 *
 *	client (UDP 10.77.T.1:30000) --> [kbenchT] --read()--> responder T
 *	client <-- stack <-- [kbenchT] <--write()-- (10.77.T.2:7 -> 10.77.T.1:30000)
 *
 * Swapping the two addresses and the two ports leaves both checksums valid,
 * so the responder does as little as an application could.
 *
 * The client (the main thread) and the responders share one CPU. On two,
 * every round trip wakes a halted vCPU, and under TCG that costs from tens of
 * µs to a few ms depending on what the host is doing: it would drown what the
 * drivers differ by. On one, the CPU never idles and a round trip is two
 * context switches plus the driver's and the stack's own work, which is what
 * this row compares. Targets take turns as in bench_rotate(): the client
 * simply talks to one target per window.
 */
#include "bench.h"

#define ECHO_PORT	7

struct responder {
	struct bench_target *t;
};

static void *responder_run(void *arg)
{
	struct responder *r = arg;
	unsigned char buf[BENCH_BUF];

	bench_pin(0);
	for (;;) {
		struct iphdr *ip = (struct iphdr *)buf;
		struct udphdr *uh;
		uint32_t a;
		uint16_t p;
		ssize_t n;

		n = bench_dev_read(r->t, 0, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			atomic_store(&r->t->failed, errno);
			return NULL;
		}
		if (n < (ssize_t)(sizeof(*ip) + sizeof(*uh)) || ip->version != 4 ||
		    ip->protocol != IPPROTO_UDP)
			continue;
		uh = (struct udphdr *)(buf + ip->ihl * 4);
		a = ip->saddr;
		ip->saddr = ip->daddr;
		ip->daddr = a;
		p = uh->source;
		uh->source = uh->dest;
		uh->dest = p;
		if (bench_dev_write(r->t, 0, buf, n) != n) {
			atomic_store(&r->t->failed, n < 0 ? errno : EIO);
			return NULL;
		}
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct samples {
	double *v;
	size_t n, cap;
};

static void add_sample(struct samples *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1 << 14;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v)
			bench_die("out of memory");
	}
	s->v[s->n++] = v;
}

/* One window of round trips on @sock; fills @s with those after the warm-up. */
static unsigned long window(int sock, size_t plen, double warm, double secs,
			    struct samples *s)
{
	static uint64_t seq;
	char out[BENCH_BUF], in[BENCH_BUF];
	double start = bench_now(), t0, t1;
	unsigned long lost = 0;

	memset(out, 'k', plen);
	s->n = 0;
	while ((t0 = bench_now()) < start + warm + secs) {
		ssize_t got;

		seq++;
		memcpy(out, &seq, sizeof(seq));
		if (send(sock, out, plen, 0) != (ssize_t)plen)
			bench_die("send: %s", strerror(errno));
		/* A late echo of an earlier datagram is skipped, not timed. */
		do {
			got = recv(sock, in, sizeof(in), 0);
		} while (got == (ssize_t)plen && memcmp(in, &seq, sizeof(seq)));
		t1 = bench_now();
		if (got != (ssize_t)plen)
			lost++;
		else if (t0 >= start + warm)
			add_sample(s, (t1 - t0) * 1e6);
	}
	return lost;
}

int main(int argc, char **argv)
{
	struct timeval tmo = { .tv_usec = 200000 };
	struct responder resp[BENCH_MAXT];
	pthread_t rt[BENCH_MAXT];
	int sock[BENCH_MAXT];
	struct samples smp = { 0 };
	struct bench_opts o;
	size_t plen;
	int i, r;

	bench_parse(argc, argv, &o, "round trip: a UDP client in the stack and an echo responder on the device");
	if (o.queues != 1)
		bench_die("echo has one queue");
	snprintf(o.workload, sizeof(o.workload), "echo");
	bench_netns();
	bench_open_all(&o);
	plen = o.size - sizeof(struct iphdr) - sizeof(struct udphdr);
	bench_pin(0);

	for (i = 0; i < o.ntargets; i++) {
		sock[i] = bench_udp(&o.t[i], 30000, ECHO_PORT);
		/* A datagram lost either way must not stall the run. */
		setsockopt(sock[i], SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
		resp[i].t = &o.t[i];
		if (pthread_create(&rt[i], NULL, responder_run, &resp[i]))
			bench_die("pthread_create failed");
	}

	/* The same warm-up and order as bench_rotate(). */
	for (i = 0; i < o.ntargets; i++)
		window(sock[i], plen, 3 * bench_warmup(&o), 0, &smp);
	for (r = 1; r <= o.runs; r++) {
		for (int k = 0; k < o.ntargets; k++) {
			struct bench_target *t;
			unsigned long lost;
			int err;

			i = bench_order(&o, r, k);
			t = &o.t[i];
			err = atomic_load(&t->failed);
			if (err) {
				bench_result(o.workload, t, r, "failed=%s",
					     strerrorname_np(err) ?: "error");
				continue;
			}
			lost = window(sock[i], plen, bench_warmup(&o), o.secs, &smp);
			if (!smp.n) {
				bench_result(o.workload, t, r, "failed=no-round-trip lost=%lu", lost);
				continue;
			}
			qsort(smp.v, smp.n, sizeof(*smp.v), cmp_double);
			bench_result(o.workload, t, r, "p50_us=%.1f p99_us=%.1f n=%zu lost=%lu",
				     smp.v[smp.n / 2], smp.v[(size_t)(smp.n * 0.99)],
				     smp.n, lost);
		}
	}
	for (i = 0; i < o.ntargets; i++) {
		pthread_cancel(rt[i]);
		pthread_join(rt[i], NULL);
	}
	free(smp.v);
	return 0;
}

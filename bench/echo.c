// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * Round-trip latency through the device: a UDP client in the stack sends one
 * datagram at a time to the peer; a responder thread reads it from the device,
 * swaps addresses and ports, and writes it back; the client waits for it
 * before sending the next. Prints the median and 99th percentile in µs.
 *
 *	client (UDP 10.77.0.1:30000) --> [kbench0] --read()--> responder
 *	client <-- stack <-- [kbench0] <--write()-- (swapped: 10.77.0.2:7 -> 10.77.0.1:30000)
 *
 * Swapping the two addresses and the two ports leaves both checksums valid,
 * so the responder does as little as an application could.
 *
 * Both threads share one CPU. On two, every round trip wakes a halted vCPU,
 * and under TCG that costs from tens of µs to a few ms depending on what the
 * host is doing: it would drown what the drivers differ by. On one, the CPU
 * never idles and a round trip is two context switches plus the driver's
 * and the stack's own work, which is what this row compares.
 */
#include "bench.h"

#define ECHO_PORT	7

struct responder {
	struct bench_dev *dev;
	struct bench_count echoed;
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

		n = bench_dev_read(r->dev, 0, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			bench_die("responder read: %s", strerror(errno));
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
		if (bench_dev_write(r->dev, 0, buf, n) == n)
			bench_count_add(&r->echoed, 1);
	}
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct timeval tmo = { .tv_usec = 200000 };
	struct responder resp = { 0 };
	size_t n = 0, cap = 1 << 16, plen;
	unsigned long lost = 0;
	double *rtt, start, t0, t1, end;
	char out[BENCH_BUF], in[BENCH_BUF];
	struct bench_opts o;
	struct bench_dev d;
	uint64_t seq = 0;
	pthread_t rt;
	int sock, ret;

	bench_parse(argc, argv, &o, "round trip: a UDP client in the stack and an echo responder on the device");
	if (o.queues != 1)
		bench_die("echo has one queue");
	bench_netns();
	ret = bench_dev_open(&d, &o);
	if (ret < 0)
		bench_die("%s: TUNSETIFF: %s", ktun_path(), strerror(-ret));
	sock = bench_udp(30000, ECHO_PORT);
	/* A datagram lost either way must not stall the run. */
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo));
	plen = o.size - sizeof(struct iphdr) - sizeof(struct udphdr);
	memset(out, 'k', plen);
	rtt = malloc(cap * sizeof(*rtt));
	if (!rtt)
		bench_die("out of memory");

	resp.dev = &d;
	if (pthread_create(&rt, NULL, responder_run, &resp))
		bench_die("pthread_create failed");
	bench_pin(0);

	start = bench_now();
	end = start + bench_warmup(&o) + o.secs;
	while ((t0 = bench_now()) < end) {
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
		if (got != (ssize_t)plen) {
			lost++;
			continue;
		}
		if (t0 < start + bench_warmup(&o))
			continue;
		if (n == cap) {
			cap *= 2;
			rtt = realloc(rtt, cap * sizeof(*rtt));
			if (!rtt)
				bench_die("out of memory");
		}
		rtt[n++] = (t1 - t0) * 1e6;
	}
	pthread_cancel(rt);
	pthread_join(rt, NULL);
	if (!n)
		bench_die("echo: no round trip completed (%lu lost)", lost);
	qsort(rtt, n, sizeof(*rtt), cmp_double);
	bench_result("echo", &d, "p50_us=%.1f p99_us=%.1f n=%zu lost=%lu",
		     rtt[n / 2], rtt[(size_t)(n * 0.99)], n, lost);
	free(rtt);
	return 0;
}

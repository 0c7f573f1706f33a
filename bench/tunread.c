// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The read path, stack -> application: per target, one UDP sender thread per
 * flow pushes datagrams with sendmmsg to an address routed through the
 * device, and one reader thread per queue drains its fd. The figure is
 * packets per second the readers got, of the expected size: what the stack
 * sent and the device dropped does not count.
 *
 *	sender f (UDP 10.77.T.1:port f) --stack--> [kbenchT queue q] --read()--> reader q
 *	                                   to 10.77.T.2:9000
 *
 * With --ring, a driver with rings (ktun) hands the packets over through
 * its rx ring in batches instead of one read() each.
 *
 * With several queues the driver picks the queue per flow. Rather than guess
 * its hash, the senders' ports are chosen by probing: one datagram per
 * candidate port, and the first port seen on each queue becomes that queue's
 * flow. A driver that steers every flow to one queue shows it in q<N>=.
 */
#include <poll.h>

#include "bench.h"

#define BATCH		64
#define PROBE_PORTS	64

struct sender {
	struct bench_target *t;
	struct bench_gate *gate;
	int sock;
	int cpu;
	size_t plen;
	struct bench_count sent;
};

struct reader {
	struct bench_target *t;
	int q;
	size_t size;
	struct bench_count got;
	struct bench_count other;	/* reads of another size: not ours */
};

struct state {
	int queues;
	int flows[BENCH_MAXT];
	struct sender s[BENCH_MAXT][BENCH_MAXQ];
	struct reader r[BENCH_MAXT][BENCH_MAXQ];
	unsigned long perq[BENCH_MAXT][BENCH_MAXQ];	/* at the window's start */
};

static void *sender_run(void *arg)
{
	struct sender *s = arg;
	struct mmsghdr msgs[BATCH];
	struct iovec iov;
	char payload[BENCH_BUF];

	bench_pin(s->cpu);
	memset(payload, 'k', s->plen);
	iov.iov_base = payload;
	iov.iov_len = s->plen;
	memset(msgs, 0, sizeof(msgs));
	for (int i = 0; i < BATCH; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (bench_gate_wait(s->gate, s->t->idx)) {
		int n = sendmmsg(s->sock, msgs, BATCH, 0);

		if (n > 0) {
			bench_count_add(&s->sent, n);
		} else if (n < 0 && errno != EINTR && errno != EAGAIN &&
			   errno != ENOBUFS) {
			atomic_store(&s->t->failed, errno);
			fprintf(stderr, "%s: sendmmsg: %s\n", s->t->label,
				strerror(errno));
			break;
		}
	}
	return NULL;
}

/* --ring: batches off the rx ring; poll() (a cancellation point) when empty. */
static void reader_ring(struct reader *r, struct ktun_ring *ring)
{
	struct ktun_ring_pkt p[BATCH];

	for (;;) {
		unsigned int n = ktun_ring_rx_peek(ring, p, BATCH), i, mine = 0;
		int ret;

		if (!n) {
			pthread_testcancel();
			ret = ktun_ring_wait(ring, KTUN_RING_WAIT_RX, 100);
			if (ret >= 0)
				continue;
			atomic_store(&r->t->failed, -ret);
			fprintf(stderr, "%s: rx ring queue %d: %s\n", r->t->label,
				r->q, strerror(-ret));
			return;
		}
		for (i = 0; i < n; i++)
			mine += p[i].len == r->size;
		ktun_ring_rx_release(ring, n);
		bench_count_add(&r->got, mine);
		bench_count_add(&r->other, n - mine);
	}
}

/* Runs until cancelled: read() is a cancellation point. */
static void *reader_run(void *arg)
{
	struct reader *r = arg;
	unsigned char buf[BENCH_BUF];

	bench_pin(r->q + 1);
	if (r->t->dev.rings[r->q]) {
		reader_ring(r, r->t->dev.rings[r->q]);
		return NULL;
	}
	for (;;) {
		ssize_t n = bench_dev_read(r->t, r->q, buf, sizeof(buf));

		if (n == (ssize_t)r->size) {
			bench_count_add(&r->got, 1);
		} else if (n >= 0) {
			bench_count_add(&r->other, 1);
		} else if (errno != EINTR && errno != EAGAIN) {
			atomic_store(&r->t->failed, errno);
			fprintf(stderr, "%s: read queue %d: %s\n", r->t->label,
				r->q, strerror(errno));
			return NULL;
		}
	}
	return NULL;
}

/* Which queue a datagram from @sock lands on; -1 if none within a second. */
static int probe(struct bench_target *t, int sock, uint16_t port)
{
	struct pollfd pfd[BENCH_MAXQ];
	unsigned char buf[BENCH_BUF];
	double end = bench_now() + 1;

	if (send(sock, "probe", 5, 0) != 5)
		bench_die("probe send: %s", strerror(errno));
	for (int q = 0; q < t->dev.nfds; q++)
		pfd[q] = (struct pollfd){ .fd = t->dev.fds[q], .events = POLLIN };
	while (bench_now() < end) {
		if (poll(pfd, t->dev.nfds, 100) <= 0)
			continue;
		for (int q = 0; q < t->dev.nfds; q++) {
			struct iphdr *ip = (struct iphdr *)buf;
			struct udphdr *uh;
			ssize_t n;

			if (!(pfd[q].revents & POLLIN))
				continue;
			n = bench_dev_read(t, q, buf, sizeof(buf));
			if (n < (ssize_t)(sizeof(*ip) + sizeof(*uh)) ||
			    ip->version != 4 || ip->protocol != IPPROTO_UDP)
				continue;
			uh = (struct udphdr *)(buf + ip->ihl * 4);
			if (ntohs(uh->source) == port)
				return q;
		}
	}
	return -1;
}

/*
 * Picks one sender socket per queue of @t. Returns how many queues got a
 * flow of their own; the rest share whatever ports are left.
 */
static int pick_flows(struct bench_target *t, struct sender *s, int queues)
{
	int socks[PROBE_PORTS];
	int found = 0, next = 0, i, q;

	for (q = 0; q < queues; q++)
		s[q].sock = -1;
	for (i = 0; i < PROBE_PORTS && found < queues; i++) {
		socks[i] = bench_udp(t, 20000 + i, BENCH_PORT);
		if (queues == 1) {
			q = 0;
		} else {
			q = probe(t, socks[i], 20000 + i);
			if (q < 0)
				bench_die("%s: probe from port %d never reached a queue",
					  t->label, 20000 + i);
		}
		if (s[q].sock < 0) {
			s[q].sock = socks[i];
			socks[i] = -1;
			found++;
		}
	}
	for (q = 0; q < queues; q++) {
		while (s[q].sock < 0 && next < i) {
			s[q].sock = socks[next];
			socks[next++] = -1;
		}
	}
	while (i-- > 0)
		if (socks[i] >= 0)
			close(socks[i]);
	return found;
}

static void sample(struct bench_target *t, unsigned long *got,
		   unsigned long *offered, void *arg)
{
	struct state *s = arg;

	*got = *offered = 0;
	for (int q = 0; q < s->queues; q++) {
		unsigned long n = bench_count_get(&s->r[t->idx][q].got);

		/* Kept at the start of the window, turned into its share at the end. */
		s->perq[t->idx][q] = n - s->perq[t->idx][q];
		*got += n;
		*offered += bench_count_get(&s->s[t->idx][q].sent);
	}
}

static void report(const struct bench_opts *o, struct bench_target *t,
		   int run, double secs, double cpu, unsigned long got,
		   unsigned long offered, void *arg)
{
	struct state *s = arg;
	char qs[128] = "";

	for (int q = 0; q < s->queues && s->queues > 1; q++)
		snprintf(qs + strlen(qs), sizeof(qs) - strlen(qs), " q%d=%.0f",
			 q, s->perq[t->idx][q] / secs);
	for (int q = 0; q < s->queues; q++)
		s->perq[t->idx][q] = 0;
	bench_result(o->workload, t, run, "pps=%.0f ppc=%.0f spps=%.0f loss=%.1f%% flows=%d%s secs=%.2f cpu=%.2f",
		     got / secs, cpu > 0 ? got / cpu : 0.0, offered / secs,
		     offered > got ? 100.0 * (offered - got) / offered : 0.0,
		     s->flows[t->idx], qs, secs, cpu);
}

int main(int argc, char **argv)
{
	static const struct bench_ops ops = { sample, report };
	pthread_t st[BENCH_MAXT][BENCH_MAXQ], rt[BENCH_MAXT][BENCH_MAXQ];
	static struct state s;
	struct bench_gate gate;
	struct bench_opts o;
	int i, q;

	bench_setup(argc, argv, &o, &gate, "read",
		    "read path: packets/s readers get from the device, sent by UDP sockets");
	s.queues = o.queues;

	for (i = 0; i < o.ntargets; i++) {
		struct bench_target *t = &o.t[i];

		if (t->na)
			continue;
		s.flows[i] = pick_flows(t, s.s[i], o.queues);
		/* After the probes, which read() the fds. */
		bench_ring_setup(&o, t, 1, 0);
		for (q = 0; q < o.queues; q++) {
			struct sender *snd = &s.s[i][q];
			struct reader *r = &s.r[i][q];

			snd->t = t;
			snd->gate = &gate;
			snd->cpu = q;
			snd->plen = o.size - sizeof(struct iphdr) - sizeof(struct udphdr);
			r->t = t;
			r->q = q;
			r->size = o.size;
			if (pthread_create(&rt[i][q], NULL, reader_run, r) ||
			    pthread_create(&st[i][q], NULL, sender_run, snd))
				bench_die("pthread_create failed");
		}
	}

	bench_rotate(&o, &gate, &ops, &s);

	for (i = 0; i < o.ntargets; i++) {
		if (o.t[i].na)
			continue;
		for (q = 0; q < o.queues; q++) {
			pthread_join(st[i][q], NULL);
			pthread_cancel(rt[i][q]);
			pthread_join(rt[i][q], NULL);
		}
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The write path, application -> stack: per target and queue, a writer
 * thread writes pre-built UDP packets into the device as fast as it can and a
 * UDP socket in the stack drains them with recvmmsg. The figure is packets
 * per second the sockets received, not how many were written: a driver that
 * accepts writes and then drops them must not look fast.
 *
 *	writer q --write()--> [kbenchT queue q] --stack--> UDP 10.77.T.1:9000+q
 *	(10.77.T.2:40000+q)                                 receiver q (recvmmsg)
 *
 * With --ring, a driver with rings (ktun) gets the packets through its tx
 * ring in batches instead of one write() each.
 *
 * Writer q runs on CPU q, receiver q on the next one: with one queue the
 * writer (which also runs the stack's receive path, in its own softirq) and
 * the socket's reader each have a vCPU.
 */
#include "bench.h"

#define BATCH	64

struct writer {
	struct bench_target *t;
	struct bench_gate *gate;
	int q;
	size_t len;
	unsigned char pkt[BENCH_BUF];
	struct bench_count written;
};

struct receiver {
	int sock;
	int q;
	struct bench_count received;
};

struct state {
	int queues;
	struct writer w[BENCH_MAXT][BENCH_MAXQ];
	struct receiver r[BENCH_MAXT][BENCH_MAXQ];
};

/* --ring: batches of BATCH packets into the tx ring, no call per packet. */
static void writer_ring(struct writer *w, struct ktun_ring *r)
{
	struct ktun_ring_pkt p[BATCH];

	while (bench_gate_wait(w->gate, w->t->idx)) {
		unsigned int n = ktun_ring_tx_reserve(r, p, BATCH), i;
		int ret;

		if (!n) {
			ret = ktun_ring_wait(r, KTUN_RING_WAIT_TX, 100);
			if (ret >= 0)
				continue;
		} else {
			for (i = 0; i < n; i++) {
				memcpy(p[i].data, w->pkt, w->len);
				p[i].len = w->len;
			}
			ret = ktun_ring_tx_submit(r, p, n);
			if (!ret) {
				bench_count_add(&w->written, n);
				continue;
			}
		}
		atomic_store(&w->t->failed, -ret);
		fprintf(stderr, "%s: tx ring queue %d: %s\n", w->t->label,
			w->q, strerror(-ret));
		break;
	}
}

static void *writer_run(void *arg)
{
	struct writer *w = arg;

	bench_pin(w->q);
	if (w->t->dev.rings[w->q]) {
		writer_ring(w, w->t->dev.rings[w->q]);
		return NULL;
	}
	while (bench_gate_wait(w->gate, w->t->idx)) {
		ssize_t n = bench_dev_write(w->t, w->q, w->pkt, w->len);

		if (n == (ssize_t)w->len) {
			bench_count_add(&w->written, 1);
			continue;
		}
		/* Not a drop (those are silent) but a broken device. */
		atomic_store(&w->t->failed, n < 0 ? errno : EMSGSIZE);
		fprintf(stderr, "%s: write queue %d: %s\n", w->t->label, w->q,
			n < 0 ? strerror(errno) : "short write");
		break;
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
	bench_pin(r->q + 1);
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

static void sample(struct bench_target *t, unsigned long *got,
		   unsigned long *offered, void *arg)
{
	struct state *s = arg;

	*got = *offered = 0;
	for (int q = 0; q < s->queues; q++) {
		*got += bench_count_get(&s->r[t->idx][q].received);
		*offered += bench_count_get(&s->w[t->idx][q].written);
	}
}

static void report(const struct bench_opts *o, struct bench_target *t,
		   int run, double secs, double cpu, unsigned long got,
		   unsigned long offered, void *arg)
{
	(void)arg;
	bench_result(o->workload, t, run, "pps=%.0f ppc=%.0f wpps=%.0f loss=%.1f%% secs=%.2f cpu=%.2f",
		     got / secs, cpu > 0 ? got / cpu : 0.0, offered / secs,
		     offered > got ? 100.0 * (offered - got) / offered : 0.0,
		     secs, cpu);
}

int main(int argc, char **argv)
{
	static const struct bench_ops ops = { sample, report };
	pthread_t wt[BENCH_MAXT][BENCH_MAXQ], rt[BENCH_MAXT][BENCH_MAXQ];
	static struct state s;
	struct bench_gate gate;
	struct bench_opts o;
	int i, q;

	bench_setup(argc, argv, &o, &gate, "write",
		    "write path: packets/s UDP sockets receive from writers on the device");
	s.queues = o.queues;

	for (i = 0; i < o.ntargets; i++) {
		struct bench_target *t = &o.t[i];

		if (t->na)
			continue;
		bench_ring_setup(&o, t, 0, 1);
		for (q = 0; q < o.queues; q++) {
			struct writer *w = &s.w[i][q];
			struct receiver *r = &s.r[i][q];

			r->q = q;
			r->sock = bench_udp(t, BENCH_PORT + q, 0);
			w->t = t;
			w->gate = &gate;
			w->q = q;
			w->len = bench_packet(t, w->pkt, o.size, 40000 + q, BENCH_PORT + q);
			if (pthread_create(&rt[i][q], NULL, receiver_run, r) ||
			    pthread_create(&wt[i][q], NULL, writer_run, w))
				bench_die("pthread_create failed");
		}
	}

	bench_rotate(&o, &gate, &ops, &s);

	for (i = 0; i < o.ntargets; i++) {
		if (o.t[i].na)
			continue;
		for (q = 0; q < o.queues; q++) {
			pthread_join(wt[i][q], NULL);
			pthread_cancel(rt[i][q]);
			pthread_join(rt[i][q], NULL);
		}
	}
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The write path, application -> stack: one writer thread per queue writes
 * pre-built UDP packets into the device as fast as it can; a UDP socket per
 * queue in the stack drains them with recvmmsg. The figure is packets per
 * second the sockets received, not how many were written: a driver that
 * accepts writes and then drops them must not look fast.
 *
 *	writer q  --write()-->  [kbench0 queue q]  --stack-->  UDP 10.77.0.1:9000+q
 *	(10.77.0.2:40000+q)                                     receiver q (recvmmsg)
 */
#include "bench.h"

#define BATCH	64

struct writer {
	struct bench_dev *dev;
	int q;
	size_t len;
	unsigned char pkt[BENCH_BUF];
	int err;			/* first errno a write met */
	struct bench_count written;
	struct bench_count failed;
};

struct receiver {
	int sock;
	int q;
	struct bench_count received;
};

static atomic_int stop;

static void *writer_run(void *arg)
{
	struct writer *w = arg;

	bench_pin(w->q);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		ssize_t n = bench_dev_write(w->dev, w->q, w->pkt, w->len);

		if (n == (ssize_t)w->len) {
			bench_count_add(&w->written, 1);
			continue;
		}
		if (!w->err)
			w->err = n < 0 ? errno : EMSGSIZE;
		bench_count_add(&w->failed, 1);
		/* Not a transient drop but a dead device: stop hammering it. */
		if (n < 0 && (errno == EBADF || errno == EBADFD || errno == EINVAL))
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

int main(int argc, char **argv)
{
	struct writer w[BENCH_MAXQ];
	struct receiver r[BENCH_MAXQ];
	pthread_t wt[BENCH_MAXQ], rt[BENCH_MAXQ];
	unsigned long rx0, rx1, tx0, tx1, failed;
	struct bench_opts o;
	struct bench_dev d;
	char workload[64];
	double t0, t1;
	int ret, q;

	bench_parse(argc, argv, &o, "write path: packets/s a UDP socket receives from a writer on the device");
	/* The veth ceiling shares its row's name; dev=veth tells them apart. */
	snprintf(workload, sizeof(workload), "write-%zu-q%d", o.size, o.queues);
	bench_netns();
	ret = bench_dev_open(&d, &o);
	if (ret == -EINVAL && o.queues > 1) {
		d.veth = 0;
		bench_result(workload, &d, "na=multi-queue-unsupported");
		return 0;
	}
	if (ret < 0)
		bench_die("%s: TUNSETIFF: %s", ktun_path(), strerror(-ret));

	memset(w, 0, sizeof(w));
	memset(r, 0, sizeof(r));
	for (q = 0; q < o.queues; q++) {
		r[q].q = q;
		r[q].sock = bench_udp(BENCH_PORT + q, 0);
		w[q].dev = &d;
		w[q].q = q;
		w[q].len = bench_packet(w[q].pkt, o.size, 40000 + q, BENCH_PORT + q);
	}
	for (q = 0; q < o.queues; q++) {
		if (pthread_create(&rt[q], NULL, receiver_run, &r[q]) ||
		    pthread_create(&wt[q], NULL, writer_run, &w[q]))
			bench_die("pthread_create failed");
	}

	bench_sleep(bench_warmup(&o));
	t0 = bench_now();
	rx0 = tx0 = 0;
	for (q = 0; q < o.queues; q++) {
		rx0 += bench_count_get(&r[q].received);
		tx0 += bench_count_get(&w[q].written);
	}
	bench_sleep(o.secs);
	t1 = bench_now();
	rx1 = tx1 = failed = 0;
	for (q = 0; q < o.queues; q++) {
		rx1 += bench_count_get(&r[q].received);
		tx1 += bench_count_get(&w[q].written);
		failed += bench_count_get(&w[q].failed);
	}

	atomic_store(&stop, 1);
	for (q = 0; q < o.queues; q++) {
		pthread_join(wt[q], NULL);
		pthread_cancel(rt[q]);
		pthread_join(rt[q], NULL);
	}
	if (rx1 == rx0) {
		fprintf(stderr, "%s: nothing received (%lu written, %lu failed, first error %s)\n",
			workload, tx1, failed, w[0].err ? strerror(w[0].err) : "none");
		return 1;
	}
	bench_result(workload, &d, "pps=%.0f wpps=%.0f loss=%.1f%% werr=%lu secs=%.2f",
		     (rx1 - rx0) / (t1 - t0), (tx1 - tx0) / (t1 - t0),
		     tx1 > tx0 && tx1 - tx0 > rx1 - rx0 ?
		     100.0 * ((tx1 - tx0) - (rx1 - rx0)) / (tx1 - tx0) : 0.0,
		     failed, t1 - t0);
	return 0;
}

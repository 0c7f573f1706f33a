// SPDX-License-Identifier: GPL-2.0
/* Copyright (C) 2026 The ktun authors. */
/*
 * The read path, stack -> application: one UDP sender thread per flow pushes
 * datagrams with sendmmsg to an address routed through the device; one reader
 * thread per queue drains its fd. The figure is packets per second the
 * readers got, of the expected size: what the stack sent and the device
 * dropped does not count.
 *
 *	sender f (UDP 10.77.0.1:port f) --stack--> [kbench0 queue q] --read()--> reader q
 *	                                   to 10.77.0.2:9000
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
	int sock;
	int cpu;
	size_t plen;
	int err;
	struct bench_count sent;
};

struct reader {
	struct bench_dev *dev;
	int q;
	size_t size;
	struct bench_count got;
	struct bench_count other;	/* reads of another size: not ours */
};

static atomic_int stop;

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
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		int n = sendmmsg(s->sock, msgs, BATCH, 0);

		if (n > 0) {
			bench_count_add(&s->sent, n);
		} else if (n < 0 && errno != EINTR && errno != EAGAIN &&
			   errno != ENOBUFS) {
			s->err = errno;
			break;
		}
	}
	return NULL;
}

/* Runs until cancelled: read() is a cancellation point. */
static void *reader_run(void *arg)
{
	struct reader *r = arg;
	unsigned char buf[BENCH_BUF];

	bench_pin(r->q + 1);
	for (;;) {
		ssize_t n = bench_dev_read(r->dev, r->q, buf, sizeof(buf));

		if (n == (ssize_t)r->size)
			bench_count_add(&r->got, 1);
		else if (n >= 0)
			bench_count_add(&r->other, 1);
		else if (errno != EINTR && errno != EAGAIN)
			bench_die("read queue %d: %s", r->q, strerror(errno));
	}
	return NULL;
}

/* Which queue a datagram from @sock lands on; -1 if none within a second. */
static int probe(struct bench_dev *d, int sock, uint16_t port)
{
	struct pollfd pfd[BENCH_MAXQ];
	unsigned char buf[BENCH_BUF];
	double end = bench_now() + 1;

	if (send(sock, "probe", 5, 0) != 5)
		bench_die("probe send: %s", strerror(errno));
	for (int q = 0; q < d->nfds; q++)
		pfd[q] = (struct pollfd){ .fd = d->fds[q], .events = POLLIN };
	while (bench_now() < end) {
		if (poll(pfd, d->nfds, 100) <= 0)
			continue;
		for (int q = 0; q < d->nfds; q++) {
			struct iphdr *ip = (struct iphdr *)buf;
			struct udphdr *uh;
			ssize_t n;

			if (!(pfd[q].revents & POLLIN))
				continue;
			n = bench_dev_read(d, q, buf, sizeof(buf));
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
 * Picks one sender socket per queue. Returns how many queues got a flow of
 * their own; the rest share whatever ports are left.
 */
static int pick_flows(struct bench_dev *d, struct sender *s, int queues)
{
	int socks[PROBE_PORTS];
	int found = 0, next = 0, i, q;

	for (q = 0; q < queues; q++)
		s[q].sock = -1;
	for (i = 0; i < PROBE_PORTS && found < queues; i++) {
		socks[i] = bench_udp(20000 + i, BENCH_PORT);
		if (queues == 1) {
			q = 0;
		} else {
			q = probe(d, socks[i], 20000 + i);
			if (q < 0)
				bench_die("probe: datagram from port %d never reached a queue", 20000 + i);
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

int main(int argc, char **argv)
{
	struct sender s[BENCH_MAXQ];
	struct reader r[BENCH_MAXQ];
	pthread_t st[BENCH_MAXQ], rt[BENCH_MAXQ];
	unsigned long got0 = 0, got1 = 0, sent0 = 0, sent1 = 0, other = 0;
	unsigned long perq[BENCH_MAXQ];
	struct bench_opts o;
	struct bench_dev d;
	char workload[64], qs[128] = "";
	double t0, t1;
	int ret, q, flows;

	bench_parse(argc, argv, &o, "read path: packets/s a reader gets from the device, sent by a UDP socket");
	/* The veth ceiling shares its row's name; dev=veth tells them apart. */
	snprintf(workload, sizeof(workload), "read-%zu-q%d", o.size, o.queues);
	bench_netns();
	ret = bench_dev_open(&d, &o);
	if (ret == -EINVAL && o.queues > 1) {
		bench_result(workload, &d, "na=multi-queue-unsupported");
		return 0;
	}
	if (ret < 0)
		bench_die("%s: TUNSETIFF: %s", ktun_path(), strerror(-ret));

	memset(s, 0, sizeof(s));
	memset(r, 0, sizeof(r));
	flows = pick_flows(&d, s, o.queues);
	for (q = 0; q < o.queues; q++) {
		s[q].cpu = q;
		s[q].plen = o.size - sizeof(struct iphdr) - sizeof(struct udphdr);
		r[q].dev = &d;
		r[q].q = q;
		r[q].size = o.size;
	}
	for (q = 0; q < o.queues; q++) {
		if (pthread_create(&rt[q], NULL, reader_run, &r[q]) ||
		    pthread_create(&st[q], NULL, sender_run, &s[q]))
			bench_die("pthread_create failed");
	}

	bench_sleep(bench_warmup(&o));
	t0 = bench_now();
	for (q = 0; q < o.queues; q++) {
		perq[q] = bench_count_get(&r[q].got);
		got0 += perq[q];
		sent0 += bench_count_get(&s[q].sent);
	}
	bench_sleep(o.secs);
	t1 = bench_now();
	for (q = 0; q < o.queues; q++) {
		unsigned long n = bench_count_get(&r[q].got);

		perq[q] = n - perq[q];
		got1 += n;
		sent1 += bench_count_get(&s[q].sent);
		other += bench_count_get(&r[q].other);
	}

	atomic_store(&stop, 1);
	for (q = 0; q < o.queues; q++) {
		pthread_join(st[q], NULL);
		pthread_cancel(rt[q]);
		pthread_join(rt[q], NULL);
	}
	if (got1 == got0) {
		fprintf(stderr, "%s: nothing read (%lu sent, %lu reads of another size, send error %s)\n",
			workload, sent1, other, s[0].err ? strerror(s[0].err) : "none");
		return 1;
	}
	for (q = 0; q < o.queues && o.queues > 1; q++)
		snprintf(qs + strlen(qs), sizeof(qs) - strlen(qs), " q%d=%.0f", q,
			 perq[q] / (t1 - t0));
	bench_result(workload, &d, "pps=%.0f spps=%.0f loss=%.1f%% flows=%d%s secs=%.2f",
		     (got1 - got0) / (t1 - t0), (sent1 - sent0) / (t1 - t0),
		     sent1 - sent0 > got1 - got0 ?
		     100.0 * ((sent1 - sent0) - (got1 - got0)) / (sent1 - sent0) : 0.0,
		     flows, qs, t1 - t0);
	return 0;
}
